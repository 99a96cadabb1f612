package org.dmerl.env;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Tracks the running episode's return and length. On the step that ends an episode it adds
 * {@value #EPISODE_RETURN} and {@value #EPISODE_LENGTH} to the step's terms and remembers them, together with a
 * window of recent returns for smoothed logging.
 *
 * <p>Place it outside {@link TimeLimit} (as {@link EnvRegistry#make} leaves it) so truncated episodes are counted.
 */
public final class RecordEpisodeStatistics extends Wrapper {

    public static final String EPISODE_RETURN = "episode_return";
    public static final String EPISODE_LENGTH = "episode_length";
    /** Gymnasium's default window of recent returns. */
    public static final int DEFAULT_WINDOW = 100;

    private final int window;
    private final Deque<Double> recentReturns = new ArrayDeque<>();
    private final Deque<Integer> recentLengths = new ArrayDeque<>();
    private double episodeReturn;
    private int episodeLength;
    private double lastEpisodeReturn = Double.NaN;
    private int lastEpisodeLength;
    private long finishedEpisodes;

    public RecordEpisodeStatistics(Env env) {
        this(env, DEFAULT_WINDOW);
    }

    /** @param window how many recent episodes {@link #recentReturns()} keeps */
    public RecordEpisodeStatistics(Env env, int window) {
        super(Objects.requireNonNull(env, "RecordEpisodeStatistics needs an env, got null"));
        if (window <= 0) {
            throw new IllegalArgumentException("RecordEpisodeStatistics window must be positive, got " + window);
        }
        this.window = window;
    }

    @Override
    public double[] reset(long seed) {
        startEpisode();
        return env.reset(seed);
    }

    @Override
    public double[] reset() {
        startEpisode();
        return env.reset();
    }

    private void startEpisode() {
        episodeReturn = 0;
        episodeLength = 0;
    }

    @Override
    public StepResult step(double[] action) {
        StepResult result = env.step(action);
        episodeReturn += result.reward();
        episodeLength++;
        if (!result.done()) {
            return result;
        }
        recordFinishedEpisode();
        var terms = new LinkedHashMap<>(result.terms());
        terms.put(EPISODE_RETURN, episodeReturn);
        terms.put(EPISODE_LENGTH, (double) episodeLength);
        return result.withTerms(Collections.unmodifiableMap(terms));
    }

    private void recordFinishedEpisode() {
        lastEpisodeReturn = episodeReturn;
        lastEpisodeLength = episodeLength;
        finishedEpisodes++;
        recentReturns.addLast(episodeReturn);
        recentLengths.addLast(episodeLength);
        if (recentReturns.size() > window) {
            recentReturns.removeFirst();
            recentLengths.removeFirst();
        }
    }

    /** {@return the return of the last finished episode, NaN before any episode has finished} */
    public double lastEpisodeReturn() {
        return lastEpisodeReturn;
    }

    /** {@return the length of the last finished episode, 0 before any episode has finished} */
    public int lastEpisodeLength() {
        return lastEpisodeLength;
    }

    public long finishedEpisodes() {
        return finishedEpisodes;
    }

    /** {@return the return so far of the episode in progress} */
    public double currentReturn() {
        return episodeReturn;
    }

    public int currentLength() {
        return episodeLength;
    }

    /** {@return the returns of up to {@code window} most recent finished episodes, oldest first} */
    public List<Double> recentReturns() {
        return List.copyOf(recentReturns);
    }

    /** {@return the lengths of up to {@code window} most recent finished episodes, oldest first} */
    public List<Integer> recentLengths() {
        return List.copyOf(recentLengths);
    }
}
