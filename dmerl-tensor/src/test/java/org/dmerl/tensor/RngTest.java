package org.dmerl.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class RngTest {

    private static long[] longs(Rng rng, int n) {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) out[i] = rng.nextLong();
        return out;
    }

    @Test
    void sameSeedSameStream() {
        Rng a = new Rng(42), b = new Rng(42);
        assertArrayEquals(longs(a, 1000), longs(b, 1000));
        for (int i = 0; i < 1000; i++) {
            assertEquals(Double.doubleToRawLongBits(a.gaussian()), Double.doubleToRawLongBits(b.gaussian()));
            assertEquals(a.nextDouble(), b.nextDouble());
            assertEquals(a.nextInt(17), b.nextInt(17));
        }
    }

    @Test
    void differentSeedsDiffer() {
        long[] x = longs(new Rng(1), 100), y = longs(new Rng(2), 100), z = longs(new Rng(0), 100);
        int same = 0;
        for (int i = 0; i < 100; i++) {
            if (x[i] == y[i]) same++;
            if (x[i] == z[i]) same++;
        }
        assertEquals(0, same);
        // Seed 0 does not give a degenerate (all-zero) state.
        Set<Long> distinct = new HashSet<>();
        for (long v : z) distinct.add(v);
        assertEquals(100, distinct.size());
    }

    @Test
    void splitStreamsDiffer() {
        Rng parent = new Rng(7);
        Rng c1 = parent.split(), c2 = parent.split();
        long[] p = longs(parent, 200), a = longs(c1, 200), b = longs(c2, 200);
        Set<Long> all = new HashSet<>();
        for (long v : p) all.add(v);
        for (long v : a) all.add(v);
        for (long v : b) all.add(v);
        assertEquals(600, all.size(), "split streams overlap");
        // Splitting is itself deterministic.
        Rng again = new Rng(7);
        assertArrayEquals(a, longs(again.split(), 200));
        assertArrayEquals(b, longs(again.split(), 200));
    }

    @Test
    void stateRoundTripIncludesSpareGaussian() {
        Rng rng = new Rng(123);
        rng.gaussian(); // leaves a spare Gaussian pending
        long[] state = rng.state();
        assertEquals(6, state.length);
        assertEquals(1, state[5], "spare flag");
        double[] expected = new double[50];
        for (int i = 0; i < expected.length; i++) expected[i] = i % 3 == 0 ? rng.nextLong() : rng.gaussian();

        // Restored into the same instance.
        rng.setState(state);
        for (int i = 0; i < expected.length; i++) {
            double v = i % 3 == 0 ? rng.nextLong() : rng.gaussian();
            assertEquals(Double.doubleToRawLongBits(expected[i]), Double.doubleToRawLongBits(v), "draw " + i);
        }
        // Restored into a fresh instance with another seed and its own pending spare.
        Rng other = new Rng(999);
        other.gaussian();
        other.gaussian();
        other.gaussian();
        other.setState(state);
        for (int i = 0; i < expected.length; i++) {
            double v = i % 3 == 0 ? other.nextLong() : other.gaussian();
            assertEquals(Double.doubleToRawLongBits(expected[i]), Double.doubleToRawLongBits(v), "draw " + i);
        }
        // The first Gaussian after the restore is the saved spare itself.
        other.setState(state);
        assertEquals(Double.longBitsToDouble(state[4]), other.gaussian());

        // And without a pending spare.
        Rng clean = new Rng(5);
        long[] s2 = clean.state();
        assertEquals(0, s2[5]);
        double g1 = clean.gaussian(), g2 = clean.gaussian();
        clean.setState(s2);
        assertEquals(g1, clean.gaussian());
        assertEquals(g2, clean.gaussian());
    }

    @Test
    void stateIsACopy() {
        Rng rng = new Rng(3);
        long[] state = rng.state();
        long[] copy = state.clone();
        rng.nextLong();
        assertArrayEquals(copy, state);
        assertTrue(!Arrays.equals(copy, rng.state()), "state() unchanged after a draw");
    }

    @Test
    void setStateRejectsWrongLength() {
        assertThrows(IllegalArgumentException.class, () -> new Rng(1).setState(new long[5]));
    }

    @Test
    void gaussianMoments() {
        Rng rng = new Rng(2024);
        int n = 100_000;
        double s = 0, sq = 0, cube = 0, quart = 0;
        for (int i = 0; i < n; i++) {
            double x = rng.gaussian();
            s += x;
            sq += x * x;
            cube += x * x * x;
            quart += x * x * x * x;
        }
        double mean = s / n, var = sq / n - mean * mean;
        assertEquals(0, mean, 0.015);
        assertEquals(1, var, 0.02);
        assertEquals(0, cube / n, 0.05);
        assertEquals(3, quart / n, 0.1);
        // fillGaussian draws the same stream.
        Rng a = new Rng(9), b = new Rng(9);
        float[] out = new float[11];
        a.fillGaussian(out, 1, 10);
        assertEquals(0f, out[0]);
        for (int i = 1; i <= 10; i++) assertEquals((float) b.gaussian(), out[i]);
    }

    @Test
    void uniformBoundsAndMoments() {
        Rng rng = new Rng(5);
        int n = 100_000;
        double s = 0, min = 1, max = 0;
        for (int i = 0; i < n; i++) {
            double u = rng.nextDouble();
            assertTrue(u >= 0 && u < 1, "nextDouble " + u);
            s += u;
            min = Math.min(min, u);
            max = Math.max(max, u);
        }
        assertEquals(0.5, s / n, 0.005);
        assertTrue(min < 1e-3 && max > 1 - 1e-3);
        for (int i = 0; i < 10_000; i++) {
            double u = rng.uniform(-3, -1);
            assertTrue(u >= -3 && u < -1, "uniform " + u);
        }
    }

    @Test
    void nextIntBoundsAndCoverage() {
        Rng rng = new Rng(6);
        for (int bound : new int[] {1, 2, 3, 7, 10, 1000, Integer.MAX_VALUE}) {
            int[] counts = new int[Math.min(bound, 1000)];
            for (int i = 0; i < 20_000; i++) {
                int v = rng.nextInt(bound);
                assertTrue(v >= 0 && v < bound, "nextInt(" + bound + ") = " + v);
                if (bound <= 1000) counts[v]++;
            }
            if (bound <= 10) {
                for (int c : counts) assertEquals(20_000.0 / bound, c, 0.1 * 20_000 / bound, "bound " + bound);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> rng.nextInt(0));
        assertThrows(IllegalArgumentException.class, () -> rng.nextInt(-5));
    }
}
