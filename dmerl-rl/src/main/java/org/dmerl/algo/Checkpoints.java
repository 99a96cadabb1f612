package org.dmerl.algo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

import org.dmerl.env.Env;
import org.dmerl.env.RunningMeanStd;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.TensorArchive;

/**
 * Where a run's checkpoints go, and the checkpoint to continue from (null: a fresh run). The latest checkpoint is
 * {@code checkpoint.ckpt}; writing a new one keeps the one before as {@code checkpoint.prev.ckpt}, so a run killed
 * while writing (or a damaged file) still has a checkpoint to resume from.
 */
public record Checkpoints(Path dir, TensorArchive resumeFrom) {

    public static final String LATEST = "checkpoint.ckpt", PREVIOUS = "checkpoint.prev.ckpt";

    /** Writes {@code a} as the latest checkpoint; the latest so far becomes the previous one. */
    public void write(TensorArchive a) {
        try {
            Files.createDirectories(dir);
            Path latest = dir.resolve(LATEST);
            if (Files.exists(latest)) Files.move(latest, dir.resolve(PREVIOUS), StandardCopyOption.REPLACE_EXISTING);
            a.write(latest);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The latest readable checkpoint in {@code dir}; a damaged latest one falls back to the previous with a warning. */
    public static TensorArchive readLatest(Path dir) {
        Path latest = dir.resolve(LATEST), previous = dir.resolve(PREVIOUS);
        if (!Files.exists(latest) && !Files.exists(previous)) {
            throw new IllegalArgumentException("no checkpoint in " + dir + " (nothing to resume)");
        }
        try {
            return TensorArchive.read(latest);
        } catch (IllegalArgumentException e) {
            if (!Files.exists(previous)) throw e;
            System.err.println("dmerl: warning: " + e.getMessage() + "; resuming from " + previous);
            return TensorArchive.read(previous);
        }
    }

    /** True if {@code dir} holds a checkpoint to resume from. */
    public static boolean exist(Path dir) {
        return Files.exists(dir.resolve(LATEST)) || Files.exists(dir.resolve(PREVIOUS));
    }

    /** The RNG states of every layer of {@code env}'s wrapper stack, as {@code <prefix>0, <prefix>1, …}. */
    public static void writeEnvRngs(TensorArchive a, String prefix, Env env) {
        List<Rng> rngs = new ArrayList<>();
        env.collectRngs(rngs);
        for (int i = 0; i < rngs.size(); i++) a.putLongs(prefix + i, rngs.get(i).state());
        a.putLongs(prefix + "_count", new long[] {rngs.size()});
    }

    /** Restores what {@link #writeEnvRngs} stored; refuses a checkpoint of another wrapper stack. */
    public static void readEnvRngs(TensorArchive a, String prefix, Env env) {
        List<Rng> rngs = new ArrayList<>();
        env.collectRngs(rngs);
        if (a.getLongs(prefix + "_count")[0] != rngs.size()) {
            throw new IllegalArgumentException("checkpoint was written for a different environment stack");
        }
        for (int i = 0; i < rngs.size(); i++) rngs.get(i).setState(a.getLongs(prefix + i));
    }

    /** The normalisation statistics stored under {@code prefix}; a clear error if the checkpoint holds none. */
    public static RunningMeanStd readStatistics(TensorArchive a, String prefix) {
        RunningMeanStd stats = RunningMeanStd.readFrom(a, prefix);
        if (stats == null) throw new IllegalArgumentException("checkpoint holds no " + prefix + " statistics for this env stack");
        return stats;
    }
}
