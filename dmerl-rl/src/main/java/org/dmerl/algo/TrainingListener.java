package org.dmerl.algo;

/** Receives what a training run measures, in order. Implementations write files, print progress, etc. */
public interface TrainingListener {

    /** A finished training episode (real environment return and length) with the learner's latest losses. */
    record Episode(long envStep, double wallSeconds, double episodeReturn, int episodeLength,
                   Losses losses, double stepsPerSecond) {}

    /** A deterministic evaluation. */
    record Evaluation(long envStep, double wallSeconds, double returnMean, double returnStd, int episodes) {}

    default void onEpisode(Episode e) {}

    default void onEvaluation(Evaluation e) {}

    /**
     * The trained policy at the end of the run (and at checkpoints), to be saved, with the observation
     * normalisation it was trained under (null if none).
     */
    default void onPolicy(long envStep, org.dmerl.policy.StochasticPolicy policy, Config cfg,
                          org.dmerl.env.RunningMeanStd observationStatistics) {}

    /** Called every few steps so a progress display can refresh. */
    default void onProgress(long envStep, long totalSteps, double wallSeconds, double lastEvalReturn) {}
}
