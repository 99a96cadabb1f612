package org.dmerl.env.mujoco;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Map;
import org.dmerl.env.BoxSpace;
import org.dmerl.env.Env;
import org.dmerl.env.EnvRegistry;
import org.dmerl.env.StepResult;
import org.dmerl.env.SyncVectorEnv;
import org.dmerl.env.VectorStep;
import org.dmerl.tensor.Rng;
import org.junit.jupiter.api.Test;

/** ThreadedVectorEnv gives exactly what stepping the copies one by one gives, with same-step autoreset. */
class ThreadedVectorEnvTest {

    /** A budget cut to zero by preemptions recovers once waits are short again, and long waits still cut it. */
    @Test
    void theSpinBudgetFollowsTheWaitsItSees() {
        long max = ThreadedVectorEnv.Workers.MAX_SPIN_NANOS;
        long budget = 0;
        for (int i = 0; i < 6; i++) budget = ThreadedVectorEnv.Workers.adapt(budget, 8_000);   // parked, briefly
        assertTrue(budget >= 12_000, "a zero budget stays below the 8 us waits it keeps seeing: " + budget);
        assertTrue(budget <= max, "budget " + budget + " exceeds " + max);
        assertEquals(max, ThreadedVectorEnv.Workers.adapt(max, 2_000), "a short wait keeps a full budget");
        assertEquals(max / 4, ThreadedVectorEnv.Workers.adapt(max, 5_000_000), "a 5 ms wait (idle caller) cuts it");
        long idle = max;
        for (int i = 0; i < 20; i++) idle = ThreadedVectorEnv.Workers.adapt(idle, 10_000_000);
        assertEquals(0, idle, "an idle pool stops spinning");
    }

    @Test
    void matchesSteppingTheCopiesOneByOne() {
        MujocoTestSupport.library();
        int n = 4;
        try (var threaded = ThreadedVectorEnv.make("Hopper-v5", Map.of(), n, 2);
             var sync = new SyncVectorEnv(n, () -> EnvRegistry.make("Hopper-v5"))) {
            assertEquals(2, threaded.threads());
            assertArrayEquals(sync.reset(100), threaded.reset(100));
            var rng = new Rng(5);
            int episodesEnded = 0;
            for (int t = 0; t < 200; t++) {
                double[][] actions = randomActions(threaded.singleActionSpace(), n, rng);
                VectorStep a = threaded.step(actions), b = sync.step(actions);
                assertArrayEquals(b.observations(), a.observations(), "observations at step " + t);
                assertArrayEquals(b.rewards(), a.rewards(), "rewards at step " + t);
                assertArrayEquals(b.terminated(), a.terminated(), "terminated at step " + t);
                assertArrayEquals(b.truncated(), a.truncated(), "truncated at step " + t);
                assertArrayEquals(b.finalObservations(), a.finalObservations(), "final observations at step " + t);
                assertEquals(b.terms(), a.terms(), "terms at step " + t);
                for (int i = 0; i < n; i++) if (a.done(i)) episodesEnded++;
            }
            assertTrue(episodesEnded > 5, "random hoppers should fall and be reset: " + episodesEnded);
        }
    }

    @Test
    void copyIGetsSeedPlusIAndFinishedCopiesRestartInTheSameStep() {
        MujocoTestSupport.library();
        try (var vector = ThreadedVectorEnv.make("Hopper-v5", Map.of(), 3, 2);
             var single = EnvRegistry.make("Hopper-v5")) {
            double[][] first = vector.reset(7);
            for (int i = 0; i < 3; i++) assertArrayEquals(single.reset(7 + i), first[i], "copy " + i);

            // Drive copy 1 alone, one by one, and compare the vector's row 1 with it, through an episode end.
            single.reset(8);
            double[][] actions = new double[3][3];
            for (double[] a : actions) java.util.Arrays.fill(a, 1.0);
            for (int t = 0; t < 200; t++) {
                StepResult expected = single.step(actions[1]);
                VectorStep step = vector.step(actions);
                if (expected.done()) {
                    assertTrue(step.done(1));
                    assertArrayEquals(expected.observation(), step.finalObservations()[1], "final observation kept");
                    assertArrayEquals(single.reset(), step.observations()[1], "row holds the next episode's start");
                    return;
                }
                assertArrayEquals(expected.observation(), step.observations()[1]);
                assertNull(step.finalObservations()[1]);
            }
            fail("a hopper driven with full torque should fall within 200 steps");
        }
    }

    @Test
    void aWrongBatchOfActionsIsRejectedBeforeAnyCopySteps() {
        MujocoTestSupport.library();
        try (var vector = ThreadedVectorEnv.make("Hopper-v5", Map.of(), 2, 2)) {
            vector.reset(1);
            assertThrows(IllegalArgumentException.class, () -> vector.step(new double[1][3]));
            assertThrows(IllegalArgumentException.class, () -> vector.step(new double[][] {new double[3], new double[2]}));
        }
    }

    @Test
    void aFailingCopyPropagatesItsExceptionAfterTheOthersFinish() {
        var failing = new CountingEnv(true);
        var healthy = new CountingEnv(false);
        try (var vector = new ThreadedVectorEnv(List.of(healthy, failing), 2)) {
            vector.reset(0);
            var e = assertThrows(IllegalStateException.class, () -> vector.step(new double[2][1]));
            assertEquals("copy failed on purpose", e.getMessage());
            assertEquals(1, healthy.steps, "the other copy still stepped");
        }
        assertTrue(failing.closed && healthy.closed, "close() closes every copy");
    }

    private static double[][] randomActions(BoxSpace space, int n, Rng rng) {
        double[][] actions = new double[n][space.dim()];
        for (double[] action : actions) {
            for (int j = 0; j < action.length; j++) action[j] = rng.uniform(space.low()[j], space.high()[j]);
        }
        return actions;
    }

    /** A trivial env that counts its steps, optionally failing in step(). */
    private static final class CountingEnv implements Env {
        private final boolean fail;
        volatile int steps;
        boolean closed;

        CountingEnv(boolean fail) {
            this.fail = fail;
        }

        @Override public String id() { return "Counting-v0"; }
        @Override public BoxSpace observationSpace() { return BoxSpace.unbounded(1); }
        @Override public BoxSpace actionSpace() { return BoxSpace.uniform(1, -1, 1); }
        @Override public double[] reset(long seed) { return new double[1]; }
        @Override public double[] reset() { return new double[1]; }
        @Override public void close() { closed = true; }

        @Override
        public StepResult step(double[] action) {
            if (fail) throw new IllegalStateException("copy failed on purpose");
            steps++;
            return new StepResult(new double[1], 0, false, false);
        }
    }
}
