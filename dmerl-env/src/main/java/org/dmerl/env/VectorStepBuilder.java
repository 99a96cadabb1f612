package org.dmerl.env;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Collects the per-copy results of one vector step and applies the same-step autoreset. Public so that other
 * {@link VectorEnv} implementations (e.g. a thread pool, where each worker calls {@link #record} for its own
 * indices) share the exact semantics of {@link SyncVectorEnv}.
 */
public final class VectorStepBuilder {

    private final double[][] observations;
    private final double[] rewards;
    private final boolean[] terminated;
    private final boolean[] truncated;
    private final double[][] finalObservations;
    private final List<Map<String, Double>> terms;

    public VectorStepBuilder(int numEnvs) {
        observations = new double[numEnvs][];
        rewards = new double[numEnvs];
        terminated = new boolean[numEnvs];
        truncated = new boolean[numEnvs];
        finalObservations = new double[numEnvs][];
        // Filled by index (set, never add), so workers recording different copies do not interfere.
        terms = new ArrayList<>(Collections.nCopies(numEnvs, null));
    }

    /** Rejects a batch of actions of the wrong shape before any copy is stepped. */
    public static void checkActions(double[][] actions, int numEnvs, BoxSpace actionSpace) {
        if (actions == null || actions.length != numEnvs) {
            throw new IllegalArgumentException("vector step needs one action per copy: got "
                    + (actions == null ? "null" : actions.length + " actions") + " for " + numEnvs + " copies");
        }
        for (int i = 0; i < numEnvs; i++) actionSpace.checkShape(actions[i], "action of copy " + i);
    }

    /**
     * Records copy {@code index}'s step; if its episode ended, keeps the final observation and resets
     * {@code env} (continuing its random stream) so the row holds the next episode's first observation.
     * Different indices may be recorded from different threads.
     */
    public void record(int index, Env env, StepResult result) {
        rewards[index] = result.reward();
        terminated[index] = result.terminated();
        truncated[index] = result.truncated();
        terms.set(index, result.terms() == null ? Map.of() : result.terms());
        if (result.done()) {
            finalObservations[index] = result.observation();
            observations[index] = env.reset();
        } else {
            observations[index] = result.observation();
        }
    }

    public VectorStep build() {
        return new VectorStep(observations, rewards, terminated, truncated, finalObservations, terms);
    }
}
