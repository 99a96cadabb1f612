package org.dmerl.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;

import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Parallel;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Acting shortcuts give the values of the full graph path, for every sampler and after parameters change: the cached
 * time embedding and η exactly; the tape-free batch-1 step (which reuses first-layer products of the state and the time
 * embedding and sums the narrow output layer in eight chains, {@code Mlp.forwardRow}) to rounding, and the same bits
 * at one and two threads.
 */
class DiffusionActingTest {

    private static final int STATE = 3, ACT = 2, K = 4;

    /** The full path with gradients on (no cache, no shortcut) or the acting path with gradients off. */
    private static float[] step(DiffusionKernelPolicy p, float[] obs, float[] noise, boolean grad, boolean full) {
        Graph g = new Graph();
        g.setGradEnabled(grad);
        Tensor o = g.input(1, obs.length), n = g.input(1, ACT);
        System.arraycopy(obs, 0, o.data, 0, obs.length);
        System.arraycopy(noise, 0, n.data, 0, ACT);
        return (full ? p.sample(g, o, n).action() : p.act(g, o, n)).toArray();
    }

    private static float[] evalStep(DiffusionKernelPolicy p, float[] obs, boolean grad) {
        Graph g = new Graph();
        g.setGradEnabled(grad);
        Tensor o = g.input(1, obs.length);
        System.arraycopy(obs, 0, o.data, 0, obs.length);
        return p.deterministic(g, o).toArray();
    }

    /**
     * Hidden widths 16 (below one packed panel), 65 and 129 (full panels plus a one-column rest on AVX2 and AVX-512)
     * and 130 (panels plus a rest of two), 256 (the default width); one and two compute threads (layers of two or more
     * panels are split between the threads).
     */
    @ParameterizedTest
    @ValueSource(ints = {16, 65, 129, 130, 256})
    void actingPathsMatchTheFullPath(int width) {
        var settings = new DiffusionKernelPolicy.Settings(K, 3.0, 0.125, DiffusionSchedule.LINEAR, 0.17, 0.25,
                true, true, DiffusionKernelPolicy.BackwardKernel.PRINCIPLED, DiffusionKernelPolicy.Sampler.MEAN,
                new int[] {width, width, width}, 8);
        var p = new DiffusionKernelPolicy(STATE, ACT, settings, new Rng(3));
        Rng rng = new Rng(4);
        // the denoiser starts with outputs ≈ 1e-8·…, which would hide everything before it: give it a real output layer
        for (Tensor t : p.denoiser().outputLayer().parameters()) {
            for (int i = 0; i < t.size(); i++) t.data[i] = (float) rng.gaussian();
            t.touch();
        }
        float[] probe = {1, 2, 3, 0.5f, -0.5f, 0, 1, 0, 0};
        float[] probeNoise = {0.1f, 0.2f};
        for (int round = 0; round < 3; round++) {
            for (int k = 0; k < K; k++) {
                float[] obs = new float[STATE + ACT + K];
                for (int i = 0; i < STATE + ACT; i++) obs[i] = (float) (2 * rng.gaussian());
                obs[STATE + ACT + k] = 1f;
                float[] noise = {(float) rng.gaussian(), (float) rng.gaussian()};
                float[] fresh = step(p, obs, noise, true, true);
                assertArrayEquals(fresh, step(p, obs, noise, false, true), "cached embedding, k=" + k);
                float[] oneThread = step(p, obs, noise, false, false);
                assertClose(fresh, oneThread, "batch-1 act, k=" + k);
                for (var sampler : new DiffusionKernelPolicy.Sampler[] {DiffusionKernelPolicy.Sampler.MEAN,
                        DiffusionKernelPolicy.Sampler.ODE}) {
                    p.setEvalSampler(sampler);
                    float[] eval = evalStep(p, obs, false);
                    assertClose(evalStep(p, obs, true), eval, sampler + ", k=" + k);
                    Parallel.setThreads(2);
                    try {
                        assertArrayEquals(eval, evalStep(p, obs, false), sampler + ", two threads, k=" + k);
                    } finally {
                        Parallel.setThreads(1);
                    }
                }
                Parallel.setThreads(2);
                try {
                    assertArrayEquals(oneThread, step(p, obs, noise, false, false), "batch-1 act, two threads");
                } finally {
                    Parallel.setThreads(1);
                }
            }
            // a parameter change must reach the cached embedding (round 0), the packed weights (1) and η (2)
            float[] before = step(p, probe, probeNoise, false, false);
            for (Tensor t : p.stateTensors()) {
                boolean change = switch (round) {
                    case 0 -> t.name().startsWith("temb");
                    case 1 -> t.name().startsWith("denoiser.l");
                    default -> t.name().startsWith("diffusion.");
                };
                if (!change) continue;
                for (int i = 0; i < t.size(); i++) t.data[i] += 0.3f;
                t.touch();
            }
            float[] after = step(p, probe, probeNoise, false, false);
            assertFalse(Arrays.equals(before, after), "round " + round + ": changed parameters must change the action");
        }
    }

    /** Within float rounding of a sum of a few hundred products: a stale or missing first-layer block is off by far more. */
    private static void assertClose(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            float tol = 1e-5f * Math.max(1f, Math.abs(expected[i]));
            assertTrue(Math.abs(expected[i] - actual[i]) <= tol, what + ": " + actual[i] + " against " + expected[i]);
        }
    }

    /**
     * Acting at batch 1 allocates nothing once compiled: a K = 8 chain with the default network, repeated in rounds
     * until the JIT has compiled the path (interpreted Vector API code boxes every vector).
     */
    @Test
    void batchOneActingIsAllocationFreeOnceWarm() {
        var settings = new DiffusionKernelPolicy.Settings(8, 3.0, 0.125, DiffusionSchedule.LINEAR, 0.17, 0.25,
                false, false, DiffusionKernelPolicy.BackwardKernel.PRINCIPLED, DiffusionKernelPolicy.Sampler.MEAN,
                new int[] {256, 256, 256}, 16);
        var p = new DiffusionKernelPolicy(17, 6, settings, new Rng(3));
        Graph g = new Graph();
        Rng rng = new Rng(5);
        float[] x = new float[6];
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        long best = Long.MAX_VALUE;
        for (int round = 0; round < 40 && best > 0; round++) {
            long before = threads.getThreadAllocatedBytes(id);
            for (int chain = 0; chain < 50; chain++) {
                for (int k = 0; k < 8; k++) {
                    g.reset();
                    g.setGradEnabled(false);
                    Tensor o = g.input(1, 17 + 6 + 8), noise = g.input(1, 6);
                    Arrays.fill(o.data, 0, o.size(), 0.25f);
                    System.arraycopy(x, 0, o.data, 17, 6);
                    o.data[17 + 6 + k] = 1f;
                    rng.fillGaussian(noise.data, 0, 6);
                    System.arraycopy(p.act(g, o, noise).data, 0, x, 0, 6);
                }
            }
            best = Math.min(best, threads.getThreadAllocatedBytes(id) - before);
        }
        assertEquals(0, best, "bytes allocated by 50 warm K = 8 action chains");
    }
}
