package org.dmerl.algo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.dmerl.tensor.Rng;
import org.junit.jupiter.api.Test;

/**
 * GAE of {@link Rollout#computeAdvantages}: against values worked out by hand (in double) for a rollout of T = 4
 * steps from N = 2 copies with a termination, a truncation with a bootstrap value, normal steps and diffusion
 * sub-steps that do not discount (γ = λ = 1); and against the forward-sum definition of GAE on random rollouts.
 */
class RolloutTest {

    private static final int T = 4, N = 2;
    private static final double[] LAST = {0.6, -0.4};

    /**
     * Row t·N + i is copy i at step t.
     * Copy 0 (rows 0, 2, 4, 6): normal, sub-step (γ = λ = 1), terminated, normal (bootstraps from lastValues[0]).
     * Copy 1 (rows 1, 3, 5, 7): normal, truncated (bootstrap 2.5), sub-step (γ = λ = 1), normal.
     */
    private static Rollout handRollout() {
        Rollout r = new Rollout(T, N, 1, 1);
        float[] values = {0.5f, -1.0f, 1.5f, 0.25f, -0.75f, 2.0f, 0.3f, -0.2f};
        float[] learn = {1.0f, 0.2f, -0.5f, 0.7f, 2.0f, -1.5f, 0.4f, 0.9f};
        float[] gammas = {0.9f, 0.8f, 1f, 0.95f, 0.9f, 1f, 0.7f, 0.85f};
        float[] lambdas = {0.8f, 0.6f, 1f, 0.5f, 0.75f, 1f, 0.9f, 0.95f};
        System.arraycopy(values, 0, r.values, 0, 8);
        System.arraycopy(learn, 0, r.learnRewards, 0, 8);
        System.arraycopy(gammas, 0, r.discounts, 0, 8);
        System.arraycopy(lambdas, 0, r.lambdas, 0, 8);
        for (int j = 0; j < 8; j++) r.rewards[j] = 100 + j; // environment rewards: GAE runs on learnRewards
        r.terminated[4] = true;
        r.truncated[3] = true;
        r.bootstrapValues[3] = 2.5f;
        // bootstrap values of rows that are not truncated are ignored (the terminated row's included)
        r.bootstrapValues[0] = 99f;
        r.bootstrapValues[4] = 99f;
        r.bootstrapValues[6] = 99f;
        return r;
    }

    @Test
    void advantagesMatchHandComputedGae() {
        Rollout r = handRollout();
        r.computeAdvantages(new float[] {(float) LAST[0], (float) LAST[1]});

        // copy 0
        double a3 = 0.4 + 0.7 * LAST[0] - 0.3;                    // row 6: normal, next value = lastValues[0]
        double a2 = 2.0 - (-0.75);                                // row 4: terminated, no bootstrap, no recursion
        double a1 = (-0.5 + 1.0 * (-0.75) - 1.5) + 1.0 * 1.0 * a2; // row 2: sub-step, γ = λ = 1
        double a0 = (1.0 + 0.9 * 1.5 - 0.5) + 0.9 * 0.8 * a1;     // row 0: normal
        // copy 1
        double b3 = 0.9 + 0.85 * LAST[1] - (-0.2);                // row 7: normal, next value = lastValues[1]
        double b2 = (-1.5 + 1.0 * (-0.2) - 2.0) + 1.0 * 1.0 * b3; // row 5: sub-step, γ = λ = 1
        double b1 = 0.7 + 0.95 * 2.5 - 0.25;                      // row 3: truncated, bootstrap 2.5, recursion cut
        double b0 = (0.2 + 0.8 * 0.25 - (-1.0)) + 0.8 * 0.6 * b1; // row 1: normal
        double[] expected = {a0, b0, a1, b1, a2, b2, a3, b3};

        for (int j = 0; j < T * N; j++) {
            assertEquals(expected[j], r.advantages[j], 1e-5, "advantage of copy " + j % N + " at t " + j / N);
            assertEquals(expected[j] + r.values[j], r.returns[j], 1e-5, "return of row " + j);
            assertEquals(r.advantages[j] + r.values[j], r.returns[j], 0f, "returns = advantages + values, row " + j);
        }
    }

    @Test
    void recomputingOverwritesEarlierAdvantages() {
        Rollout r = handRollout();
        r.computeAdvantages(new float[] {5f, 5f});
        float[] first = r.advantages.clone();
        r.computeAdvantages(new float[] {(float) LAST[0], (float) LAST[1]});
        Rollout fresh = handRollout();
        fresh.computeAdvantages(new float[] {(float) LAST[0], (float) LAST[1]});
        org.junit.jupiter.api.Assertions.assertArrayEquals(fresh.advantages, r.advantages);
        org.junit.jupiter.api.Assertions.assertArrayEquals(fresh.returns, r.returns);
        // lastValues reach only the rows after each copy's last episode end: rows 6 (copy 0), 5 and 7 (copy 1)
        for (int j = 0; j < T * N; j++) {
            boolean reached = j == 6 || j == 5 || j == 7;
            assertEquals(reached, first[j] != r.advantages[j], "row " + j);
        }
    }

    /**
     * The forward-sum definition: Â_t = Σ_l (Π_{m<l} γ_{t+m} λ_{t+m}) δ_{t+l}, summed until the step that ends the
     * episode (included), with δ_t = r_t + γ_t·V' − V_t, V' = 0 on termination, the bootstrap value on truncation,
     * the next row's value otherwise (lastValues after the last step).
     */
    @Test
    void randomRolloutsMatchTheForwardSumDefinition() {
        Rng rng = new Rng(17);
        for (int trial = 0; trial < 20; trial++) {
            int steps = 1 + rng.nextInt(9), envs = 1 + rng.nextInt(3);
            Rollout r = new Rollout(steps, envs, 2, 1);
            int n = steps * envs;
            for (int j = 0; j < n; j++) {
                r.values[j] = (float) rng.gaussian();
                r.learnRewards[j] = (float) rng.gaussian();
                r.rewards[j] = (float) rng.gaussian();
                boolean sub = rng.nextDouble() < 0.3;
                r.discounts[j] = sub ? 1f : (float) rng.uniform(0.8, 1.0);
                r.lambdas[j] = sub ? 1f : (float) rng.uniform(0.5, 1.0);
                double u = rng.nextDouble();
                r.terminated[j] = u < 0.15;
                r.truncated[j] = u >= 0.15 && u < 0.3;
                r.bootstrapValues[j] = (float) rng.gaussian();
            }
            float[] last = new float[envs];
            for (int i = 0; i < envs; i++) last[i] = (float) rng.gaussian();
            r.computeAdvantages(last);

            for (int i = 0; i < envs; i++) {
                for (int t = 0; t < steps; t++) {
                    double sum = 0, weight = 1;
                    for (int u = t; u < steps; u++) {
                        int j = u * envs + i;
                        double next = r.terminated[j] ? 0 : r.truncated[j] ? r.bootstrapValues[j]
                                : u == steps - 1 ? last[i] : r.values[j + envs];
                        double delta = r.learnRewards[j] + (double) r.discounts[j] * next - r.values[j];
                        sum += weight * delta;
                        if (r.terminated[j] || r.truncated[j]) break;
                        weight *= (double) r.discounts[j] * r.lambdas[j];
                    }
                    int j = t * envs + i;
                    assertEquals(sum, r.advantages[j], 1e-4 * (1 + Math.abs(sum)),
                            "trial " + trial + ", copy " + i + ", t " + t);
                    assertEquals(sum + r.values[j], r.returns[j], 1e-4 * (1 + Math.abs(sum)));
                }
            }
        }
    }
}
