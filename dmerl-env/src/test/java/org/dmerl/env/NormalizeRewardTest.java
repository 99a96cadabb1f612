package org.dmerl.env;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.dmerl.tensor.Rng;
import org.junit.jupiter.api.Test;

/**
 * {@link NormalizeReward}: each reward divided by the running (population) std of the discounted return
 * G ← γ·G + r, G restarting at every episode end, clipped; statistics frozen on request.
 */
class NormalizeRewardTest {

    private static final double GAMMA = 0.9, EPSILON = 1e-8;

    /** What the wrapper should do, written out: every G seen so far, two-pass population variance. */
    static final class Reference {
        final double gamma, clip;
        final List<Double> returns = new ArrayList<>();
        double g;

        Reference(double gamma, double clip) {
            this.gamma = gamma;
            this.clip = clip;
        }

        double step(double reward, boolean done) {
            g = gamma * g + reward;
            returns.add(g);
            double scaled = Math.clamp(reward / Math.sqrt(variance() + EPSILON), -clip, clip);
            if (done) g = 0;
            return scaled;
        }

        double mean() {
            double m = 0;
            for (double x : returns) m += x;
            return m / returns.size();
        }

        double variance() {
            double m = mean(), v = 0;
            for (double x : returns) v += (x - m) * (x - m);
            return v / returns.size();
        }
    }

    /** ScriptedEnv's reward is the action, so any reward sequence can be played. */
    private static ScriptedEnv scripted(int terminateAfter) {
        return new ScriptedEnv(terminateAfter, BoxSpace.unbounded(1));
    }

    @Test
    void rewardsAreDividedByTheRunningStdOfTheDiscountedReturn() {
        var env = new NormalizeReward(scripted(0), GAMMA);
        var ref = new Reference(GAMMA, NormalizeReward.DEFAULT_CLIP);
        Rng rng = new Rng(1);
        env.reset(3);
        for (int t = 0; t < 300; t++) {
            double r = 2 + 3 * rng.gaussian();
            StepResult s = env.step(new double[] {r});
            double expected = ref.step(r, false);
            assertEquals(expected, s.reward(), 1e-9 * Math.max(1, Math.abs(expected)), "step " + t);
        }
        RunningMeanStd st = env.statistics();
        assertEquals(1, st.dim());
        assertEquals(300, st.count());
        assertEquals(ref.mean(), st.mean()[0], 1e-9);
        assertEquals(ref.variance(), st.var()[0], 1e-8);
        // the mean is not subtracted: a positive reward stays positive
        assertTrue(env.step(new double[] {0.5}).reward() > 0);
    }

    @Test
    void theFirstRewardIsClippedAndZeroStaysZero() {
        // one sample: variance 0, so any non-zero reward is scaled by 1/√ε and clipped
        var env = new NormalizeReward(scripted(0), GAMMA);
        env.reset(0);
        assertEquals(NormalizeReward.DEFAULT_CLIP, env.step(new double[] {0.3}).reward());
        var neg = new NormalizeReward(scripted(0), GAMMA, EPSILON, 2.5);
        neg.reset(0);
        assertEquals(-2.5, neg.step(new double[] {-0.3}).reward());
        var zero = new NormalizeReward(scripted(0), GAMMA);
        zero.reset(0);
        assertEquals(0.0, zero.step(new double[] {0}).reward());
    }

    @Test
    void theReturnRestartsAtEveryEpisodeEnd() {
        // terminations every 4 steps, and truncations (TimeLimit) every 3 in the second env
        for (Env inner : List.<Env>of(scripted(4), new TimeLimit(scripted(0), 3))) {
            var env = new NormalizeReward(inner, GAMMA);
            var ref = new Reference(GAMMA, NormalizeReward.DEFAULT_CLIP);
            Rng rng = new Rng(2);
            env.reset(5);
            int episodes = 0;
            for (int t = 0; t < 40; t++) {
                double r = 1 + rng.gaussian();
                StepResult s = env.step(new double[] {r});
                assertEquals(ref.step(r, s.done()), s.reward(), 1e-9, inner + " step " + t);
                if (s.done()) {
                    episodes++;
                    env.reset();
                }
            }
            assertTrue(episodes >= 10);
            assertEquals(ref.mean(), env.statistics().mean()[0], 1e-9);
            assertEquals(ref.variance(), env.statistics().var()[0], 1e-9);
        }
        // the same rewards without episode ends give other statistics (so the check above can tell)
        var endless = new NormalizeReward(scripted(0), GAMMA);
        Rng rng = new Rng(2);
        endless.reset(5);
        for (int t = 0; t < 40; t++) endless.step(new double[] {1 + rng.gaussian()});
        var ending = new NormalizeReward(scripted(4), GAMMA);
        rng = new Rng(2);
        ending.reset(5);
        for (int t = 0; t < 40; t++) {
            if (ending.step(new double[] {1 + rng.gaussian()}).done()) ending.reset();
        }
        assertNotEquals(endless.statistics().mean()[0], ending.statistics().mean()[0]);
    }

