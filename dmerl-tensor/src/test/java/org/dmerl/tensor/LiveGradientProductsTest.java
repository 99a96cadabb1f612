package org.dmerl.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A ReLU layer whose gradient has zero columns (units inactive on the whole batch) and zero rows (samples the loss
 * does not reach) takes its backward products over the live part only, with the bits of the dense products.
 */
class LiveGradientProductsTest {

    @AfterEach
    void oneThread() {
        Parallel.setThreads(1);
    }

    @Test
    void deadUnitsAndUnreachedRowsLeaveEveryGradientBitUnchanged() {
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            // batch, in, out, every how many units is dead, every how many rows the loss reaches (1: all)
            for (int[] c : new int[][] {{256, 64, 256, 3, 1}, {256, 256, 256, 2, 2}, {40, 7, 33, 4, 3}, {256, 4, 256, 5, 2}}) {
                for (boolean weightGrad : new boolean[] {true, false}) {
                    String what = "threads " + threads + ", case " + java.util.Arrays.toString(c) + ", dW " + weightGrad;
                    Rng rng = new Rng(31 + c[0] + c[1]);
                    int batch = c[0], in = c[1], out = c[2];
                    Tensor x = param("x", batch, in, rng, 1);
                    Tensor w = param("w", in, out, rng, 0.3);
                    Tensor b = param("b", 1, out, rng, 0.5);
                    for (int j = 0; j < out; j += c[3]) b.data[j] = -50f;
                    w.setRequiresGrad(weightGrad);
                    Tensor v = Tensor.zeros(out, 1);
                    for (int i = 0; i < out; i++) v.data[i] = (float) rng.gaussian();
                    float[] reached = new float[batch];
                    for (int r = 0; r < batch; r++) reached[r] = r % c[4] == 0 ? 1f : 0f;

                    Graph fused = new Graph();
                    float[][] live = pass(fused, true, x, w, b, v, reached);
                    assertEquals(1, fused.liveProducts.compactions, what + ": the live path was not taken");
                    float[][] dense = pass(new Graph(), false, x, w, b, v, reached);
                    for (int k = 0; k < live.length; k++) {
                        for (int i = 0; i < live[k].length; i++) {
                            assertEquals(Float.floatToRawIntBits(dense[k][i]), Float.floatToRawIntBits(live[k][i]),
                                    what + ", array " + k + ", element " + i);
                        }
                    }
                    int nonzero = 0;
                    for (float g : live[0]) if (g != 0f) nonzero++;
                    assertTrue(nonzero > 0, what + ": dX is all zero");
                }
            }
        }
    }

    @Test
    void mostlyLiveGradientStaysDense() {
        Rng rng = new Rng(5);
        Tensor x = param("x", 64, 32, rng, 1), w = param("w", 32, 48, rng, 0.3), b = param("b", 1, 48, rng, 0.5);
        b.data[0] = -50f;   // one dead unit of 48: gathering would cost more than it saves
        Tensor v = Tensor.zeros(48, 1);
        java.util.Arrays.fill(v.data, 1f);
        float[] all = new float[64];
        java.util.Arrays.fill(all, 1f);
        Graph g = new Graph();
        pass(g, true, x, w, b, v, all);
        assertEquals(0, g.liveProducts.compactions);
    }

    /** x.grad, w.grad and b.grad of Σ_rows reached·((relu(x·w + b)·v)²), fused node or ReLU after linear. */
    private static float[][] pass(Graph g, boolean fused, Tensor x, Tensor w, Tensor b, Tensor v, float[] reached) {
        for (Tensor t : new Tensor[] {x, w, b}) java.util.Arrays.fill(t.grad, 0f);
        Tensor h = fused ? g.linearRelu(x, w, b) : g.relu(g.linear(x, w, b));
        Tensor mask = g.input(reached.length, 1);
        System.arraycopy(reached, 0, mask.data, 0, reached.length);
        g.backward(g.sum(g.mul(g.square(g.matmul(h, v)), mask)));
        return new float[][] {x.grad.clone(), w.grad.clone(), b.grad.clone()};
    }

    private static Tensor param(String name, int rows, int cols, Rng rng, double scale) {
        Tensor t = Tensor.param(name, rows, cols);
        for (int i = 0; i < t.size(); i++) t.data[i] = (float) (scale * rng.gaussian());
        return t;
    }
}
