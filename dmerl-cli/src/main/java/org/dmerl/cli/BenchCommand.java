package org.dmerl.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dmerl bench}: speed benchmarks (GEMM, SAC update, diffusion sampling). */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Run speed benchmarks.")
public final class BenchCommand implements Callable<Integer> {

    @Option(names = "--only", split = ",", description = "benchmarks to run, of: ${COMPLETION-CANDIDATES} (default: all)")
    java.util.List<Benchmarks.Kind> only = java.util.List.of(Benchmarks.Kind.values());

    @Override
    public Integer call() {
        return Benchmarks.run(System.out, java.util.EnumSet.copyOf(only));
    }
}
