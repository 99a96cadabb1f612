package org.dmerl.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.dmerl.nn.Activation;
import org.dmerl.policy.DiffusionKernelPolicy.BackwardKernel;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The densities on-policy learners evaluate at stored actions: {@link DiagGaussianPolicy} (log N(a; μ(s), σ²) with
 * a state-independent σ, its closed-form entropy) and {@link DiffusionKernelPolicy#densities} (log q_θ of the kernel
 * step and log p of the reference kernel), each against formulas written out here in double, and
 * {@link StochasticPolicy.Sample#drawLogProb} against them at the sampled action.
 */
class OnPolicyDensitiesTest {

    private static final int STATE = 3, ACT = 2, ROWS = 12;
    private static final double HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

    private static Graph noGrad() {
        Graph g = new Graph();
        g.reset();
        g.setGradEnabled(false);
        return g;
    }

    private static Tensor gaussian(Rng rng, int rows, int cols, double scale) {
        Tensor t = Tensor.zeros(rows, cols);
        for (int i = 0; i < t.size(); i++) t.data[i] = (float) (scale * rng.gaussian());
        return t;
    }

    // ------------------------------------------------------------------------------------------------ Gaussian

    private static DiagGaussianPolicy gaussianPolicy() {
        var p = new DiagGaussianPolicy(STATE, ACT, new int[] {8, 8}, Activation.TANH, -0.5f, new Rng(1));
        for (Tensor t : p.parameters()) {
            if (t.name().equals("actor.out.w")) org.dmerl.tensor.Init.orthogonal(t, 1.0, new Rng(2));
            if (t.name().equals("actor.log_std")) {
                t.data[1] = 0.4f;
                t.touch();
            }
        }
        return p;
    }

    @Test
    void gaussianDensitiesAreTheNormalLogDensity() {
        DiagGaussianPolicy p = gaussianPolicy();
        Rng rng = new Rng(3);
        Tensor obs = gaussian(rng, ROWS, STATE, 1), act = gaussian(rng, ROWS, ACT, 2);
        Graph g = noGrad();
        StochasticPolicy.Densities d = p.densities(g, obs, act);
        Tensor mean = p.deterministic(g, obs);
        assertNull(d.logReference(), "a Gaussian policy has no reference kernel");
        assertEquals(ROWS, d.logProb().rows());
        assertEquals(1, d.logProb().cols());
        double[] std = p.std();
        assertEquals(Math.exp(-0.5), std[0], 1e-6);
        assertEquals(Math.exp(0.4), std[1], 1e-6);
        double spread = 0;
        for (int r = 0; r < ROWS; r++) {
            double lp = 0;
            for (int i = 0; i < ACT; i++) {
                double z = (act.get(r, i) - mean.get(r, i)) / std[i];
                lp += -0.5 * z * z - Math.log(std[i]) - HALF_LOG_2PI;
                spread += Math.abs(mean.get(r, i)) / (ROWS * ACT);
            }
            assertEquals(lp, d.logProb().data[r], 1e-5 * (1 + Math.abs(lp)), "row " + r);
        }
        assertTrue(spread > 0.1, "the mean depends on the state (else the check says little): " + spread);
    }

    @Test
    void gaussianSampleLogProbIsTheDensityOfTheSampledAction() {
        DiagGaussianPolicy p = gaussianPolicy();
        Rng rng = new Rng(4);
        Tensor obs = gaussian(rng, ROWS, STATE, 1), noise = gaussian(rng, ROWS, ACT, 1);
        Graph g = noGrad();
        StochasticPolicy.Sample s = p.sample(g, obs, noise);
        assertSame(s.logProb(), s.drawLogProb(), "log π is both the entropy term and the draw density");
        Tensor mean = p.deterministic(g, obs);
        double[] std = p.std();
        for (int r = 0; r < ROWS; r++) {
            for (int i = 0; i < ACT; i++) {
                assertEquals(mean.get(r, i) + std[i] * noise.get(r, i), s.action().get(r, i), 1e-5, "unsquashed action");
            }
        }
        Tensor again = p.densities(g, obs, Tensor.of(ROWS, ACT, s.action().toArray())).logProb();
        for (int r = 0; r < ROWS; r++) assertEquals(s.logProb().data[r], again.data[r], 1e-4, "row " + r);
    }

    @Test
    void gaussianEntropyIsClosedFormAndStateIndependent() {
        DiagGaussianPolicy p = gaussianPolicy();
        Graph g = new Graph();
        g.reset();
        Tensor h = p.meanEntropy(g, gaussian(new Rng(5), ROWS, STATE, 1));
        assertNotNull(h);
        assertEquals(1, h.size());
        double expected = -0.5 + 0.4 + ACT * 0.5 * Math.log(2 * Math.PI * Math.E);
        assertEquals(expected, h.item(), 1e-6);
        // differentiable in log σ: ∂H/∂log σ_i = 1
        Tensor logStd = p.parameters().stream().filter(t -> t.name().equals("actor.log_std")).findFirst().orElseThrow();
        logStd.zeroGrad();
        g.backward(h);
        assertEquals(1f, logStd.grad[0], 1e-6f);
        assertEquals(1f, logStd.grad[1], 1e-6f);
        // the CleanRL initialisation: output layer gain 0.01 makes the initial mean ~0; log σ starts at log_std_init
        var fresh = new DiagGaussianPolicy(STATE, ACT, new int[] {64, 64}, Activation.TANH, 0f, new Rng(6));
        Tensor m = fresh.deterministic(noGrad(), gaussian(new Rng(7), ROWS, STATE, 1));
        for (int i = 0; i < m.size(); i++) assertTrue(Math.abs(m.data[i]) < 0.1, "initial mean " + m.data[i]);
        assertEquals(1.0, fresh.std()[0], 0);
        List<String> names = fresh.parameters().stream().map(Tensor::name).toList();
        assertTrue(names.contains("actor.log_std"), names.toString());
    }

    // ------------------------------------------------------------------------------------------------ diffusion

    private static final int K = 3;
    private static final double SIGMA0 = 2.0;

    private static DiffusionKernelPolicy diffusionPolicy(BackwardKernel backward) {
        var settings = new DiffusionKernelPolicy.Settings(K, SIGMA0, 0.125, DiffusionSchedule.LINEAR, 0.17, 0.25,
                true, true, backward, DiffusionKernelPolicy.Sampler.MEAN, new int[] {16, 16}, 8);
        Rng rng = new Rng(8);
        var p = new DiffusionKernelPolicy(STATE, ACT, settings, rng);
        var out = p.denoiser().outputLayer();
        org.dmerl.tensor.Init.lecunNormal(out.weight, rng);
        out.bias.data[0] = 0.4f;
        out.bias.touch();
        for (Tensor t : p.stateTensors()) {
            if (t.name().equals("diffusion.friction")) {
                t.data[1] += 0.5f; // per-dimension friction
                t.touch();
            }
        }
        return p;
    }

    private static Tensor augmentedObservations(Rng rng) {
        int w = STATE + ACT + K;
        Tensor o = Tensor.zeros(ROWS, w);
        for (int r = 0; r < ROWS; r++) {
            for (int i = 0; i < STATE + ACT; i++) o.set(r, i, (float) (1.5 * rng.gaussian()));
            o.set(r, STATE + ACT + r % K, 1f);
        }
        return o;
    }

    private static double softplus(double x) {
        return Math.log1p(Math.exp(x));
    }

    /** η_k per dimension: Δt_k / softplus(friction). */
    private static double eta(DiffusionKernelPolicy p, int k, int dim) {
        Tensor friction = p.stateTensors().stream().filter(t -> t.name().equals("diffusion.friction")).findFirst().orElseThrow();
        return p.stepSizes()[k] / softplus(friction.data[dim]);
    }

    private static double logNormal(double x, double mean, double var) {
        return -0.5 * (x - mean) * (x - mean) / var - 0.5 * Math.log(var) - HALF_LOG_2PI;
    }

    @ParameterizedTest
    @EnumSource(BackwardKernel.class)
    void diffusionDensitiesAreTheKernelAndReferenceLogDensities(BackwardKernel backward) {
        DiffusionKernelPolicy p = diffusionPolicy(backward);
        Rng rng = new Rng(9);
        Tensor obs = augmentedObservations(rng), next = gaussian(rng, ROWS, ACT, 1.5);
        Graph g = noGrad();
        StochasticPolicy.Densities d = p.densities(g, obs, next);
        assertNotNull(d.logReference());
        // MEAN sampler: deterministic() is the forward kernel's mean x_k + η(−x_k/σ0² + f)
        Tensor mean = p.deterministic(g, obs);
        Tensor logRatio = p.logRatio(g, obs, next), logProb = p.logProb(g, obs, next);
        for (int r = 0; r < ROWS; r++) {
            int k = r % K, kb = backward == BackwardKernel.PRINCIPLED ? k : Math.min(k + 1, K - 1);
            double lq = 0, lp = 0;
            for (int i = 0; i < ACT; i++) {
                double x = obs.get(r, STATE + i), xn = next.get(r, i);
                lq += logNormal(xn, mean.get(r, i), 2 * eta(p, k, i));
                double etaB = eta(p, kb, i);
                double meanB = backward == BackwardKernel.PRINCIPLED ? xn - etaB * xn / (SIGMA0 * SIGMA0)
                        : xn - etaB * x / (SIGMA0 * SIGMA0);
                lp += logNormal(x, meanB, 2 * etaB);
            }
            assertEquals(lq, d.logProb().data[r], 1e-4 * (1 + Math.abs(lq)), "log q, row " + r);
            assertEquals(lp, d.logReference().data[r], 1e-4 * (1 + Math.abs(lp)), "log p, row " + r);
            assertEquals(logProb.data[r], d.logProb().data[r], 1e-5, "densities() and logProb() agree");
            assertEquals(logRatio.data[r], d.logProb().data[r] - d.logReference().data[r], 1e-4,
                    "densities() and logRatio() agree");
        }
    }

    @ParameterizedTest
    @EnumSource(BackwardKernel.class)
    void diffusionSampleDrawLogProbIsLogQOfTheSampledStep(BackwardKernel backward) {
        DiffusionKernelPolicy p = diffusionPolicy(backward);
        Rng rng = new Rng(10);
        Tensor obs = augmentedObservations(rng), noise = gaussian(rng, ROWS, ACT, 1);
        Graph g = noGrad();
        StochasticPolicy.Sample s = p.sample(g, obs, noise);
        StochasticPolicy.Densities d = p.densities(g, obs, Tensor.of(ROWS, ACT, s.action().toArray()));
        for (int r = 0; r < ROWS; r++) {
            assertEquals(d.logProb().data[r], s.drawLogProb().data[r], 1e-4, "draw log-density, row " + r);
            assertEquals(d.logProb().data[r] - d.logReference().data[r], s.logProb().data[r], 1e-4, "l_k, row " + r);
            // log q of the draw is −½|ε|² − Σ log std − d·½ log 2π: it depends on the noise, not on the action
            double lq = 0;
            for (int i = 0; i < ACT; i++) {
                lq += -0.5 * noise.get(r, i) * noise.get(r, i) - 0.5 * Math.log(2 * eta(p, r % K, i)) - HALF_LOG_2PI;
            }
            assertEquals(lq, s.drawLogProb().data[r], 1e-4, "row " + r);
        }
        assertNull(p.meanEntropy(g, obs), "no closed-form entropy for a kernel step");
    }
}
