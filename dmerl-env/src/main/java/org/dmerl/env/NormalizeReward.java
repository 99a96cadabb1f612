package org.dmerl.env;

import java.util.Objects;

/**
 * Scales rewards as Gymnasium's {@code NormalizeReward} (used by PPO): a running discounted return
 * G ← γ·G + r is tracked per episode, and each reward is divided by the running standard deviation of G, then
 * clipped to ±clip. G restarts at every episode end. The mean is not subtracted: shifting rewards would change
 * which behaviour is optimal when episodes can terminate.
 */
public final class NormalizeReward extends Wrapper {

    public static final double DEFAULT_EPSILON = 1e-8;
    public static final double DEFAULT_CLIP = 10.0;

    private final double gamma, epsilon, clip;
    private RunningMeanStd.Moments moments = new RunningMeanStd.Moments(RunningMeanStd.empty(1));
    private final double[] returnSample = new double[1];
    private double discountedReturn;
    private boolean frozen;

    public NormalizeReward(Env env, double gamma) {
        this(env, gamma, DEFAULT_EPSILON, DEFAULT_CLIP);
    }

    public NormalizeReward(Env env, double gamma, double epsilon, double clip) {
        super(Objects.requireNonNull(env, "NormalizeReward needs an env, got null"));
        if (!(gamma > 0 && gamma <= 1)) throw new IllegalArgumentException("NormalizeReward gamma must be in (0, 1], got " + gamma);
        if (!(epsilon > 0)) throw new IllegalArgumentException("NormalizeReward epsilon must be > 0, got " + epsilon);
        if (!(clip > 0)) throw new IllegalArgumentException("NormalizeReward clip must be > 0, got " + clip);
        this.gamma = gamma;
        this.epsilon = epsilon;
        this.clip = clip;
    }

    @Override
    public double[] reset(long seed) {
        discountedReturn = 0;
        return env.reset(seed);
    }

    @Override
    public double[] reset() {
        discountedReturn = 0;
        return env.reset();
    }

    @Override
    public StepResult step(double[] action) {
        StepResult r = env.step(action);
        if (!frozen) {
            discountedReturn = discountedReturn * gamma + r.reward();
            returnSample[0] = discountedReturn;
            moments.add(returnSample);
        }
        double scaled = Math.clamp(r.reward() / Math.sqrt(moments.variance(0) + epsilon), -clip, clip);
        if (r.done()) discountedReturn = 0;
        return new StepResult(r.observation(), scaled, r.terminated(), r.truncated(), r.terms());
    }

    /** While frozen the statistics stay as they are (rewards are still scaled). */
    public void freeze(boolean frozen) {
        this.frozen = frozen;
    }

    public RunningMeanStd statistics() {
        return moments.snapshot();
    }

    public void setStatistics(RunningMeanStd statistics) {
        if (statistics.dim() != 1) throw new IllegalArgumentException("reward statistics must have dim 1, got " + statistics.dim());
        moments = new RunningMeanStd.Moments(statistics);
    }
}
