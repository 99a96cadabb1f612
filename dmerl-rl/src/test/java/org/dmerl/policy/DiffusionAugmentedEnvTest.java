package org.dmerl.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.dmerl.env.Env;
import org.dmerl.env.EnvRegistry;
import org.dmerl.env.RescaleAction;
import org.dmerl.env.StepResult;
import org.dmerl.env.SubStepEnv;
import org.dmerl.env.TimeLimit;
import org.dmerl.tensor.Rng;
import org.junit.jupiter.api.Test;

/** The diffusion-augmented MDP around Pendulum-v1 (n = 3, d = 1), checked against a directly stepped twin. */
class DiffusionAugmentedEnvTest {

    private static final int K = 3, N = 3, D = 1;
    private static final double SIGMA0 = 2.5, CLIP = 0.999;

    static Env pendulum() {
        return new RescaleAction(EnvRegistry.make("Pendulum-v1"));
    }

    static DiffusionAugmentedEnv augmented() {
        return new DiffusionAugmentedEnv(pendulum(), K, SIGMA0, CLIP);
    }

    static double[] slice(double[] v, int from, int to) {
        return Arrays.copyOfRange(v, from, to);
    }

    static double[] oneHot(int k) {
        double[] o = new double[K];
        o[k] = 1;
        return o;
    }

    @Test
    void spacesAndLayout() {
        DiffusionAugmentedEnv env = augmented();
        assertEquals(N + D + K, env.observationSpace().dim());
        assertEquals(D, env.actionSpace().dim());
        assertEquals(Double.NEGATIVE_INFINITY, env.actionSpace().low()[0]);
        assertEquals(Double.POSITIVE_INFINITY, env.actionSpace().high()[0]);
        // state bounds from Pendulum, latent unbounded, one-hot in [0, 1]
        assertArrayEquals(new double[] {-1, -1, -8}, slice(env.observationSpace().low(), 0, N));
        assertEquals(Double.NEGATIVE_INFINITY, env.observationSpace().low()[N]);
        assertArrayEquals(new double[] {0, 0, 0}, slice(env.observationSpace().low(), N + D, N + D + K));
        assertArrayEquals(new double[] {1, 1, 1}, slice(env.observationSpace().high(), N + D, N + D + K));
        SubStepEnv sub = env.unwrap(SubStepEnv.class).orElseThrow();
        assertEquals(K, sub.subSteps());
        assertTrue(env.unwrap(TimeLimit.class).isPresent(), "wrapper chain must stay visible through the DA-MDP");
    }

    @Test
    void subStepsHoldTheRealEnvAndTheKthStepMovesIt() {
        DiffusionAugmentedEnv env = augmented();
        Env twin = pendulum();
        double[] o = env.reset(42);
        double[] s = twin.reset(42);
        assertEquals(N + D + K, o.length);
        assertArrayEquals(s, slice(o, 0, N));
        assertArrayEquals(oneHot(0), slice(o, N + D, N + D + K));
        assertEquals(0, env.diffusionStep());
        assertArrayEquals(slice(o, 0, N + D + K), env.observation());

        Rng latents = new Rng(3);
        double previousX0 = o[N];
        for (int t = 0; t < 20; t++) {
            double[] chain = new double[K];
            for (int k = 0; k + 1 < K; k++) {
                double[] x = {1.5 * latents.gaussian()};
                chain[k] = x[0];
                StepResult r = env.step(x);
                x[0] = 99; // the env must not alias the caller's array
                assertEquals(0.0, r.reward());
                assertFalse(r.terminated());
                assertFalse(r.truncated());
                assertFalse(env.lastStepWasReal());
                assertEquals(k + 1, env.diffusionStep());
                assertArrayEquals(s, slice(r.observation(), 0, N), "real state unchanged at sub-step " + (k + 1));
                assertEquals(chain[k], r.observation()[N]);
                assertArrayEquals(oneHot(k + 1), slice(r.observation(), N + D, N + D + K));
            }
            // the K-th step: large latents exercise the clip of tanh
            double[] xK = {t % 4 == 0 ? 8.0 : t % 4 == 1 ? -8.0 : 1.5 * latents.gaussian()};
            double[] a = {Math.max(-CLIP, Math.min(CLIP, Math.tanh(xK[0])))};
            assertArrayEquals(a, env.toEnvAction(xK));
            StepResult r = env.step(xK);
            StepResult ref = twin.step(a);
            assertTrue(env.lastStepWasReal());
            assertEquals(ref.reward(), r.reward());
            assertTrue(r.reward() != 0);
            assertEquals(ref.terminated(), r.terminated());
            assertEquals(ref.truncated(), r.truncated());
            assertArrayEquals(ref.observation(), slice(r.observation(), 0, N));
            assertArrayEquals(oneHot(0), slice(r.observation(), N + D, N + D + K));
            assertEquals(0, env.diffusionStep());
            double x0 = r.observation()[N];
            assertNotEquals(xK[0], x0, "x_0 after a real step must be a fresh draw, not x_K");
            assertNotEquals(previousX0, x0);
            for (double c : chain) assertNotEquals(c, x0);
            previousX0 = x0;
            s = ref.observation();
        }
    }

