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
        OffPolicyTrainer.Chain chain = new OffPolicyTrainer.Chain(3, 2, 1, false);
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
    void realEntropyKeepsTheRemainingSubStepsLogRatiosDiscounted() {
        ReplayBuffer buffer = new ReplayBuffer(8, 2, 1, 4);
        OffPolicyTrainer.Chain chain = new OffPolicyTrainer.Chain(3, 2, 1, true);
        for (int j = 0; j < 3; j++) chain.add(new float[] {j, -j}, new float[] {10 * j}, j == 2 ? 5f : 0f, 0.9f);
        chain.logRatios[0] = 1.5f;
        chain.logRatios[1] = -2f;
        chain.logRatios[2] = 3f;
        chain.flushTo(buffer, new float[] {7, 8});
        // T_j = Σ_{i>j} (Π_{j≤l<i} d_l) l_i: the sub-step's own l_j is its actor's term, not part of its target
        float[] skipped = {0.9f * -2f + 0.81f * 3f, 0.9f * 3f, 0f};
        for (int j = 0; j < 3; j++) assertEquals(skipped[j], buffer.skippedLogProb[j], 1e-5f, "skipped " + j);
        assertEquals(0.81f * 5, buffer.rewards[0], 1e-5f, "rewards fold as with chain_target real");
    }

    @Test
    void withoutEntropyTheSkippedSumIsZero() {
        ReplayBuffer buffer = flushed(0.9f);
        for (int j = 0; j < 3; j++) assertEquals(0f, buffer.skippedLogProb[j], "skipped " + j);
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
    }
}
