package org.dmerl.env;

/**
 * N copies of one environment stepped together, with Gymnasium's {@code SAME_STEP} autoreset: a copy whose episode
 * ends is reset within the same {@link #step}, its row of {@link VectorStep#observations()} is the first
 * observation of its next episode, and the observation that ended the episode is in
 * {@link VectorStep#finalObservations()} (needed to bootstrap on truncation).
 *
 * <p>Implementations decide how copies run (in turn, on a thread pool, ...) but must give the same results as
 * stepping the copies one by one in index order.
 */
public interface VectorEnv extends AutoCloseable {

    int numEnvs();

    /** The observation space of one copy. */
    BoxSpace singleObservationSpace();

    /** The action space of one copy. */
    BoxSpace singleActionSpace();

    /** Seeds copy {@code i} with {@code seed + i} and starts an episode in every copy; row i is copy i's obs. */
    double[][] reset(long seed);

    /** Starts a new episode in every copy, continuing each copy's random stream. */
    double[][] reset();

    /** Steps copy i with {@code actions[i]}, resetting copies whose episode ended (see the class comment). */
    VectorStep step(double[][] actions);

    /** Copy {@code index}, e.g. to {@link Env#unwrap} its wrappers for statistics or checkpoints. */
    Env env(int index);

    /** Closes every copy. */
    @Override
    void close();
}
