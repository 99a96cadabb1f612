package org.dmerl.env;

import java.util.Arrays;

/**
 * A snapshot of per-dimension running moments: the mean, the population variance and how many samples they
 * summarise. Immutable (arrays are copied in and out), so checkpoints can store it as it is.
 *
 * <p>Unlike Gymnasium, which starts from a pseudo-count of 1e-4, the empty statistics have count 0, so after any
 * number of samples the moments are exactly those of the samples.
 */
public record RunningMeanStd(double[] mean, double[] var, double count) {

    public RunningMeanStd {
        if (mean.length != var.length) {
            throw new IllegalArgumentException("RunningMeanStd mean has length " + mean.length
                    + " but var has length " + var.length);
        }
        if (!(count >= 0) || Double.isInfinite(count)) {
            throw new IllegalArgumentException("RunningMeanStd count must be finite and >= 0, got " + count);
        }
        for (int i = 0; i < var.length; i++) {
            if (!(var[i] >= 0) || !Double.isFinite(mean[i])) {
                throw new IllegalArgumentException("RunningMeanStd needs finite mean and var >= 0; dimension " + i
                        + " has mean " + mean[i] + ", var " + var[i]);
            }
        }
        mean = mean.clone();
        var = var.clone();
    }

    /** No samples yet: mean 0 and variance 1, so normalising with them changes nothing but the clip. */
    public static RunningMeanStd empty(int dim) {
        double[] ones = new double[dim];
        Arrays.fill(ones, 1.0);
        return new RunningMeanStd(new double[dim], ones, 0);
    }

    /** The moments of {@code samples} (rows are samples), population variance. */
    public static RunningMeanStd of(double[][] samples) {
        if (samples.length == 0) {
            throw new IllegalArgumentException("RunningMeanStd.of needs at least one sample");
        }
        var moments = new Moments(empty(samples[0].length));
        for (double[] sample : samples) moments.add(sample);
        return moments.snapshot();
    }

    @Override
    public double[] mean() {
        return mean.clone();
    }

    @Override
    public double[] var() {
        return var.clone();
    }

    public int dim() {
        return mean.length;
    }

    /**
     * Combines two summaries of disjoint sample sets (Chan et al.'s parallel update):
     * {@code M2 = M2_a + M2_b + δ²·n_a·n_b / n}.
     */
    public RunningMeanStd merge(RunningMeanStd other) {
        if (other.dim() != dim()) {
            throw new IllegalArgumentException("cannot merge RunningMeanStd of dim " + dim() + " with dim " + other.dim());
        }
        double total = count + other.count;
        if (total == 0) return this;
        double[] newMean = new double[dim()], newVar = new double[dim()];
        for (int i = 0; i < dim(); i++) {
            double delta = other.mean[i] - mean[i];
            newMean[i] = mean[i] + delta * other.count / total;
            double m2 = var[i] * count + other.var[i] * other.count + delta * delta * count * other.count / total;
            newVar[i] = m2 / total;
        }
        return new RunningMeanStd(newMean, newVar, total);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RunningMeanStd(double[] m, double[] v, double c)
                && Arrays.equals(mean, m) && Arrays.equals(var, v) && Double.compare(count, c) == 0;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(mean) + Arrays.hashCode(var)) + Double.hashCode(count);
    }

    @Override
    public String toString() {
        return "RunningMeanStd(mean=" + Arrays.toString(mean) + ", var=" + Arrays.toString(var) + ", count=" + count + ")";
    }

    /** Stores the moments as {@code <prefix>/mean}, {@code /var} and {@code /count} (checkpoints, saved policies). */
    public void writeTo(org.dmerl.tensor.TensorArchive a, String prefix) {
        a.putDoubles(prefix + "/mean", mean);
        a.putDoubles(prefix + "/var", var);
        a.putDoubles(prefix + "/count", new double[] {count});
    }

    /** The moments {@link #writeTo} stored under {@code prefix}, or null if the archive holds none. */
    public static RunningMeanStd readFrom(org.dmerl.tensor.TensorArchive a, String prefix) {
        if (!a.contains(prefix + "/mean")) return null;
        return new RunningMeanStd(a.getDoubles(prefix + "/mean"), a.getDoubles(prefix + "/var"),
                a.getDoubles(prefix + "/count")[0]);
    }

    /** clip((x − mean) / sqrt(var + ε), −clip, clip), as {@link NormalizeObservation} applies it. */
    public double[] normalize(double[] x, double epsilon, double clip) {
        if (x.length != mean.length) {
            throw new IllegalArgumentException("observation has length " + x.length + ", expected " + mean.length);
        }
        double[] out = new double[x.length];
        new Moments(this).normalize(x, out, epsilon, clip);
        return out;
    }

    /** The mutable accumulator behind the snapshots: Welford's update, one sample at a time, in place. */
    static final class Moments {
        private final double[] mean;
        private final double[] var;
        private double count;

        Moments(RunningMeanStd start) {
            mean = start.mean();
            var = start.var();
            count = start.count();
        }

        int dim() {
            return mean.length;
        }

        double variance(int i) {
            return var[i];
        }

        void add(double[] x) {
            if (x.length != mean.length) {
                throw new IllegalArgumentException("sample has length " + x.length + ", expected " + mean.length);
            }
            double previousCount = count;
            count += 1;
            for (int i = 0; i < x.length; i++) {
                double delta = x[i] - mean[i];
                mean[i] += delta / count;
                // M2 grows by δ·(x − new mean); var is M2 / n. The old var is ignored when there were no samples.
                double m2 = (previousCount == 0 ? 0 : var[i] * previousCount) + delta * (x[i] - mean[i]);
                var[i] = m2 / count;
            }
        }

        /** Normalises {@code x} into {@code out}: clip((x − mean) / sqrt(var + ε), −clip, clip). */
        void normalize(double[] x, double[] out, double epsilon, double clip) {
            for (int i = 0; i < x.length; i++) {
                out[i] = Math.clamp((x[i] - mean[i]) / Math.sqrt(var[i] + epsilon), -clip, clip);
            }
        }

        RunningMeanStd snapshot() {
            return new RunningMeanStd(mean, var, count);
        }
    }
}
