package org.dmerl.env;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.dmerl.env.classic.Pendulum;
import org.dmerl.tensor.Rng;
import org.junit.jupiter.api.Test;

class SyncVectorEnvTest {

    @Test
    void resetSeedsCopyIWithSeedPlusI() {
        try (var vector = new SyncVectorEnv(3, Pendulum::new)) {
            double[][] observations = vector.reset(100);
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(new Pendulum().reset(100 + i), observations[i], "copy " + i);
            }
        }
    }

    @Test
    void sameStepAutoresetKeepsTheFinalObservation() {
        // Copy 0 terminates after 2 steps, copy 1 after 3: after the second step only copy 0 has been reset.
        var vector = new SyncVectorEnv(List.of(new ScriptedEnv(2), new ScriptedEnv(3)));
        vector.reset(0);
        double[][] actions = {{0.1}, {0.2}};
        VectorStep first = vector.step(actions);
        assertFalse(first.done(0));
        assertNull(first.finalObservations()[0]);

        VectorStep second = vector.step(actions);
        assertTrue(second.terminated()[0]);
        assertFalse(second.truncated()[0]);
        assertEquals(0.1, second.rewards()[0]);
        assertArrayEquals(new double[] {1, 2}, prefix(second.finalObservations()[0]),
                "final observation: episode 1, step 2");
        assertArrayEquals(new double[] {2, 0}, prefix(second.observations()[0]),
                "row 0 already starts episode 2");
        assertSame(second.finalObservations()[0], second.nextObservation(0));

        assertFalse(second.done(1));
        assertNull(second.finalObservations()[1]);
        assertArrayEquals(new double[] {1, 2}, prefix(second.observations()[1]));
        assertSame(second.observations()[1], second.nextObservation(1));
    }

    @Test
    void truncationAlsoAutoresetsAndKeepsTheFinalObservation() {
        var vector = new SyncVectorEnv(2, () -> new TimeLimit(new ScriptedEnv(0), 2));
        vector.reset(0);
        vector.step(new double[][] {{0}, {0}});
        VectorStep step = vector.step(new double[][] {{0}, {0}});
        for (int i = 0; i < 2; i++) {
            assertTrue(step.truncated()[i]);
            assertFalse(step.terminated()[i]);
            assertArrayEquals(new double[] {1, 2}, prefix(step.finalObservations()[i]));
            assertArrayEquals(new double[] {2, 0}, prefix(step.observations()[i]));
        }
    }

    @Test
    void givesTheSameResultsAsSteppingTheCopiesOneByOne() {
        int n = 3;
        var vector = new SyncVectorEnv(n, () -> new TimeLimit(new Pendulum(), 7));
        var singles = new ArrayList<Env>();
        for (int i = 0; i < n; i++) singles.add(new TimeLimit(new Pendulum(), 7));

        double[][] vectorObs = vector.reset(42);
        for (int i = 0; i < n; i++) assertArrayEquals(singles.get(i).reset(42 + i), vectorObs[i]);

        var actionRng = new Rng(9);
        for (int t = 0; t < 25; t++) {
            double[][] actions = new double[n][];
            for (int i = 0; i < n; i++) actions[i] = new double[] {actionRng.uniform(-2, 2)};
            VectorStep step = vector.step(actions);
            for (int i = 0; i < n; i++) {
                StepResult single = singles.get(i).step(actions[i]);
                assertEquals(single.reward(), step.rewards()[i]);
                assertEquals(single.terminated(), step.terminated()[i]);
                assertEquals(single.truncated(), step.truncated()[i]);
                if (single.done()) {
                    assertArrayEquals(single.observation(), step.finalObservations()[i]);
                    assertArrayEquals(singles.get(i).reset(), step.observations()[i]);
                } else {
                    assertNull(step.finalObservations()[i]);
                    assertArrayEquals(single.observation(), step.observations()[i]);
                }
            }
        }
    }

    @Test
    void passesEachCopysTermsThrough() {
        var vector = new SyncVectorEnv(2, () -> new RecordEpisodeStatistics(new ScriptedEnv(1)));
        vector.reset(0);
        VectorStep step = vector.step(new double[][] {{0.25}, {-0.5}});
        assertEquals(0.25, step.terms().get(0).get(RecordEpisodeStatistics.EPISODE_RETURN));
        assertEquals(-0.5, step.terms().get(1).get(RecordEpisodeStatistics.EPISODE_RETURN));
        assertEquals(1, vector.env(1).unwrap(RecordEpisodeStatistics.class).orElseThrow().finishedEpisodes());
    }

    @Test
    void rejectsActionBatchesOfTheWrongShape() {
        var vector = new SyncVectorEnv(2, () -> new ScriptedEnv(0));
        vector.reset(0);
        var tooFew = assertThrows(IllegalArgumentException.class, () -> vector.step(new double[][] {{0}}));
        assertTrue(tooFew.getMessage().contains("2 copies"), tooFew.getMessage());
        var tooLong = assertThrows(IllegalArgumentException.class, () -> vector.step(new double[][] {{0}, {0, 1}}));
        assertTrue(tooLong.getMessage().contains("copy 1"), tooLong.getMessage());
    }

    @Test
    void rejectsCopiesWithDifferentSpacesAndEmptyLists() {
        var e = assertThrows(IllegalArgumentException.class, () -> new SyncVectorEnv(List.of(
                new ScriptedEnv(0), new ScriptedEnv(0, BoxSpace.uniform(1, -2, 2)))));
        assertTrue(e.getMessage().contains("action space"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SyncVectorEnv(List.of()));
        assertThrows(IllegalArgumentException.class, () -> new SyncVectorEnv(0, () -> new ScriptedEnv(0)));
    }

    @Test
    void closeClosesEveryCopy() {
        var copies = List.of(new ScriptedEnv(0), new ScriptedEnv(0));
        new SyncVectorEnv(copies).close();
        assertTrue(copies.stream().allMatch(env -> env.closed));
    }

    private static double[] prefix(double[] observation) {
        return new double[] {observation[0], observation[1]};
    }
}
