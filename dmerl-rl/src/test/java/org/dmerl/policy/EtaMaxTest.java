package org.dmerl.policy;

import static org.dmerl.policy.DiffusionKernelPolicyGradientTest.gradCheck;
import static org.dmerl.policy.DiffusionKernelPolicyGradientTest.nextFromKernel;
import static org.dmerl.policy.DiffusionKernelPolicyGradientTest.observations;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.dmerl.algo.Config;
import org.dmerl.policy.DiffusionKernelPolicy.BackwardKernel;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@code eta_min}/{@code eta_max}: η = clip(Δt/γ_f) bounds the kernel step when Δt and friction are learned. */
class EtaMaxTest {

    private static final int STATE = 3, ACT = 2, K = 4;

    private static DiffusionKernelPolicy policy(double etaMax, BackwardKernel backward, long seed) {
        return policy(0, etaMax, backward, seed);
    }

    private static DiffusionKernelPolicy policy(double etaMin, double etaMax, BackwardKernel backward, long seed) {
        var settings = new DiffusionKernelPolicy.Settings(K, 2.0, 0.125, DiffusionSchedule.LINEAR, 0.17, 0.25,
                true, true, backward, DiffusionKernelPolicy.Sampler.ODE, new int[] {16, 16}, 8, etaMin, etaMax);
        return new DiffusionKernelPolicy(STATE, ACT, settings, new Rng(seed));
    }

    private static Tensor named(DiffusionKernelPolicy p, String name) {
        for (Tensor t : p.parameters()) if (t.name().equals(name)) return t;
        throw new AssertionError("no parameter " + name);
    }

    @Test
    void boundClipsOnlyTheStepsAboveIt() {
        DiffusionKernelPolicy plain = policy(0, BackwardKernel.PRINCIPLED, 1);
        DiffusionKernelPolicy bounded = policy(0.3, BackwardKernel.PRINCIPLED, 1);
        double[] dt = plain.stepSizes();
        int clipped = 0, kept = 0;
        for (int k = 0; k < K; k++) {
            double[] eta = plain.stepEta(k), b = bounded.stepEta(k);
            for (int i = 0; i < ACT; i++) {
                assertEquals(dt[k] / 0.25, eta[i], 1e-6, "η without a bound is Δt/γ_f");
                assertEquals(Math.min(eta[i], 0.3), b[i], 1e-7, "step " + k);
                if (eta[i] > 0.3) clipped++; else kept++;
            }
        }
        assertTrue(clipped > 0 && kept > 0, "the schedule should put steps on both sides of 0.3");
    }

    @Test
    void growingStepSizesStopAtTheBound() {
        for (double bound : new double[] {0, 1.0}) {
            DiffusionKernelPolicy p = policy(bound, BackwardKernel.PRINCIPLED, 2);
            Tensor dt = named(p, "diffusion.dt");
            java.util.Arrays.fill(dt.data, 10f);   // Δt ≈ 10, η ≈ 40: a learned step size that kept growing
            dt.touch();
            for (int k = 0; k < K; k++) {
                for (double eta : p.stepEta(k)) assertEquals(bound == 0 ? 40.0 : 1.0, eta, bound == 0 ? 1e-3 : 1e-7);
            }
        }
    }

    @Test
    void shrinkingStepSizesStopAtTheLowerBound() {
        DiffusionKernelPolicy plain = policy(0, 0, BackwardKernel.PRINCIPLED, 3);
        DiffusionKernelPolicy bounded = policy(0.3, 0, BackwardKernel.PRINCIPLED, 3);
        for (int k = 0; k < K; k++) {
            for (int i = 0; i < ACT; i++) assertEquals(Math.max(plain.stepEta(k)[i], 0.3), bounded.stepEta(k)[i], 1e-7);
        }
        for (DiffusionKernelPolicy p : new DiffusionKernelPolicy[] {plain, bounded}) {
            Tensor dt = named(p, "diffusion.dt");
            java.util.Arrays.fill(dt.data, -20f);   // Δt ≈ 2e-9: a learned step size that kept shrinking
            dt.touch();
        }
        for (int k = 0; k < K; k++) {
            for (double eta : plain.stepEta(k)) assertTrue(eta < 1e-7, "unbounded η follows Δt down: " + eta);
            for (double eta : bounded.stepEta(k)) assertEquals(0.3, eta, 1e-7);
        }
    }

    @ParameterizedTest
    @EnumSource(BackwardKernel.class)
    void gradientsWithTheFirstStepClipped(BackwardKernel backward) {
        DiffusionKernelPolicy plain = policy(0, backward, 4);
        double bound = (plain.stepEta(0)[0] + plain.stepEta(1)[0]) / 2;   // step 0 above, the rest below
        DiffusionKernelPolicy p = policy(bound, backward, 4);
        Rng rng = new Rng(5);
        var out = p.denoiser().outputLayer();
        for (int i = 0; i < out.weight.size(); i++) out.weight.data[i] = (float) (0.2 * rng.gaussian());
        out.weight.touch();

        float[] obs = observations(rng);
        int rows = obs.length / p.observationDim();
        float[] next = nextFromKernel(p, obs, rng);
        Tensor o = Tensor.of(rows, p.observationDim(), obs);
        Tensor x = Tensor.of(rows, ACT, next);
        Tensor dt = named(p, "diffusion.dt"), friction = named(p, "diffusion.friction");
        gradCheck("logRatio wrt Δt, friction (bounded) " + backward, g -> p.logRatio(g, o, x), List.of(dt, friction), 6);
        gradCheck("logProb wrt all parameters (bounded) " + backward, g -> p.logProb(g, o, x), p.parameters(), 7);
    }

    @Test
    void negativeBoundIsRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> policy(-0.1, BackwardKernel.PRINCIPLED, 1));
        assertTrue(e.getMessage().contains("eta_max"), e.getMessage());
        Config cfg = new Config().set("eta_max", -0.1);
        assertTrue(cfg.problems().stream().anyMatch(m -> m.contains("eta_max")), cfg.problems().toString());
        assertThrows(IllegalArgumentException.class, () -> policy(-0.1, 0, BackwardKernel.PRINCIPLED, 1));
        var crossed = assertThrows(IllegalArgumentException.class, () -> policy(0.5, 0.2, BackwardKernel.PRINCIPLED, 1));
        assertTrue(crossed.getMessage().contains("eta_min"), crossed.getMessage());
        Config both = new Config().set("eta_min", 0.5).set("eta_max", 0.2);
        assertTrue(both.problems().stream().anyMatch(m -> m.contains("above eta_max")), both.problems().toString());
    }
}
