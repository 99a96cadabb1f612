package org.dmerl.algo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code chain_target: real}: every sub-step of a diffusion chain bootstraps from the next real state. */
class ChainTargetTest {

    /** Sub-steps j = 0, 1, 2 with sub-step discount 0.9 and the real reward 5 at the last one. */
    private static ReplayBuffer flushed(float lastDiscount) {
        ReplayBuffer buffer = new ReplayBuffer(8, 2, 1, 4);
        OffPolicyTrainer.Chain chain = new OffPolicyTrainer.Chain(3, 2, 1);
        for (int j = 0; j < 3; j++) {
            chain.add(new float[] {j, -j}, new float[] {10 * j}, j == 2 ? 5f : 0f, j == 2 ? lastDiscount : 0.9f);
        }
        chain.flushTo(buffer, new float[] {7, 8});
        return buffer;
    }

    @Test
    void subStepsTakeTheChainsDiscountedRewardAndTheNextRealState() {
        ReplayBuffer buffer = flushed(0.9f);
        assertEquals(3, buffer.size());
        float[] reward = {0.81f * 5, 0.9f * 5, 5};
        float[] discount = {0.729f, 0.81f, 0.9f};
        for (int j = 0; j < 3; j++) {
            assertArrayEquals(new float[] {j, -j}, new float[] {buffer.obs[2 * j], buffer.obs[2 * j + 1]}, "obs " + j);
            assertEquals(10f * j, buffer.actions[j], "action " + j);
            assertEquals(reward[j], buffer.rewards[j], 1e-5f, "reward " + j);
            assertEquals(discount[j], buffer.discount[j], 1e-6f, "discount " + j);
            assertArrayEquals(new float[] {7, 8}, new float[] {buffer.nextObs[2 * j], buffer.nextObs[2 * j + 1]});
        }
    }

    @Test
    void realEntropyBatchesCarryTheLaterSubStepsOfEachSampledSubStep() {
        ReplayBuffer buffer = new ReplayBuffer(8, 2, 1, 6).withChains(3);
        OffPolicyTrainer.Chain chain = new OffPolicyTrainer.Chain(3, 2, 1);
        for (int c = 0; c < 2; c++) {   // two chains, the second one ending the episode
            for (int j = 0; j < 3; j++) {
                chain.add(new float[] {j, c}, new float[] {10 * j + c}, j == 2 ? 5f : 0f, j == 2 && c == 1 ? 0f : 0.9f);
            }
            chain.flushTo(buffer, new float[] {7, 8});
        }
        ReplayBuffer.Batch batch = buffer.sample(new org.dmerl.tensor.Rng(3));
        ReplayBuffer.Successors later = batch.successors();
        int row = 0;
        for (int b = 0; b < 6; b++) {
            int j = (int) batch.obs().data[2 * b], c = (int) batch.obs().data[2 * b + 1];
            assertEquals(2 - j, later.count[b], "sub-step " + j + " of chain " + c);
            float weight = 1f;
            for (int m = 1; m <= 2 - j; m++, row++) {
                weight *= 0.9f;
                assertArrayEquals(new float[] {j + m, c}, new float[] {later.obs[2 * row], later.obs[2 * row + 1]});
                assertEquals(10f * (j + m) + c, later.actions[row]);
                assertEquals(weight, later.weight[row], 1e-6f, "Π of the one-step discounts before it");
            }
        }
        assertEquals(row, later.rows);
        assertTrue(row > 0, "the sample drew only last sub-steps");
    }

