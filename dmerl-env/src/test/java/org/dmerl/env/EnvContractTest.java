package org.dmerl.env;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.dmerl.tensor.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract every registered environment must keep (after Gymnasium's {@code check_env},
 * {@code test_env_determinism_rollout} and {@code test_reward_sum}). It runs over whatever {@link EnvRegistry}
 * holds; an env whose native library is missing on this machine is skipped, not failed.
 */
class EnvContractTest {

    private static final int ROLLOUT_STEPS = 50;
    private static final long SEED = 123;

    static Stream<String> ids() {
        return EnvRegistry.ids().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ids")
    void spacesHaveMatchingAndUsableDimensions(String id) {
        try (Env env = makeOrSkip(id)) {
            assertEquals(id, env.id());
            assertTrue(env.observationSpace().dim() > 0, "observation space is empty");
            assertTrue(env.actionSpace().dim() > 0, "action space is empty");
            for (int i = 0; i < env.actionSpace().dim(); i++) {
                assertTrue(Double.isFinite(env.actionSpace().low()[i]) && Double.isFinite(env.actionSpace().high()[i]),
                        "action bound " + i + " is not finite: " + env.actionSpace());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ids")
    void resetAndStepReturnFiniteObservationsOfTheRightLength(String id) {
        try (Env env = makeOrSkip(id)) {
            checkObservation(env, env.reset(SEED), "reset");
            var actions = new Rng(7);
            for (int t = 0; t < ROLLOUT_STEPS; t++) {
                StepResult step = env.step(randomAction(env.actionSpace(), actions));
                checkObservation(env, step.observation(), "step " + t);
                assertTrue(Double.isFinite(step.reward()), "reward at step " + t + " is " + step.reward());
                assertNotNull(step.terms(), "terms at step " + t);
                if (step.done()) checkObservation(env, env.reset(), "reset after step " + t);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ids")
    void sameSeedGivesIdenticalRollouts(String id) {
        try (Env first = makeOrSkip(id); Env second = EnvRegistry.make(id)) {
            assertArrayEquals(first.reset(SEED), second.reset(SEED), "first observation");
            var actions = new Rng(7);
            for (int t = 0; t < ROLLOUT_STEPS; t++) {
                double[] action = randomAction(first.actionSpace(), actions);
                StepResult a = first.step(action), b = second.step(action);
                assertArrayEquals(a.observation(), b.observation(), "observation at step " + t);
                assertEquals(a.reward(), b.reward(), "reward at step " + t);
                assertEquals(a.terminated(), b.terminated(), "terminated at step " + t);
                assertEquals(a.truncated(), b.truncated(), "truncated at step " + t);
                assertEquals(a.terms(), b.terms(), "terms at step " + t);
                if (a.done()) assertArrayEquals(first.reset(), second.reset(), "reset after step " + t);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ids")
    void wrongActionLengthIsRejectedWithAClearMessage(String id) {
        try (Env env = makeOrSkip(id)) {
            env.reset(SEED);
            int dim = env.actionSpace().dim();
            var e = assertThrows(IllegalArgumentException.class, () -> env.step(new double[dim + 1]));
            assertTrue(e.getMessage().contains("expected " + dim), "unclear message: " + e.getMessage());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ids")
    void rewardEqualsTheSumOfItsTerms(String id) {
        try (Env env = makeOrSkip(id)) {
            env.reset(SEED);
            var actions = new Rng(7);
            for (int t = 0; t < ROLLOUT_STEPS; t++) {
                StepResult step = env.step(randomAction(env.actionSpace(), actions));
                assertRewardIsSumOfTerms(step, t);
                if (step.done()) env.reset();
            }
        }
    }

    @Test
    void onlyMissingNativeLibrariesCountAsReasonsToSkip() {
        assertTrue(isMissingNativeLibrary(new UnsatisfiedLinkError("no mujoco in java.library.path")));
        assertTrue(isMissingNativeLibrary(new IllegalArgumentException("Cannot open library: libmujoco.so.3")));
        assertTrue(isMissingNativeLibrary(new IllegalStateException("init failed", new NoClassDefFoundError("x"))));
        assertFalse(isMissingNativeLibrary(new IllegalArgumentException("bad option 'frame_skip'")));
    }

    private static void assertRewardIsSumOfTerms(StepResult step, int t) {
        double sum = 0, largest = Math.abs(step.reward());
        int count = 0;
        for (Map.Entry<String, Double> term : step.terms().entrySet()) {
            if (!term.getKey().startsWith("reward_")) continue;
            sum += term.getValue();
            largest = Math.max(largest, Math.abs(term.getValue()));
            count++;
        }
        if (count == 0) return;
        // Exact up to the order of summation, which a Map does not fix.
        double tolerance = 4 * count * Math.ulp(largest);
        assertEquals(step.reward(), sum, tolerance, "reward vs sum of reward_* terms at step " + t + ": " + step.terms());
    }

    private static void checkObservation(Env env, double[] observation, String when) {
        assertEquals(env.observationSpace().dim(), observation.length, "observation length after " + when);
        for (int i = 0; i < observation.length; i++) {
            assertTrue(Double.isFinite(observation[i]), "observation[" + i + "] after " + when + " is " + observation[i]);
        }
        assertTrue(env.observationSpace().contains(observation), "observation after " + when + " is outside "
                + env.observationSpace());
    }

    private static double[] randomAction(BoxSpace space, Rng rng) {
        double[] action = new double[space.dim()];
        for (int i = 0; i < action.length; i++) action[i] = rng.uniform(space.low()[i], space.high()[i]);
        return action;
    }

    /** Builds the env, or skips the test when its native library (libmujoco) cannot be loaded here. */
    private static Env makeOrSkip(String id) {
        try {
            return EnvRegistry.make(id);
        } catch (RuntimeException | LinkageError e) {
            assumeTrue(!isMissingNativeLibrary(e), () -> id + " skipped, native library unavailable: " + e);
            throw e;
        }
    }

    static boolean isMissingNativeLibrary(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof LinkageError) return true;
            String message = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
            if (message.contains("mujoco") || message.contains("library")) return true;
        }
        return false;
    }
}
