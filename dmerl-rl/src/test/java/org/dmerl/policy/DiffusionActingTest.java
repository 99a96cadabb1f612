package org.dmerl.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Arrays;

import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Acting shortcuts (act without densities, the cached time embedding) give exactly the values of the full path. */
class DiffusionActingTest {

    private static final int STATE = 3, ACT = 2, K = 4;

    private static float[] act(DiffusionKernelPolicy p, float[] obs, float[] noise, boolean grad, boolean full) {
        Graph g = new Graph();
        g.setGradEnabled(grad);
        Tensor o = g.input(1, obs.length), n = g.input(1, ACT);
        System.arraycopy(obs, 0, o.data, 0, obs.length);
        System.arraycopy(noise, 0, n.data, 0, ACT);
        return (full ? p.sample(g, o, n).action() : p.act(g, o, n)).toArray();
    }

    @Test
    void actAndCachedEmbeddingMatchTheFullPathBitForBit() {
        var settings = new DiffusionKernelPolicy.Settings(K, 3.0, 0.125, DiffusionSchedule.LINEAR, 0.17, 0.25,
                true, true, DiffusionKernelPolicy.BackwardKernel.PRINCIPLED, DiffusionKernelPolicy.Sampler.MEAN,
                new int[] {16, 16}, 8);
        var p = new DiffusionKernelPolicy(STATE, ACT, settings, new Rng(3));
        Rng rng = new Rng(4);
        // the denoiser starts with outputs ≈ 1e-8·…, which would hide the embedding: give it a real output layer
        for (Tensor t : p.denoiser().outputLayer().parameters()) {
            for (int i = 0; i < t.size(); i++) t.data[i] = (float) rng.gaussian();
            t.touch();
        }
        for (int round = 0; round < 2; round++) {
            for (int k = 0; k < K; k++) {
                float[] obs = new float[STATE + ACT + K];
                for (int i = 0; i < STATE + ACT; i++) obs[i] = (float) (2 * rng.gaussian());
                obs[STATE + ACT + k] = 1f;
                float[] noise = {(float) rng.gaussian(), (float) rng.gaussian()};
                float[] fresh = act(p, obs, noise, true, true);          // gradients on: no cache
                assertArrayEquals(fresh, act(p, obs, noise, false, true), "cached embedding, k=" + k);
                assertArrayEquals(fresh, act(p, obs, noise, false, false), "act without densities, k=" + k);
            }
            // a parameter update must invalidate the cache: change every embedding parameter
            float[] before = act(p, new float[] {1, 2, 3, 0.5f, -0.5f, 0, 1, 0, 0}, new float[] {0.1f, 0.2f}, false, false);
            for (Tensor t : p.parameters()) {
                if (!t.name().startsWith("temb")) continue;
                for (int i = 0; i < t.size(); i++) t.data[i] += 0.3f;
                t.touch();
            }
            float[] after = act(p, new float[] {1, 2, 3, 0.5f, -0.5f, 0, 1, 0, 0}, new float[] {0.1f, 0.2f}, false, false);
            assertFalse(Arrays.equals(before, after), "changed embedding parameters must change the action");
        }
    }
}
