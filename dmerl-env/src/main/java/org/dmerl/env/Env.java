package org.dmerl.env;

import java.util.Optional;

/**
 * A reinforcement-learning environment with Gymnasium's semantics.
 *
 * <p>{@link #reset(long)} seeds the environment's random stream and starts an episode; {@link #reset()} starts the
 * next episode from the stream as it is. {@link #step(double[])} returns the next observation, the reward,
 * {@code terminated} (a terminal state of the MDP: do not bootstrap) and {@code truncated} (the episode was cut
 * from outside the MDP, e.g. by {@link TimeLimit}: bootstrap from the next observation).
 */
public interface Env extends AutoCloseable {

    /** Registry id, e.g. {@code Pendulum-v1}. */
    String id();

    BoxSpace observationSpace();

    BoxSpace actionSpace();

    /** Seeds the environment's RNG with {@code seed} and starts an episode. Returns the first observation. */
    double[] reset(long seed);

    /** Starts the next episode, continuing the RNG stream of the last seeded reset. */
    double[] reset();

    /** Applies {@code action} (length {@code actionSpace().dim()}). */
    StepResult step(double[] action);

    /**
     * Adds the random generators whose state decides this env's future (for checkpoints), outermost wrapper last.
     * A checkpoint taken between episodes saves their states; restoring them makes the next {@link #reset()} identical.
     */
    default void collectRngs(java.util.List<org.dmerl.tensor.Rng> out) {}

    /** Releases native resources, if any. */
    @Override
    default void close() {}

    /** The first environment in this wrapper chain (this one included) that is an instance of {@code type}. */
    default <T> Optional<T> unwrap(Class<T> type) {
        return type.isInstance(this) ? Optional.of(type.cast(this)) : Optional.empty();
    }
}
