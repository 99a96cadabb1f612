package org.dmerl.env;

/** Truncates an episode after {@code maxEpisodeSteps} steps: the only source of time-limit truncation. */
public final class TimeLimit extends Wrapper {

    private final int maxEpisodeSteps;
    private int elapsedSteps;

    public TimeLimit(Env env, int maxEpisodeSteps) {
        super(env);
        if (maxEpisodeSteps <= 0) {
            throw new IllegalArgumentException("maxEpisodeSteps must be positive, got " + maxEpisodeSteps);
        }
        this.maxEpisodeSteps = maxEpisodeSteps;
    }

    public int maxEpisodeSteps() {
        return maxEpisodeSteps;
    }

    public int elapsedSteps() {
        return elapsedSteps;
    }

    @Override
    public double[] reset(long seed) {
        elapsedSteps = 0;
        return env.reset(seed);
    }

    @Override
    public double[] reset() {
        elapsedSteps = 0;
        return env.reset();
    }

    @Override
    public StepResult step(double[] action) {
        StepResult result = env.step(action);
        elapsedSteps++;
        return elapsedSteps >= maxEpisodeSteps ? result.withTruncated(true) : result;
    }
}
