package org.dmerl.env;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@link RunningMeanStd#normalize}: what a saved policy applies to raw observations outside any wrapper. */
class RunningMeanStdNormalizeTest {

    @Test
    void normalisesAndClipsPerDimension() {
        var st = new RunningMeanStd(new double[] {1, -2, 0}, new double[] {4, 0.25, 0}, 7);
        double[] out = st.normalize(new double[] {5, -2.5, 3}, 1e-8, 10);
        assertEquals(4 / Math.sqrt(4 + 1e-8), out[0], 1e-15);
        assertEquals(-0.5 / Math.sqrt(0.25 + 1e-8), out[1], 1e-15);
        assertEquals(10, out[2], 0, "zero variance: clipped");
        assertArrayEquals(new double[] {-1, 1, -1}, st.normalize(new double[] {-100, 100, -1}, 1e-8, 1), 1e-12);
    }

    @Test
    void agreesWithNormalizeObservationUnderTheSameStatistics() {
        var env = new NormalizeObservation(new ScriptedEnv(0));
        env.reset(3);
        for (int t = 0; t < 25; t++) env.step(new double[] {0});
        RunningMeanStd st = env.statistics();
        double[] probe = {2, 7, -4};
        assertArrayEquals(env.normalize(probe),
                st.normalize(probe, NormalizeObservation.DEFAULT_EPSILON, NormalizeObservation.DEFAULT_CLIP));
        assertEquals(st, env.statistics(), "normalising does not update anything");
        double[] copy = probe.clone();
        st.normalize(probe, 1e-8, 10);
        assertArrayEquals(copy, probe, "the input is not modified");
    }

    @Test
    void rejectsAnObservationOfTheWrongLength() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> RunningMeanStd.empty(3).normalize(new double[] {1, 2}, 1e-8, 10));
        assertTrue(e.getMessage().contains("expected 3"), e.getMessage());
    }
}
