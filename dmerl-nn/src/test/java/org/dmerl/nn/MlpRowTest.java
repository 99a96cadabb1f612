package org.dmerl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Parallel;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The tape-free batch-1 pass ({@link Mlp#forwardRow}) against the graph pass, and its cache of first-layer products
 * over recurring input blocks against a cold network with the same weights.
 */
class MlpRowTest {

    private static final int IN = 11;

    /** Inputs [2, 7) recur with one slot, [7, 11) with three; [0, 2) change every call. */
    private static Mlp net(int width, int out, boolean recurring) {
        Mlp m = new Mlp("m", IN, new int[] {width, width}, out, Activation.GELU, Linear.WeightInit.LECUN_NORMAL, false,
                new Rng(7));
        return recurring ? m.recurringRowInput(2, 7, 1).recurringRowInput(7, IN, 3) : m;
    }

    private static float[] graphForward(Mlp m, float[] in) {
        Graph g = new Graph();
        g.setGradEnabled(false);
        Tensor x = g.input(1, IN);
        System.arraycopy(in, 0, x.data, 0, IN);
        return m.forward(g, x).toArray();
    }

    private static float[] row(Mlp m, float[] in) {
        float[] out = new float[m.out()];
        m.forwardRow(in, out);
        return out;
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            float tol = 2e-5f * Math.max(1f, Math.abs(expected[i]));
            assertTrue(Math.abs(expected[i] - actual[i]) <= tol,
                    what + ": output " + i + " is " + actual[i] + ", graph pass " + expected[i]);
        }
    }

    /**
     * Widths below one packed panel (16), with a one-column rest (65) and the default (256); outputs of one vector or
     * less (1, 6: the eight-chain narrow layer) and wider (9, 70: the panel path). A sequence of inputs whose blocks
     * recur, change by one ulp, and come back after being evicted.
     */
    @ParameterizedTest
    @CsvSource({"16, 1", "65, 6", "256, 6", "256, 9", "65, 70"})
    void rowPassMatchesTheGraphAndItsCacheMatchesAColdNetwork(int width, int out) {
        Mlp warm = net(width, out, true);
        Rng rng = new Rng(11);
        float[] state = new float[5];
        float[][] steps = new float[4][4];
        for (float[] s : steps) for (int i = 0; i < s.length; i++) s[i] = (float) rng.gaussian();
        for (int call = 0; call < 40; call++) {
            if (call % 8 == 0) for (int i = 0; i < state.length; i++) state[i] = (float) rng.gaussian();
            if (call == 20) state[3] = Math.nextUp(state[3]);
            float[] in = new float[IN];
            in[0] = (float) rng.gaussian();
            in[1] = (float) rng.gaussian();
            System.arraycopy(state, 0, in, 2, 5);
            System.arraycopy(steps[call % 4], 0, in, 7, 4);   // four step rows through three slots
            float[] cold = row(net(width, out, true), in);
            for (int threads = 1; threads <= 2; threads++) {
                Parallel.setThreads(threads);
                try {
                    assertArrayEquals(cold, row(warm, in), "call " + call + ", threads " + threads);
                } finally {
                    Parallel.setThreads(1);
                }
            }
            assertClose(graphForward(warm, in), cold, "call " + call);
            assertClose(row(net(width, out, false), in), cold, "without recurring blocks, call " + call);
        }
    }

    /** A weight change empties the kept products: the next call sees the new weights. */
    @Test
    void changedWeightsAreNotServedFromTheCache() {
        Mlp m = net(64, 6, true);
        float[] in = new float[IN];
        for (int i = 0; i < IN; i++) in[i] = 0.1f * (i + 1);
        row(m, in);
        Tensor w = m.parameters().get(0);
        for (int i = 0; i < w.size(); i++) w.data[i] *= 1.5f;
        w.touch();
        assertClose(graphForward(m, in), row(m, in), "after the first layer's weights changed");
    }

    @Test
    void badBlocksAreRejected() {
        Mlp m = net(16, 1, false);
        assertThrows(IllegalArgumentException.class, () -> m.recurringRowInput(5, IN + 1, 1));
        assertThrows(IllegalArgumentException.class, () -> m.recurringRowInput(3, 3, 1));
        assertThrows(IllegalArgumentException.class, () -> m.recurringRowInput(0, 2, 0));
        m.recurringRowInput(2, 6, 1);
        assertThrows(IllegalArgumentException.class, () -> m.recurringRowInput(5, 8, 1));
    }
}