    @Test
    void freshChainStartsAreDrawnFromThePrior() {
        DiffusionAugmentedEnv env = augmented();
        List<Double> x0 = new ArrayList<>();
        x0.add(env.reset(9)[N]);
        for (int t = 0; t < 1_000; t++) {
            StepResult r = null;
            for (int k = 0; k < K; k++) r = env.step(new double[] {0.3});
            x0.add(r.observation()[N]);
            if (r.done()) x0.add(env.reset()[N]);
        }
        double m = x0.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        double v = x0.stream().mapToDouble(x -> (x - m) * (x - m)).sum() / (x0.size() - 1);
        assertEquals(0, m, 4 * SIGMA0 / Math.sqrt(x0.size()));
        assertEquals(SIGMA0 * SIGMA0, v, 0.2 * SIGMA0 * SIGMA0);
    }

    @Test
    void timeLimitTruncationPassesThroughAtTheRealStep() {
        DiffusionAugmentedEnv env = augmented();
        env.reset(5);
        for (int t = 1; t <= 200; t++) {
            for (int k = 0; k + 1 < K; k++) {
                StepResult r = env.step(new double[] {0.1});
                assertFalse(r.done(), "sub-step of real step " + t);
            }
            StepResult r = env.step(new double[] {-0.2});
            assertTrue(env.lastStepWasReal());
            assertFalse(r.terminated());
            assertEquals(t == 200, r.truncated(), "real step " + t);
        }
        // a new episode starts over cleanly
        double[] o = env.reset();
        assertArrayEquals(oneHot(0), slice(o, N + D, N + D + K));
        assertFalse(env.step(new double[] {0}).done());
    }

    @Test
    void sameSeedGivesIdenticalSequences() {
        List<double[]> a = rollout(11), b = rollout(11), c = rollout(12);
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) assertArrayEquals(a.get(i), b.get(i), "entry " + i);
        assertFalse(Arrays.equals(a.get(0), c.get(0)), "another seed should start elsewhere");
    }

    /** Observations and rewards of 250 real steps (an episode boundary included) with seeded latents. */
    private static List<double[]> rollout(long seed) {
        DiffusionAugmentedEnv env = augmented();
        Rng latents = new Rng(1);
        List<double[]> out = new ArrayList<>();
        out.add(env.reset(seed));
        for (int i = 0; i < 250 * K; i++) {
            StepResult r = env.step(new double[] {latents.gaussian()});
            out.add(r.observation());
            out.add(new double[] {r.reward(), r.terminated() ? 1 : 0, r.truncated() ? 1 : 0});
            if (r.done()) out.add(env.reset());
        }
        return out;
    }

    @Test
    void rejectsBadLatentsAndMisuse() {
        DiffusionAugmentedEnv env = augmented();
        assertThrows(IllegalStateException.class, () -> env.step(new double[] {0}));
        env.reset(1);
        for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
            var e = assertThrows(IllegalArgumentException.class, () -> env.step(new double[] {bad}));
            assertTrue(e.getMessage().contains("non-finite"), e.getMessage());
        }
        var e = assertThrows(IllegalArgumentException.class, () -> env.step(new double[] {0, 0}));
        assertTrue(e.getMessage().contains("length 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> env.step(new double[0]));
        // the rejected steps changed nothing
        assertEquals(0, env.diffusionStep());
        // the real step also rejects a bad latent before touching the real env
        env.step(new double[] {0});
        env.step(new double[] {0});
        assertThrows(IllegalArgumentException.class, () -> env.step(new double[] {Double.NaN}));
        assertEquals(K - 1, env.diffusionStep());
    }

    @Test
    void rejectsBadConstruction() {
        assertThrows(IllegalArgumentException.class, () -> new DiffusionAugmentedEnv(pendulum(), 0, SIGMA0, CLIP));
        assertThrows(IllegalArgumentException.class, () -> new DiffusionAugmentedEnv(pendulum(), K, 0, CLIP));
        assertThrows(IllegalArgumentException.class, () -> new DiffusionAugmentedEnv(pendulum(), K, Double.NaN, CLIP));
        assertThrows(IllegalArgumentException.class, () -> new DiffusionAugmentedEnv(pendulum(), K, SIGMA0, 0));
        assertThrows(IllegalArgumentException.class, () -> new DiffusionAugmentedEnv(pendulum(), K, SIGMA0, 1.5));
    }

    @Test
    void singleStepChainIsARealStepEveryTime() {
        DiffusionAugmentedEnv env = new DiffusionAugmentedEnv(pendulum(), 1, SIGMA0, 1.0);
        Env twin = pendulum();
        env.reset(4);
        twin.reset(4);
        for (int t = 0; t < 10; t++) {
            double[] x = {0.7 * t - 3};
            StepResult r = env.step(x);
            assertTrue(env.lastStepWasReal());
            StepResult ref = twin.step(new double[] {Math.tanh(x[0])});
            assertEquals(ref.reward(), r.reward());
            assertArrayEquals(ref.observation(), slice(r.observation(), 0, N));
            assertEquals(1.0, r.observation()[N + D]);
        }
    }
}
