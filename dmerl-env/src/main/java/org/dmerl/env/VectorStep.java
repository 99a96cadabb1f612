package org.dmerl.env;

import java.util.List;
import java.util.Map;

/**
 * One step of a {@link VectorEnv}; index i is copy i. For a copy whose episode ended ({@code terminated[i] ||
 * truncated[i]}), {@code observations[i]} already starts the next episode and {@code finalObservations[i]} is the
 * observation that ended this one; for the other copies {@code finalObservations[i]} is null.
 */
public record VectorStep(double[][] observations, double[] rewards, boolean[] terminated, boolean[] truncated,
                         double[][] finalObservations, List<Map<String, Double>> terms) {

    public VectorStep {
        int n = observations.length;
        if (rewards.length != n || terminated.length != n || truncated.length != n
                || finalObservations.length != n || terms.size() != n) {
            throw new IllegalArgumentException("VectorStep fields must all have one entry per copy (" + n
                    + "), got rewards " + rewards.length + ", terminated " + terminated.length + ", truncated "
                    + truncated.length + ", finalObservations " + finalObservations.length + ", terms " + terms.size());
        }
        terms = List.copyOf(terms);
    }

    public int numEnvs() {
        return observations.length;
    }

    /** {@return whether copy {@code i}'s episode ended on this step (and it was reset)} */
    public boolean done(int i) {
        return terminated[i] || truncated[i];
    }

    /**
     * {@return the observation that followed copy {@code i}'s action: its final observation if the episode ended,
     * else its current one} This is the s′ to store in a replay buffer.
     */
    public double[] nextObservation(int i) {
        return finalObservations[i] != null ? finalObservations[i] : observations[i];
    }
}
