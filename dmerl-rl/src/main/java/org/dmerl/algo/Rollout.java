package org.dmerl.algo;

/**
 * One on-policy rollout of T steps from N environment copies, stored time-major (row t·N + i is copy i at step t),
 * and its generalised advantage estimates.
 *
 * <p>Per step it keeps what PPO needs later: the observation and action, the log-density the action was drawn
 * with, the value estimate, the environment reward and the reward the advantages are computed on (for DiffPPO the
 * soft reward r − c·l_k), whether the episode terminated or was truncated (then the value of its final observation
 * is kept for bootstrapping), and the discount and λ of the step (diffusion sub-steps may not discount).
 */
public final class Rollout {

    public final int steps, envs, obsDim, actDim;
    public final float[] obs, actions, logProbs, values, rewards, learnRewards, bootstrapValues;
    public final float[] discounts, lambdas;
    public final boolean[] terminated, truncated;
    public final float[] advantages, returns;

    public Rollout(int steps, int envs, int obsDim, int actDim) {
        this.steps = steps;
        this.envs = envs;
        this.obsDim = obsDim;
        this.actDim = actDim;
        int n = steps * envs;
        obs = new float[n * obsDim];
        actions = new float[n * actDim];
        logProbs = new float[n];
        values = new float[n];
        rewards = new float[n];
        learnRewards = new float[n];
        bootstrapValues = new float[n];
        discounts = new float[n];
        lambdas = new float[n];
        terminated = new boolean[n];
        truncated = new boolean[n];
        advantages = new float[n];
        returns = new float[n];
    }

    public int size() {
        return steps * envs;
    }

    /**
     * GAE(γ, λ) on {@link #learnRewards}, backwards over time; {@code lastValues[i]} is V of copy i's observation
     * after the last step. A terminated step does not bootstrap; a truncated one bootstraps from the value of its
     * final observation and stops the λ-recursion (the next row belongs to a new episode).
     */
    public void computeAdvantages(float[] lastValues) {
        for (int i = 0; i < envs; i++) {
            double next = 0;
            for (int t = steps - 1; t >= 0; t--) {
                int j = t * envs + i;
                float nextValue = t == steps - 1 ? lastValues[i] : values[j + envs];
                double delta;
                if (terminated[j]) {
                    delta = learnRewards[j] - values[j];
                    next = delta;
                } else if (truncated[j]) {
                    delta = learnRewards[j] + discounts[j] * bootstrapValues[j] - values[j];
                    next = delta;
                } else {
                    delta = learnRewards[j] + discounts[j] * nextValue - values[j];
                    next = delta + discounts[j] * lambdas[j] * next;
                }
                advantages[j] = (float) next;
                returns[j] = advantages[j] + values[j];
            }
        }
    }
}
