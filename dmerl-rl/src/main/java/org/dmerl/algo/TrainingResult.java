package org.dmerl.algo;

/** The summary written to {@code final.json}. */
public record TrainingResult(String algo, String env, long seed, long envSteps, long agentSteps, long gradSteps,
                             double wallSeconds, double stepsPerSecond, double learningStepsPerSecond,
                             double evalReturnMean, double evalReturnStd, int threads) {}
