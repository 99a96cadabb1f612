package org.dmerl.env;

import java.util.Objects;

/**
 * Normalises observations with running per-dimension moments, as Gymnasium's {@code NormalizeObservation}:
 * {@code clip((obs − mean) / sqrt(var + ε), −10, 10)} with ε = 1e-8. Every observation this wrapper returns (from
 * reset and step) first updates the moments, unless {@linkplain #freeze(boolean) frozen} for evaluation.
 *
 * <p>The moments are kept in double precision and updated one sample at a time with Welford's method; see
 * {@link RunningMeanStd} for the snapshot that checkpoints save.
 */
public final class NormalizeObservation extends Wrapper {

    public static final double DEFAULT_EPSILON = 1e-8;
    public static final double DEFAULT_CLIP = 10.0;

    private final double epsilon;
    private final double clip;
    private final BoxSpace observationSpace;
    private RunningMeanStd.Moments moments;
    private boolean frozen;

    public NormalizeObservation(Env env) {
        this(env, DEFAULT_EPSILON, DEFAULT_CLIP);
    }

    public NormalizeObservation(Env env, double epsilon, double clip) {
        super(Objects.requireNonNull(env, "NormalizeObservation needs an env, got null"));
        if (!(epsilon > 0) || Double.isInfinite(epsilon)) {
            throw new IllegalArgumentException("NormalizeObservation epsilon must be finite and > 0, got " + epsilon);
        }
        if (!(clip > 0)) {
            throw new IllegalArgumentException("NormalizeObservation clip must be > 0, got " + clip);
        }
        int dim = env.observationSpace().dim();
        if (dim == 0) {
            throw new IllegalArgumentException("NormalizeObservation needs a non-empty observation space, "
                    + env.id() + " has dim 0");
        }
        this.epsilon = epsilon;
        this.clip = clip;
        this.observationSpace = BoxSpace.uniform(dim, -clip, clip);
        this.moments = new RunningMeanStd.Moments(RunningMeanStd.empty(dim));
    }

    /** Normalised observations lie in [−clip, clip] whatever the inner bounds were. */
    @Override
    public BoxSpace observationSpace() {
        return observationSpace;
    }

    @Override
    public double[] reset(long seed) {
        return observe(env.reset(seed));
    }

    @Override
    public double[] reset() {
        return observe(env.reset());
    }

    @Override
    public StepResult step(double[] action) {
        StepResult result = env.step(action);
        return result.withObservation(observe(result.observation()));
    }

    private double[] observe(double[] raw) {
        if (!frozen) moments.add(raw);
        return normalize(raw);
    }

    /** Normalises a raw observation with the current moments, without updating them. */
    public double[] normalize(double[] rawObservation) {
        if (rawObservation.length != moments.dim()) {
            throw new IllegalArgumentException("observation has length " + rawObservation.length
                    + ", expected " + moments.dim());
        }
        double[] out = new double[rawObservation.length];
        moments.normalize(rawObservation, out, epsilon, clip);
        return out;
    }

    /** While frozen (e.g. during evaluation) observations are normalised but the moments stay as they are. */
    public void freeze(boolean frozen) {
        this.frozen = frozen;
    }

    public boolean isFrozen() {
        return frozen;
    }

    /** {@return a snapshot of the current moments} */
    public RunningMeanStd statistics() {
        return moments.snapshot();
    }

    /** Replaces the moments, e.g. with those loaded from a checkpoint. */
    public void setStatistics(RunningMeanStd statistics) {
        if (statistics.dim() != moments.dim()) {
            throw new IllegalArgumentException("statistics have dim " + statistics.dim()
                    + ", but " + env.id() + " observations have dim " + moments.dim());
        }
        moments = new RunningMeanStd.Moments(statistics);
    }

    public double epsilon() {
        return epsilon;
    }

    public double clip() {
        return clip;
    }
}
