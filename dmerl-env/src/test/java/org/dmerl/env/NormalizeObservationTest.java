package org.dmerl.env;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class NormalizeObservationTest {

    private static final double[] ACTION = {0};

    @Test
    void statisticsMatchTheMomentsOfAllObservationsSeen() {
        var inner = new ScriptedEnv(7);
        var env = new NormalizeObservation(inner);
        env.reset(11);
        for (int t = 0; t < 200; t++) {
            if (env.step(ACTION).done()) env.reset();
        }
        List<double[]> seen = inner.emittedObservations;
        RunningMeanStd stats = env.statistics();

        assertEquals(seen.size(), stats.count());
        for (int d = 0; d < 3; d++) {
            double mean = 0;
            for (double[] obs : seen) mean += obs[d];
            mean /= seen.size();
            double var = 0;
            for (double[] obs : seen) var += (obs[d] - mean) * (obs[d] - mean);
            var /= seen.size();
            assertEquals(mean, stats.mean()[d], 1e-12, "mean of dim " + d);
            assertEquals(var, stats.var()[d], 1e-10, "var of dim " + d);
        }
    }

    @Test
    void returnsTheObservationNormalisedWithTheUpdatedStatistics() {
        var inner = new ScriptedEnv(0);
        var env = new NormalizeObservation(inner);
        env.reset(5);
        env.step(ACTION);
        double[] returned = env.step(ACTION).observation();
        double[] raw = inner.emittedObservations.getLast();
        RunningMeanStd stats = env.statistics();
        for (int d = 0; d < 3; d++) {
            double expected = (raw[d] - stats.mean()[d]) / Math.sqrt(stats.var()[d] + 1e-8);
            assertEquals(Math.clamp(expected, -10, 10), returned[d], 1e-15);
        }
        assertArrayEquals(returned, env.normalize(raw), "normalize() uses the same statistics");
    }

    @Test
    void normaliseDoesNotUpdateTheStatistics() {
        var env = new NormalizeObservation(new ScriptedEnv(0));
        env.reset(5);
        RunningMeanStd before = env.statistics();
        env.normalize(new double[] {100, -3, 7});
        assertEquals(before, env.statistics());
    }

    @Test
    void freezingStopsUpdatesAndUnfreezingResumesThem() {
        var inner = new ScriptedEnv(0);
        var env = new NormalizeObservation(inner);
        env.reset(5);
        for (int t = 0; t < 10; t++) env.step(ACTION);
        RunningMeanStd before = env.statistics();

        env.freeze(true);
        assertTrue(env.isFrozen());
        env.reset();
        for (int t = 0; t < 10; t++) {
            double[] returned = env.step(ACTION).observation();
            assertArrayEquals(env.normalize(inner.emittedObservations.getLast()), returned);
        }
        assertEquals(before, env.statistics());

        env.freeze(false);
        env.step(ACTION);
        assertEquals(before.count() + 1, env.statistics().count());
    }

    @Test
    void statisticsRoundTripIntoAFreshWrapper() {
        var env = new NormalizeObservation(new ScriptedEnv(0));
        env.reset(5);
        for (int t = 0; t < 20; t++) env.step(ACTION);
        RunningMeanStd saved = env.statistics();

        var restored = new NormalizeObservation(new ScriptedEnv(0));
        restored.setStatistics(new RunningMeanStd(saved.mean(), saved.var(), saved.count()));
        assertEquals(saved, restored.statistics());
        double[] probe = {1.5, -2, 8};
        assertArrayEquals(env.normalize(probe), restored.normalize(probe));
    }

    @Test
    void clipsOutliersToTenStandardDeviations() {
        var env = new NormalizeObservation(new ScriptedEnv(0));
        env.setStatistics(new RunningMeanStd(new double[] {0, 0, 0}, new double[] {1, 1, 1}, 10));
        assertArrayEquals(new double[] {10, -10, 3}, env.normalize(new double[] {50, -50, 3}), 1e-7);
        assertEquals(BoxSpace.uniform(3, -10, 10).toString(), env.observationSpace().toString());
    }

    @Test
    void beforeAnySampleOnlyTheClipApplies() {
        var env = new NormalizeObservation(new ScriptedEnv(0));
        assertArrayEquals(new double[] {2, -3, 10}, env.normalize(new double[] {2, -3, 40}), 1e-7);
    }

    @Test
    void mergingSummariesEqualsSummarisingTheUnion() {
        double[][] a = {{1, 10}, {2, 20}, {4, 25}};
        double[][] b = {{-3, 0}, {7, 5}};
        double[][] union = {{1, 10}, {2, 20}, {4, 25}, {-3, 0}, {7, 5}};
        RunningMeanStd merged = RunningMeanStd.of(a).merge(RunningMeanStd.of(b));
        RunningMeanStd direct = RunningMeanStd.of(union);
        assertEquals(direct.count(), merged.count());
        assertArrayEquals(direct.mean(), merged.mean(), 1e-12);
        assertArrayEquals(direct.var(), merged.var(), 1e-12);
        assertEquals(merged, RunningMeanStd.empty(2).merge(merged), "the empty summary is the identity");
    }

    @Test
    void snapshotsAreImmutable() {
        var stats = new RunningMeanStd(new double[] {1}, new double[] {2}, 3);
        stats.mean()[0] = 99;
        stats.var()[0] = 99;
        assertEquals(1, stats.mean()[0]);
        assertEquals(2, stats.var()[0]);
    }

    @Test
    void rejectsBadArguments() {
        var zeroEpsilon = assertThrows(IllegalArgumentException.class,
                () -> new NormalizeObservation(new ScriptedEnv(0), 0, 10));
        assertTrue(zeroEpsilon.getMessage().contains("epsilon"), zeroEpsilon.getMessage());
        var negativeClip = assertThrows(IllegalArgumentException.class,
                () -> new NormalizeObservation(new ScriptedEnv(0), 1e-8, -1));
        assertTrue(negativeClip.getMessage().contains("clip"), negativeClip.getMessage());
        var env = new NormalizeObservation(new ScriptedEnv(0));
        var wrongDim = assertThrows(IllegalArgumentException.class,
                () -> env.setStatistics(RunningMeanStd.empty(2)));
        assertTrue(wrongDim.getMessage().contains("dim 2"), wrongDim.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new RunningMeanStd(new double[] {0}, new double[] {-1}, 1));
        assertThrows(IllegalArgumentException.class,
                () -> new RunningMeanStd(new double[] {0}, new double[] {1}, -1));
    }
}