    /**
     * chain_entropy_estimate: one — each sampled sub-step carries one of its n later sub-steps with n times its weight,
     * so the estimate of Σ weight·value over the later sub-steps is unbiased (here value = the stored action).
     */
    @Test
    void oneSuccessorIsAnUnbiasedEstimateOfTheSumOverAll() {
        ReplayBuffer buffer = new ReplayBuffer(4, 2, 1, 4).withChains(4, true);
        OffPolicyTrainer.Chain chain = new OffPolicyTrainer.Chain(4, 2, 1);
        for (int j = 0; j < 4; j++) chain.add(new float[] {j, 0}, new float[] {1 + j * j}, 0f, 0.9f);
        chain.flushTo(buffer, new float[] {7, 8});
        double[] exact = new double[4], total = new double[4];
        int[] draws = new int[4];
        for (int j = 0; j < 4; j++) {
            float weight = 1f;
            for (int m = j + 1; m < 4; m++) exact[j] += (weight *= 0.9f) * (1 + m * m);
        }
        org.dmerl.tensor.Rng rng = new org.dmerl.tensor.Rng(5);
        java.util.Set<Float> seenForFirst = new java.util.HashSet<>();
        for (int s = 0; s < 20_000; s++) {
            ReplayBuffer.Batch batch = buffer.sample(rng);
            ReplayBuffer.Successors later = batch.successors();
            for (int b = 0, row = 0; b < 4; b++) {
                int j = (int) batch.obs().data[2 * b];
                assertEquals(j == 3 ? 0 : 1, later.count[b], "one later sub-step, none after the last");
                for (int r = 0; r < later.count[b]; r++, row++) {
                    int m = (int) later.obs[2 * row];
                    assertTrue(m > j && m < 4, "sub-step " + m + " does not follow " + j);
                    assertEquals(later.actions[row], 1 + m * m);
                    assertEquals((3 - j) * Math.pow(0.9, m - j), later.weight[row], 1e-5, "count × Π discounts");
                    total[j] += later.weight[row] * later.actions[row];
                    if (j == 0) seenForFirst.add(later.actions[row]);
                }
                draws[j]++;
            }
        }
        assertEquals(3, seenForFirst.size(), "every later sub-step of the first is drawn");
        for (int j = 0; j < 4; j++) {
            assertEquals(exact[j], total[j] / draws[j], 0.03 * exact[j] + 1e-9, "mean estimate for sub-step " + j);
        }
    }

    @Test
    void aBufferWithoutChainsCarriesNoSuccessors() {
        assertEquals(null, flushed(0.9f).sample(new org.dmerl.tensor.Rng(1)).successors());
    }

    @Test
    void aTerminalRealStepStopsBootstrappingForTheWholeChain() {
        ReplayBuffer buffer = flushed(0f);
        for (int j = 0; j < 3; j++) assertEquals(0f, buffer.discount[j], "discount " + j);
        assertEquals(0.81f * 5, buffer.rewards[0], 1e-5f);
    }

    @Test
    void diffsacTrainsWithRealStepTargetsDeterministicallyAndRejectsUnknownValues() {
        SacTest.Trace real = SacTest.run(SacTest.diffSacConfig().set("chain_target", "real"));
        assertEquals(600, real.result().envSteps());
        assertTrue(Double.isFinite(real.result().evalReturnMean()), real.evaluations().toString());
        SacTest.Trace again = SacTest.run(SacTest.diffSacConfig().set("chain_target", "real"));
        assertEquals(real.evaluations(), again.evaluations(), "same seed, same evaluations");
        assertEquals(real.episodes(), again.episodes());
        SacTest.Trace substep = SacTest.run(SacTest.diffSacConfig());
        assertTrue(!real.episodes().equals(substep.episodes()), "the targets changed nothing");
        SacTest.Trace entropy = SacTest.run(SacTest.diffSacConfig().set("chain_target", "real_entropy"));
        assertTrue(Double.isFinite(entropy.result().evalReturnMean()), entropy.evaluations().toString());
        assertEquals(entropy.episodes(), SacTest.run(SacTest.diffSacConfig().set("chain_target", "real_entropy")).episodes());
        assertTrue(!entropy.episodes().equals(real.episodes()), "the log ratios changed nothing");
        var problems = new Config().set("chain_target", "next").problems();
        assertTrue(problems.stream().anyMatch(p -> p.contains("chain_target must be substep, real or real_entropy")), problems.toString());
        var oneConfig = SacTest.diffSacConfig().set("chain_target", "real_entropy").set("chain_entropy_estimate", "one");
        SacTest.Trace one = SacTest.run(oneConfig);
        assertTrue(Double.isFinite(one.result().evalReturnMean()), one.evaluations().toString());
        assertEquals(one.episodes(), SacTest.run(oneConfig.copy()).episodes());
        assertTrue(!one.episodes().equals(entropy.episodes()), "the estimate changed nothing");
        problems = new Config().set("chain_entropy_estimate", "some").problems();
        assertTrue(problems.stream().anyMatch(p -> p.contains("chain_entropy_estimate must be all or one")), problems.toString());
    }
}
