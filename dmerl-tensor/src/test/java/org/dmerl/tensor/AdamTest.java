package org.dmerl.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class AdamTest {

    /** Reference Adam in double, PyTorch semantics: w -= lr · m̂ / (√v̂ + eps). */
    private static final class RefAdam {
        final double lr, b1, b2, eps;
        final double[] w, m, v;
        int t;

        RefAdam(float[] w0, double lr, double b1, double b2, double eps) {
            this.lr = lr;
            this.b1 = b1;
            this.b2 = b2;
            this.eps = eps;
            w = new double[w0.length];
            for (int i = 0; i < w0.length; i++) w[i] = w0[i];
            m = new double[w0.length];
            v = new double[w0.length];
        }

        void step(float[] g) {
            t++;
            for (int i = 0; i < w.length; i++) {
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * (double) g[i] * g[i];
                double mhat = m[i] / (1 - Math.pow(b1, t));
                double vhat = v[i] / (1 - Math.pow(b2, t));
                w[i] -= lr * mhat / (Math.sqrt(vhat) + eps);
            }
        }
    }

    private static Tensor randomParam(String name, int rows, int cols, Rng rng) {
        Tensor t = Tensor.param(name, rows, cols);
        Init.uniform(t, -1, 1, rng);
        return t;
    }

    private static void randomGrad(Tensor t, Rng rng) {
        for (int i = 0; i < t.size(); i++) {
            // Magnitudes from 1e-3 to 10, both signs; eps stays negligible except where tested on purpose.
            t.grad[i] = (float) ((rng.nextDouble() < 0.5 ? -1 : 1) * Math.pow(10, rng.uniform(-3, 1)));
        }
    }

    @Test
    void firstStepMatchesHandComputation() {
        Tensor w = Tensor.param("w", 1, 3);
        w.data[0] = 1f; w.data[1] = -2f; w.data[2] = 0.5f;
        w.grad[0] = 0.5f; w.grad[1] = -4f; w.grad[2] = 0f;
        Adam adam = new Adam(List.of(w), 0.1f);
        long version = w.version();
        adam.step();
        // Step 1: m̂ = g, v̂ = g², so the update is lr · g / (|g| + eps) ≈ lr · sign(g); zero gradient, no update.
        assertEquals(1f - 0.1f * 0.5f / (0.5f + 1e-8f), w.data[0], 1e-6f);
        assertEquals(-2f + 0.1f * 4f / (4f + 1e-8f), w.data[1], 1e-6f);
        assertEquals(0.5f, w.data[2], 0f);
        assertEquals(1, adam.stepCount());
        assertTrue(w.version() > version, "step() must touch the parameter");
    }

    /**
     * Moments that decay below the smallest normal float become zero (on the vector lanes and the scalar tail), the
     * weights they belong to do not move, and every other moment keeps the bits of the update's formula.
     */
    @Test
    void subnormalMomentsBecomeZeroAndLeaveTheirWeightsUnchanged() {
        int n = 37;
        Tensor w = Tensor.param("w", 1, n);
        Rng rng = new Rng(3);
        Init.uniform(w, -1, 1, rng);
        float[] w0 = w.data.clone();
        Adam adam = new Adam(List.of(w), 3e-4f);
        float[] m = adam.moments()[0], v = adam.moments()[1];
        float[] m0 = new float[n], v0 = new float[n];
        for (int i = 0; i < n; i++) {
            boolean decaying = i % 2 == 0;
            // just above the smallest normal float: one step of β₁ or β₂ with a zero gradient takes them below it
            m0[i] = decaying ? 1.00001f * Float.MIN_NORMAL * (i % 4 == 0 ? 1 : -1) : (float) rng.uniform(-1e-3, 1e-3);
            v0[i] = decaying ? 1.0000001f * Float.MIN_NORMAL : (float) rng.uniform(1e-8, 1e-6);
            w.grad[i] = decaying ? 0f : (float) rng.uniform(-1e-2, 1e-2);
        }
        System.arraycopy(m0, 0, m, 0, n);
        System.arraycopy(v0, 0, v, 0, n);
        adam.step();
        for (int i = 0; i < n; i++) {
            if (i % 2 == 0) {
                assertEquals(0, Float.floatToRawIntBits(m[i]), "m[" + i + "] = " + m[i]);
                assertEquals(0, Float.floatToRawIntBits(v[i]), "v[" + i + "] = " + v[i]);
                assertEquals(Float.floatToRawIntBits(w0[i]), Float.floatToRawIntBits(w.data[i]), "w[" + i + "] moved");
            } else {
                float g = w.grad[i];
                assertEquals(0.9f * m0[i] + (1 - 0.9f) * g, m[i], 0f, "m[" + i + "]");
                assertEquals(0.999f * v0[i] + (1 - 0.999f) * g * g, v[i], 0f, "v[" + i + "]");
                assertTrue(w.data[i] != w0[i], "w[" + i + "] did not move");
            }
        }
    }

    @Test
    void epsIsAddedOutsideTheSquareRoot() {
        Tensor w = Tensor.param("w", 1, 1);
        w.grad[0] = 0.01f;
        Adam adam = new Adam(List.of(w), 1f, 0.9f, 0.999f, 0.1f);
        adam.step();
        // 0.01 / (0.01 + 0.1) (eps inside the root would give 0.01 / √(1e-4 + 0.1) ≈ 0.0316).
        assertEquals(-0.01 / 0.11, w.data[0], 1e-6);
    }

    @Test
    void severalStepsMatchReferenceWithBiasCorrection() {
        Rng rng = new Rng(1);
        // 1×3 is all scalar tail; 2×19 = 38 mixes full vectors and a tail.
        Tensor a = randomParam("a", 1, 3, rng), b = randomParam("b", 2, 19, rng);
        float lr = 3e-3f, b1 = 0.8f, b2 = 0.99f, eps = 1e-6f;
        Adam adam = new Adam(List.of(a, b), lr, b1, b2, eps);
        RefAdam ra = new RefAdam(a.toArray(), lr, b1, b2, eps), rb = new RefAdam(b.toArray(), lr, b1, b2, eps);
        for (int step = 1; step <= 20; step++) {
            randomGrad(a, rng);
            randomGrad(b, rng);
            ra.step(a.grad.clone());
            rb.step(b.grad.clone());
            adam.step();
            for (int i = 0; i < a.size(); i++) assertEquals(ra.w[i], a.data[i], 2e-6, "a[" + i + "] step " + step);
            for (int i = 0; i < b.size(); i++) assertEquals(rb.w[i], b.data[i], 2e-6, "b[" + i + "] step " + step);
        }
        assertEquals(20, adam.stepCount());
        // Moments exposed for checkpoints: m and v per parameter, in order.
        float[][] mom = adam.moments();
        assertEquals(4, mom.length);
        for (int i = 0; i < b.size(); i++) {
            assertEquals(rb.m[i], mom[2][i], 1e-5 * (1 + Math.abs(rb.m[i])));
            assertEquals(rb.v[i], mom[3][i], 1e-5 * (1 + Math.abs(rb.v[i])));
        }
    }

    @Test
    void restoredStepCountContinuesBiasCorrection() {
        Rng rng = new Rng(2);
        Tensor w = randomParam("w", 1, 10, rng);
        Tensor w2 = Tensor.param("w2", 1, 10);
        w2.copyFrom(w);
        Adam first = new Adam(List.of(w), 0.01f);
        for (int i = 0; i < 5; i++) {
            randomGrad(w, rng);
            first.step();
        }
        // Copy the state into a second optimiser and take one more identical step with each.
        w2.copyFrom(w);
        Adam second = new Adam(List.of(w2), 0.01f);
        float[][] src = first.moments(), dst = second.moments();
        for (int i = 0; i < src.length; i++) System.arraycopy(src[i], 0, dst[i], 0, src[i].length);
        second.setStepCount(first.stepCount());
        randomGrad(w, rng);
        System.arraycopy(w.grad, 0, w2.grad, 0, w.size());
        first.step();
        second.step();
        assertArrayEquals(w.toArray(), w2.toArray(), 0f);
    }

    @Test
    void convergesOnAQuadratic() {
        Rng rng = new Rng(3);
        Tensor w = randomParam("w", 3, 7, rng);
        Tensor target = Tensor.zeros(3, 7);
        for (int i = 0; i < target.size(); i++) target.data[i] = (float) rng.uniform(-3, 3);
        Tensor scale = Tensor.zeros(1, 7);
        for (int i = 0; i < 7; i++) scale.data[i] = (float) Math.pow(10, i / 3.0 - 1); // ill-conditioned: 0.1 .. 10
        Adam adam = new Adam(List.of(w), 0.05f);
        Graph g = new Graph();
        float first = Float.NaN, last = Float.NaN;
        for (int step = 0; step < 1500; step++) {
            if (step == 1000) adam.setLearningRate(0.005f);
            adam.zeroGrad();
            g.reset();
            Tensor loss = g.sum(g.mul(g.square(g.sub(w, target)), scale));
            g.backward(loss);
            if (step == 0) first = loss.item();
            last = loss.item();
            adam.step();
        }
        assertEquals(0.005f, adam.learningRate());
        assertTrue(last < 1e-4 * first, "loss " + first + " -> " + last);
        for (int i = 0; i < w.size(); i++) assertEquals(target.data[i], w.data[i], 1e-2, "w[" + i + "]");
    }

    @Test
    void rejectsNonPositiveLearningRate() {
        Tensor w = Tensor.param("w", 1, 1);
        assertThrows(IllegalArgumentException.class, () -> new Adam(List.of(w), 0f));
        assertThrows(IllegalArgumentException.class, () -> new Adam(List.of(w), -1f));
        assertThrows(IllegalArgumentException.class, () -> new Adam(List.of(w), Float.NaN));
    }

    /**
     * A step that also moves averages τ of the way to the new weights gives the bits of a plain step followed by the
     * separate pass a += τ·(p − a), on the vector lanes and the scalar tail, on one thread and two.
     */
    @Test
    void stepWithAveragesIsAStepThenAPolyakPass() {
        float tau = 0.005f;
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            try {
                Rng rng = new Rng(threads);
                int[][] shapes = {{256, 256}, {3, 5}, {1, 256}};
                List<Tensor> fused = new java.util.ArrayList<>(), plain = new java.util.ArrayList<>();
                List<Tensor> fusedAvg = new java.util.ArrayList<>(), plainAvg = new java.util.ArrayList<>();
                for (int[] shape : shapes) {
                    Tensor w = Tensor.param("w", shape[0], shape[1]), avg = Tensor.zeros(shape[0], shape[1]);
                    for (int i = 0; i < w.size(); i++) {
                        w.data[i] = (float) rng.gaussian();
                        avg.data[i] = (float) rng.gaussian();
                    }
                    Tensor w2 = Tensor.param("w2", shape[0], shape[1]);
                    System.arraycopy(w.data, 0, w2.data, 0, w.size());
                    fused.add(w);
                    plain.add(w2);
                    fusedAvg.add(avg);
                    plainAvg.add(Tensor.of(shape[0], shape[1], avg.data.clone()));
                }
                Adam a = new Adam(fused, 1e-3f), b = new Adam(plain, 1e-3f);
                for (int step = 0; step < 5; step++) {
                    for (int p = 0; p < fused.size(); p++) {
                        for (int i = 0; i < fused.get(p).size(); i++) {
                            float g = (float) rng.gaussian();
                            fused.get(p).grad[i] = g;
                            plain.get(p).grad[i] = g;
                        }
                    }
                    a.step(fusedAvg, tau);
                    b.step();
                    for (int p = 0; p < plain.size(); p++) {
                        float[] d = plainAvg.get(p).data, src = plain.get(p).data;
                        for (int i = 0; i < d.length; i++) d[i] += tau * (src[i] - d[i]);
                    }
                }
                for (int p = 0; p < fused.size(); p++) {
                    assertArrayEquals(plain.get(p).data, fused.get(p).data, "weights " + p);
                    assertArrayEquals(plainAvg.get(p).data, fusedAvg.get(p).data, "averages " + p);
                }
            } finally {
                Parallel.setThreads(1);
            }
        }
    }

    /** With gradients zeroed in the step, the weights have the bits of a step then zeroGrad, and every gradient is 0. */
    @Test
    void stepThatZeroesGradientsMatchesStepThenZeroGrad() {
        Rng rng = new Rng(9);
        Tensor w = Tensor.param("w", 37, 41), w2 = Tensor.param("w2", 37, 41);
        for (int i = 0; i < w.size(); i++) w2.data[i] = w.data[i] = (float) rng.gaussian();
        Adam zeroing = new Adam(List.of(w), 1e-2f).zeroGradientsInStep(), plain = new Adam(List.of(w2), 1e-2f);
        for (int step = 0; step < 4; step++) {
            for (int i = 0; i < w.size(); i++) w2.grad[i] = w.grad[i] += (float) rng.gaussian();
            zeroing.step();
            plain.step();
            plain.zeroGrad();
            assertArrayEquals(new float[w.size()], w.grad);
            assertArrayEquals(w2.data, w.data);
        }
    }

    @Test
    void averagesOfAnotherShapeAreRejected() {
        Tensor w = Tensor.param("w", 2, 3);
        Adam adam = new Adam(List.of(w), 0.1f);
        var e = assertThrows(IllegalArgumentException.class, () -> adam.step(List.of(Tensor.zeros(3, 2)), 0.1f));
        assertEquals("average 0 is [3, 2], its parameter [2, 3]", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> adam.step(List.of(), 0.1f));
    }

    @Test
    void zeroGradClearsAllParameters() {
        Tensor a = Tensor.param("a", 2, 2), b = Tensor.param("b", 1, 3);
        a.grad[3] = 1;
        b.grad[0] = -2;
        new Adam(List.of(a, b), 0.1f).zeroGrad();
        assertArrayEquals(new float[4], a.grad);
        assertArrayEquals(new float[3], b.grad);
    }

    @Test
    void clipGradNormScalesToMaxNormAndReturnsNormBefore() {
        Tensor a = Tensor.param("a", 1, 2), b = Tensor.param("b", 2, 1);
        a.grad[0] = 3; a.grad[1] = 0;
        b.grad[0] = 0; b.grad[1] = 4;
        float before = Adam.clipGradNorm(List.of(a, b), 1f);
        assertEquals(5f, before, 1e-6f);
        assertEquals(0.6f, a.grad[0], 1e-5f);
        assertEquals(0.8f, b.grad[1], 1e-5f);
        assertEquals(0f, a.grad[1]);
        double after = Math.sqrt(a.grad[0] * a.grad[0] + b.grad[1] * b.grad[1]);
        assertEquals(1.0, after, 1e-5);
        assertTrue(after <= 1.0 + 1e-7, "clipped norm " + after);

        // Below the limit: untouched, still returns the norm.
        float again = new Adam(List.of(a, b), 0.1f).clipGradNorm(10f);
        assertEquals(1f, again, 1e-5f);
        assertEquals(0.6f, a.grad[0], 1e-5f);
        assertEquals(0.8f, b.grad[1], 1e-5f);
    }

    @Test
    void clipGradNormOnLargeGradients() {
        Rng rng = new Rng(4);
        Tensor a = Tensor.param("a", 7, 13);
        double sq = 0;
        for (int i = 0; i < a.size(); i++) {
            a.grad[i] = (float) (100 * rng.gaussian());
            sq += (double) a.grad[i] * a.grad[i];
        }
        float before = Adam.clipGradNorm(List.of(a), 0.5f);
        assertEquals(Math.sqrt(sq), before, 1e-3);
        double after = 0;
        for (float v : a.grad) after += (double) v * v;
        assertEquals(0.5, Math.sqrt(after), 1e-5);
    }
}