    @Test
    void resetRestartsTheReturnMidEpisode() {
        var env = new NormalizeReward(scripted(0), GAMMA);
        env.reset(0);
        env.step(new double[] {1});
        env.step(new double[] {1});
        env.reset();
        env.step(new double[] {1});
        // G: 1, 1.9, then 1 again after reset (not 2.71)
        double mean = (1 + 1.9 + 1) / 3;
        assertEquals(mean, env.statistics().mean()[0], 1e-12);
        env.reset(7);
        env.step(new double[] {2});
        assertEquals((1 + 1.9 + 1 + 2) / 4, env.statistics().mean()[0], 1e-12, "reset(seed) restarts G too");
    }

    @Test
    void freezingKeepsTheStatisticsButStillScales() {
        var env = new NormalizeReward(scripted(0), GAMMA);
        Rng rng = new Rng(4);
        env.reset(1);
        for (int t = 0; t < 50; t++) env.step(new double[] {rng.gaussian()});
        RunningMeanStd before = env.statistics();
        env.freeze(true);
        for (int t = 0; t < 20; t++) {
            double r = 5 * rng.gaussian();
            double expected = Math.clamp(r / Math.sqrt(before.var()[0] + EPSILON), -10, 10);
            assertEquals(expected, env.step(new double[] {r}).reward(), 1e-12);
        }
        assertEquals(before, env.statistics());
        env.freeze(false);
        env.step(new double[] {1});
        assertEquals(before.count() + 1, env.statistics().count());
    }

    @Test
    void statisticsRoundTripIntoAFreshWrapper() {
        var env = new NormalizeReward(scripted(0), GAMMA);
        Rng rng = new Rng(6);
        env.reset(1);
        for (int t = 0; t < 30; t++) env.step(new double[] {rng.gaussian()});
        RunningMeanStd saved = env.statistics();
        var restored = new NormalizeReward(scripted(0), GAMMA);
        restored.setStatistics(saved);
        assertEquals(saved, restored.statistics());
        restored.freeze(true);
        env.freeze(true);
        restored.reset(1);
        assertEquals(env.step(new double[] {0.7}).reward(), restored.step(new double[] {0.7}).reward());
        var e = assertThrows(IllegalArgumentException.class, () -> restored.setStatistics(RunningMeanStd.empty(2)));
        assertTrue(e.getMessage().contains("dim 1"), e.getMessage());
    }

    @Test
    void everythingButTheRewardPassesThrough() {
        var inner = scripted(2);
        var env = new NormalizeReward(inner, GAMMA);
        assertEquals(inner.observationSpace().toString(), env.observationSpace().toString());
        assertEquals(inner.actionSpace().toString(), env.actionSpace().toString());
        double[] first = env.reset(9);
        assertArrayEquals(inner.emittedObservations.getLast(), first);
        StepResult a = env.step(new double[] {0.5});
        assertArrayEquals(inner.emittedObservations.getLast(), a.observation());
        assertEquals(0.5, a.terms().get("reward_action"));
        assertTrue(!a.terminated() && !a.truncated());
        StepResult b = env.step(new double[] {0.5});
        assertTrue(b.terminated() && !b.truncated());
        assertSame(env, env.unwrap(NormalizeReward.class).orElseThrow());
        assertSame(inner, env.inner());
    }

    @Test
    void pendulumRewardsAreScaledAcrossTruncatedEpisodes() {
        // the registry's Pendulum truncates at 200 steps; two copies with the same seed see the same rewards
        try (Env raw = new RescaleAction(EnvRegistry.make("Pendulum-v1"));
             Env env = new NormalizeReward(new RescaleAction(EnvRegistry.make("Pendulum-v1")), 0.99)) {
            var ref = new Reference(0.99, NormalizeReward.DEFAULT_CLIP);
            raw.reset(11);
            env.reset(11);
            Rng rng = new Rng(12);
            int truncations = 0;
            for (int t = 0; t < 450; t++) {
                double[] a = {rng.uniform(-1, 1)};
                StepResult r = raw.step(a), s = env.step(a);
                assertEquals(r.done(), s.done());
                assertArrayEquals(r.observation(), s.observation());
                assertEquals(ref.step(r.reward(), r.done()), s.reward(), 1e-9, "step " + t);
                if (r.done()) {
                    assertTrue(r.truncated());
                    truncations++;
                    raw.reset();
                    env.reset();
                }
            }
            assertEquals(2, truncations);
            assertEquals(ref.variance(), ((NormalizeReward) env).statistics().var()[0], 1e-6 * ref.variance());
        }
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(NullPointerException.class, () -> new NormalizeReward(null, GAMMA));
        for (double gamma : new double[] {0, -0.5, 1.01, Double.NaN}) {
            var e = assertThrows(IllegalArgumentException.class, () -> new NormalizeReward(scripted(0), gamma));
            assertTrue(e.getMessage().contains("gamma"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new NormalizeReward(scripted(0), GAMMA, 0, 10));
        assertThrows(IllegalArgumentException.class, () -> new NormalizeReward(scripted(0), GAMMA, EPSILON, 0));
        new NormalizeReward(scripted(0), 1.0); // γ = 1 is allowed
    }
}
