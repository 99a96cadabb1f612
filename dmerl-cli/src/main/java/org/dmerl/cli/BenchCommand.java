package org.dmerl.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;

/** {@code dmerl bench}: speed benchmarks (GEMM, SAC update, diffusion sampling). */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Run speed benchmarks.")
public final class BenchCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        return Benchmarks.runAll(System.out);
    }
}
