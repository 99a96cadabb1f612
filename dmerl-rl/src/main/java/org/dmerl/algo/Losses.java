package org.dmerl.algo;

/**
 * What a learner reports after an update, in the columns of {@code progress.csv}: the critic's (or value
 * function's) loss, the actor's (or PPO surrogate's) loss, the entropy temperature or coefficient, its loss, and the
 * learner's entropy estimate.
 */
public record Losses(float criticLoss, float actorLoss, float alpha, float alphaLoss, float entropy) {

    public static final Losses NONE = new Losses(Float.NaN, Float.NaN, Float.NaN, Float.NaN, Float.NaN);
}
