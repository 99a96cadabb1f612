package org.dmerl.cli;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.dmerl.algo.Agents;
import org.dmerl.algo.Checkpoints;
import org.dmerl.env.EnvRegistry;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dmerl sweep}: a grid of training runs, each in its own JVM, at most {@code --parallel} at once with one
 * compute thread each. Finished runs (final.json present) are skipped, runs with a checkpoint are resumed, and a
 * failing run never stops the others or touches their results.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run a grid of algorithms × environments × seeds as separate processes.",
                "Example: dmerl sweep --algos sac,diffsac --envs Pendulum-v1 --seeds 1,2 --parallel 2 --steps 20000"})
public final class SweepCommand implements Callable<Integer> {

    @Option(names = "--algos", split = ",", required = true, description = "algorithms, comma-separated")
    List<String> algos;

    @Option(names = "--envs", split = ",", required = true, description = "environment ids, comma-separated")
    List<String> envs;

    @Option(names = "--seeds", split = ",", required = true, description = "seeds, comma-separated")
    List<Long> seeds;

    @Option(names = "--parallel", defaultValue = "1", description = "runs at once, one core each (default: ${DEFAULT-VALUE})")
    int parallel;

    @Option(names = "--steps", description = "real environment steps per run")
    Long steps;

    @Option(names = "--set", description = "setting for every run, e.g. --set batch_size=128 (repeatable)")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--out", defaultValue = "runs/sweep", description = "sweep directory (default: ${DEFAULT-VALUE})")
    Path out;

    /** One cell of the grid and what happened to it. */
    record Cell(String algo, String env, long seed, Path dir) {
        String name() {
            return algo + "-" + env + "-" + seed;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (parallel < 1) throw new UserError("--parallel must be ≥ 1, got " + parallel);
        for (String a : algos) Agents.checkAlgorithm(a);
        for (String e : envs) EnvRegistry.spec(e);
        for (String s : overrides) {
            if (s.startsWith("threads=")) throw new UserError("sweep runs use one thread each; drop --set threads");
        }
        Files.createDirectories(out);
        List<Cell> cells = new ArrayList<>();
        for (String env : envs) for (String algo : algos) for (long seed : seeds) {
            cells.add(new Cell(algo, env, seed, out.resolve(algo + "-" + env + "-" + seed)));
        }
        ExecutorService pool = Executors.newFixedThreadPool(parallel);
        List<Future<String>> results = new ArrayList<>();
        for (Cell c : cells) results.add(pool.submit(() -> runCell(c)));
        pool.shutdown();
        List<String> statuses = new ArrayList<>();
        for (Future<String> f : results) statuses.add(f.get());
        int failed = 0;
        System.out.printf("%-40s %s%n", "run", "status");
        for (int i = 0; i < cells.size(); i++) {
            String status = statuses.get(i);
            if (status.startsWith("FAILED")) failed++;
            System.out.printf("%-40s %s%n", cells.get(i).name(), status);
        }
        System.out.printf(Locale.ROOT, "dmerl: sweep %s: %d runs, %d failed%n", out, cells.size(), failed);
        return failed == 0 ? 0 : 1;
    }

    private String runCell(Cell c) {
        if (Files.exists(c.dir().resolve("final.json"))) return "skipped (finished)";
        boolean resume = Checkpoints.exist(c.dir());
        List<String> cmd = new ArrayList<>(javaCommand());
        cmd.add("train");
        if (resume) {
            cmd.add("--resume");
            cmd.add(c.dir().toString());
        } else {
            cmd.addAll(List.of("--algo", c.algo(), "--env", c.env(), "--seed", String.valueOf(c.seed()),
                    "--out", c.dir().toString(), "--threads", "1"));
            for (String s : overrides) cmd.addAll(List.of("--set", s));
        }
        if (steps != null) cmd.addAll(List.of("--steps", String.valueOf(steps)));
        Path log = c.dir().resolveSibling(c.dir().getFileName() + ".log");
        synchronized (System.out) {
            System.out.printf("dmerl: %s %s%n", resume ? "resuming" : "starting", c.name());
        }
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            int code = p.waitFor();
            if (code == 0) return resume ? "done (resumed)" : "done";
            return "FAILED (exit " + code + "; " + lastLine(log) + ")";
        } catch (IOException e) {
            return "FAILED (" + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "FAILED (interrupted)";
        }
    }

    private static String lastLine(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            for (int i = lines.size() - 1; i >= 0; i--) if (!lines.get(i).isBlank()) return lines.get(i).trim();
        } catch (IOException ignored) {
            // the log itself is what failed; the exit code says enough
        }
        return "see " + log;
    }

    /** This JVM's java binary and classpath, so every run uses exactly this build. */
    static List<String> javaCommand() {
        String java = ProcessHandle.current().info().command()
                .orElse(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        List<String> command = new java.util.ArrayList<>(List.of(java));
        command.addAll(JvmCheck.FLAGS);
        command.addAll(List.of("-XX:+UseParallelGC", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        return command;
    }
}
