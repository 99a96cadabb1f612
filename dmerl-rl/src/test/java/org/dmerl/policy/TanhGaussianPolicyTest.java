package org.dmerl.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.dmerl.nn.Activation;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The SAC actor: its log-density against the closed form of a tanh-squashed Gaussian, and its gradients. */
class TanhGaussianPolicyTest {

    private static final int OBS = 3, ACT = 2, ROWS = 5;

    private static TanhGaussianPolicy policy() {
        return new TanhGaussianPolicy(OBS, ACT, new int[] {16, 16}, Activation.TANH, -5f, 2f, new Rng(3));
    }

    private static Tensor gaussian(Rng rng, int rows, int cols, double std) {
        Tensor t = Tensor.zeros(rows, cols);
        for (int i = 0; i < t.size(); i++) t.data[i] = (float) (std * rng.gaussian());
        return t;
    }

    /**
     * Two draws with different noise reveal μ and σ per row (u = atanh(a) = μ + σ ε); the reported log π must equal
     * Σ_d [log N(u; μ, σ) − log(1 − a²)] for the first draw.
     */
    @Test
    void logProbIsTheSquashedGaussianDensity() {
        TanhGaussianPolicy p = policy();
        Rng rng = new Rng(4);
        Tensor obs = gaussian(rng, ROWS, OBS, 1);
        Tensor e1 = gaussian(rng, ROWS, ACT, 0.5), e2 = gaussian(rng, ROWS, ACT, 0.5);
        Graph g = new Graph();
        g.reset();
        g.setGradEnabled(false);
        StochasticPolicy.Sample s1 = p.sample(g, obs, e1), s2 = p.sample(g, obs, e2);
        Tensor det = p.deterministic(g, obs);
        for (int r = 0; r < ROWS; r++) {
            double expected = 0;
            for (int d = 0; d < ACT; d++) {
                double a1 = s1.action().get(r, d), a2 = s2.action().get(r, d);
                assertTrue(Math.abs(a1) < 0.99 && Math.abs(a2) < 0.99, "keep away from saturation");
                double u1 = atanh(a1), u2 = atanh(a2);
                double sigma = (u1 - u2) / (e1.get(r, d) - e2.get(r, d));
                double mu = u1 - sigma * e1.get(r, d);
                assertTrue(sigma > Math.exp(-5) * 0.99 && sigma < Math.exp(2) * 1.01, "σ within its bounds: " + sigma);
                assertEquals(Math.tanh(mu), det.get(r, d), 2e-4, "deterministic action is tanh(μ)");
                double z = (u1 - mu) / sigma;
                expected += -0.5 * z * z - Math.log(sigma) - 0.5 * Math.log(2 * Math.PI) - Math.log(1 - a1 * a1);
            }
            assertEquals(expected, s1.logProb().get(r, 0), 2e-3 * (1 + Math.abs(expected)), "row " + r);
        }
    }

    private static double atanh(double a) {
        return 0.5 * Math.log((1 + a) / (1 - a));
    }

    @Test
    void sampleGradients() {
        TanhGaussianPolicy p = policy();
        Rng rng = new Rng(5);
        Tensor obs = gaussian(rng, ROWS, OBS, 1);
        Tensor noise = gaussian(rng, ROWS, ACT, 1);
        List<Tensor> params = p.parameters();
        DiffusionKernelPolicyGradientTest.gradCheck("tanh-Gaussian action", g -> p.sample(g, obs, noise).action(),
                params, 6);
        DiffusionKernelPolicyGradientTest.gradCheck("tanh-Gaussian logProb", g -> p.sample(g, obs, noise).logProb(),
                params, 7);
    }
}
