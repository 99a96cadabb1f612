package org.dmerl.env;

import java.util.Map;

/**
 * One transition. {@code terms} breaks the reward into named parts (e.g. {@code reward_forward}, {@code reward_ctrl});
 * it may be empty, and wrappers may add entries (e.g. {@code episode_return} at the end of an episode).
 */
public record StepResult(double[] observation, double reward, boolean terminated, boolean truncated,
                         Map<String, Double> terms) {

    public StepResult(double[] observation, double reward, boolean terminated, boolean truncated) {
        this(observation, reward, terminated, truncated, Map.of());
    }

    public boolean done() {
        return terminated || truncated;
    }

    public StepResult withTruncated(boolean value) {
        return new StepResult(observation, reward, terminated, value, terms);
    }

    public StepResult withObservation(double[] value) {
        return new StepResult(value, reward, terminated, truncated, terms);
    }

    public StepResult withTerms(Map<String, Double> value) {
        return new StepResult(observation, reward, terminated, truncated, value);
    }
}
