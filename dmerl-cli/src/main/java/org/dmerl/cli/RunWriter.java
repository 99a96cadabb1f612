package org.dmerl.cli;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

import org.dmerl.algo.Losses;
import org.dmerl.algo.TrainingListener;
import org.dmerl.algo.TrainingResult;

/**
 * Writes a run directory: {@code progress.csv} (one row per finished episode), {@code eval.csv}, {@code final.json};
 * and shows progress (a bar on a terminal, plain periodic lines otherwise). Rows are flushed as they come so that a
 * killed run keeps everything up to its last row.
 */
public final class RunWriter implements TrainingListener, AutoCloseable {

    public static final String PROGRESS_HEADER =
            "env_step,wall_seconds,episode_return,episode_length,critic_loss,actor_loss,alpha,entropy,sps";
    public static final String EVAL_HEADER = "env_step,return_mean,return_std,episodes";

    private final Path dir;
    private final BufferedWriter progress, eval;
    private final PrintStream console;
    private final boolean terminal;
    private final long logEvery;
    private boolean json;

    /** Console lines as JSON objects (one per line) instead of text. */
    public RunWriter json(boolean value) {
        json = value;
        return this;
    }
    private long nextLog;

    public RunWriter(Path dir, PrintStream console, long totalSteps, long logEvery, boolean append) {
        this.dir = dir;
        this.console = console;
        this.terminal = System.console() != null && System.console().isTerminal();
        this.logEvery = logEvery > 0 ? logEvery : Math.max(1, totalSteps / 20);
        this.nextLog = this.logEvery;
        try {
            Files.createDirectories(dir);
            progress = open(dir.resolve("progress.csv"), PROGRESS_HEADER, append);
            eval = open(dir.resolve("eval.csv"), EVAL_HEADER, append);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write run directory " + dir + ": " + e.getMessage(), e);
        }
    }

    private static BufferedWriter open(Path file, String header, boolean append) throws IOException {
        boolean fresh = !append || !Files.exists(file);
        BufferedWriter w = fresh ? Files.newBufferedWriter(file)
                : Files.newBufferedWriter(file, java.nio.file.StandardOpenOption.APPEND);
        if (fresh) {
            w.write(header);
            w.newLine();
            w.flush();
        }
        return w;
    }

    @Override
    public void onEpisode(Episode e) {
        Losses l = e.losses();
        line(progress, String.format(Locale.ROOT, "%d,%.3f,%.6g,%d,%.6g,%.6g,%.6g,%.6g,%.1f", e.envStep(), e.wallSeconds(),
                e.episodeReturn(), e.episodeLength(), l.criticLoss(), l.actorLoss(), l.alpha(), l.entropy(),
                e.stepsPerSecond()));
    }

    @Override
    public void onEvaluation(Evaluation e) {
        line(eval, String.format(Locale.ROOT, "%d,%.6g,%.6g,%d", e.envStep(), e.returnMean(), e.returnStd(), e.episodes()));
        if (json) {
            console.printf(Locale.ROOT, "{\"event\": \"eval\", \"env_step\": %d, \"wall_seconds\": %.3f, \"return_mean\": %.6g, "
                    + "\"return_std\": %.6g, \"episodes\": %d}%n", e.envStep(), e.wallSeconds(), e.returnMean(), e.returnStd(), e.episodes());
        } else if (!terminal) {
            console.printf(Locale.ROOT, "eval  step %8d  return %9.2f ± %.2f%n", e.envStep(), e.returnMean(), e.returnStd());
        }
    }

    @Override
    public void onProgress(long step, long total, double wall, double lastEval) {
        if (json) {
            if (step >= nextLog || step == total) {
                nextLog += logEvery;
                console.printf(Locale.ROOT, "{\"event\": \"progress\", \"env_step\": %d, \"total_steps\": %d, \"wall_seconds\": %.3f, "
                        + "\"steps_per_second\": %.2f}%n", step, total, wall, step / Math.max(wall, 1e-9));
            }
        } else if (terminal) {
            int width = 30, filled = (int) (width * step / Math.max(1, total));
            console.printf(Locale.ROOT, "\r[%s%s] %d/%d  %.0f steps/s  eval %.1f   ", "#".repeat(filled),
                    ".".repeat(width - filled), step, total, step / Math.max(wall, 1e-9), lastEval);
            if (step == total) console.println();
        } else if (step >= nextLog || step == total) {
            nextLog += logEvery;
            console.printf(Locale.ROOT, "train step %8d/%d  %6.0f steps/s  %7.1f s%n", step, total, step / Math.max(wall, 1e-9), wall);
        }
    }

    @Override
    public void onPolicy(long envStep, org.dmerl.policy.StochasticPolicy policy, org.dmerl.algo.Config cfg,
                         org.dmerl.env.RunningMeanStd observationStatistics) {
        org.dmerl.algo.TrainedPolicy.save(dir.resolve(org.dmerl.algo.TrainedPolicy.FILE), policy, cfg, observationStatistics);
    }

    private static void line(BufferedWriter w, String s) {
        try {
            w.write(s);
            w.newLine();
            w.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void writeFinal(TrainingResult r) {
        String json = String.format(Locale.ROOT, """
                {
                  "algo": "%s",
                  "env": "%s",
                  "seed": %d,
                  "env_steps": %d,
                  "agent_steps": %d,
                  "grad_steps": %d,
                  "wall_seconds": %.3f,
                  "steps_per_second": %.2f,
                  "steps_per_second_learning": %s,
                  "eval_return_mean": %s,
                  "eval_return_std": %s,
                  "threads": %d
                }
                """, r.algo(), r.env(), r.seed(), r.envSteps(), r.agentSteps(), r.gradSteps(), r.wallSeconds(),
                r.stepsPerSecond(), num(r.learningStepsPerSecond()), num(r.evalReturnMean()), num(r.evalReturnStd()),
                r.threads());
        writeAtomically(dir.resolve("final.json"), json);
    }

    private static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "null";
    }

    /**
     * Drops CSV rows written after {@code envStep} (a killed run may have logged past its last checkpoint), so that
     * a resumed run appends exactly what the uninterrupted run would have written.
     */
    public static void truncateAfter(Path dir, long envStep) {
        for (String name : new String[] {"progress.csv", "eval.csv"}) {
            Path file = dir.resolve(name);
            if (!Files.exists(file)) continue;
            try {
                java.util.List<String> lines = Files.readAllLines(file);
                java.util.List<String> kept = new java.util.ArrayList<>();
                for (int i = 0; i < lines.size(); i++) {
                    String line = lines.get(i);
                    if (i == 0) {
                        kept.add(line);
                        continue;
                    }
                    int comma = line.indexOf(',');
                    try {
                        if (comma > 0 && Long.parseLong(line.substring(0, comma)) <= envStep) kept.add(line);
                    } catch (NumberFormatException e) {
                        // a half-written last line of a killed run
                    }
                }
                writeAtomically(file, String.join("\n", kept) + "\n");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
            }
        }
    }

    /** Temp file, then rename: a crash never leaves a half-written file under the final name. */
    public static void writeAtomically(Path file, String content) {
        try {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, content);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            progress.close();
            eval.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
