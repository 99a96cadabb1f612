package org.dmerl.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.dmerl.policy.DiffusionKernelPolicy.BackwardKernel;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Init;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * With f_θ ≡ 0 and a constant step size the kernel is unadjusted Langevin dynamics on the prior N(0, σ0²):
 * x_{k+1} = a·x_k + √(2η)·ε with a = 1 − η/σ0². Its variance follows v_{k+1} = a²·v_k + 2η exactly, with fixed point
 * 2η/(1 − a²) ≈ σ0² for small η. Under the principled reference kernel the one-step log ratio is
 * l_k = log N(x_{k+1}; a x_k, 2η) − log N(x_k; a x_{k+1}, 2η) = (1 − a²)/(4η)·(x_k² − x_{k+1}²), so the summed ratio
 * telescopes to (1 − a²)/(4η)·(|x_0|² − |x_K|²), whose mean is 0 for a chain started at its stationary law.
 */
class DiffusionMarginalTest {

    private static final int STATE = 3, ACT = 2, K = 8, ROWS = 20_000;
    private static final double SIGMA0 = 3.0, FRICTION = 0.25;

    static DiffusionKernelPolicy zeroControlPolicy(double dt, BackwardKernel backward, boolean learn) {
        var settings = new DiffusionKernelPolicy.Settings(K, SIGMA0, dt, DiffusionSchedule.CONSTANT, 0.17, FRICTION,
                learn, learn, backward, DiffusionKernelPolicy.Sampler.SDE, new int[] {16, 16}, 8);
        DiffusionKernelPolicy p = new DiffusionKernelPolicy(STATE, ACT, settings, new Rng(5));
        Init.constant(p.denoiser().outputLayer().weight, 0f);
        Init.constant(p.denoiser().outputLayer().bias, 0f);
        return p;
    }

    /** One pass of the chain: x[k] holds the [ROWS·ACT] latents after k steps; sumL the per-row Σ_k l_k. */
    record Chain(float[][] x, double[] sumL) {}

    static Chain run(DiffusionKernelPolicy p, float[] x0, long seed) {
        Rng rng = new Rng(seed);
        int w = p.observationDim();
        Tensor obs = Tensor.zeros(ROWS, w);
        for (int r = 0; r < ROWS; r++) {
            for (int i = 0; i < STATE; i++) obs.data[r * w + i] = (float) rng.gaussian();
        }
        Tensor noise = Tensor.zeros(ROWS, ACT);
        float[][] xs = new float[K + 1][];
        xs[0] = x0.clone();
        double[] sumL = new double[ROWS];
        Graph g = new Graph();
        for (int k = 0; k < K; k++) {
            for (int r = 0; r < ROWS; r++) {
                System.arraycopy(xs[k], r * ACT, obs.data, r * w + STATE, ACT);
                for (int j = 0; j < K; j++) obs.data[r * w + STATE + ACT + j] = j == k ? 1f : 0f;
            }
            rng.fillGaussian(noise.data, 0, noise.size());
            g.reset();
            g.setGradEnabled(false);
            StochasticPolicy.Sample s = p.sample(g, obs, noise);
            xs[k + 1] = s.action().toArray();
            for (int r = 0; r < ROWS; r++) sumL[r] += s.logProb().data[r];
        }
        return new Chain(xs, sumL);
    }

    static float[] gaussian(int n, double std, long seed) {
        Rng rng = new Rng(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (std * rng.gaussian());
        return v;
    }

    static double mean(float[] v) {
        double s = 0;
        for (float f : v) s += f;
        return s / v.length;
    }

    static double variance(float[] v) {
        double m = mean(v), s = 0;
        for (float f : v) s += (f - m) * (f - m);
        return s / (v.length - 1);
    }

    static double logNormal(double x, double mean, double var) {
        return -0.5 * (x - mean) * (x - mean) / var - 0.5 * Math.log(2 * Math.PI * var);
    }

    @ParameterizedTest(name = "dt {0}, learn {1}")
    @CsvSource({"0.125, true", "0.125, false", "0.5, true"})
    void marginalFollowsTheExactVarianceRecursion(double dt, boolean learn) {
        DiffusionKernelPolicy p = zeroControlPolicy(dt, BackwardKernel.PRINCIPLED, learn);
        for (double s : p.stepSizes()) assertEquals(dt, s, 1e-6, "constant schedule");
        double eta = dt / FRICTION, a = 1 - eta / (SIGMA0 * SIGMA0);
        Chain c = run(p, gaussian(ROWS * ACT, SIGMA0, 7), 8);
        double v = SIGMA0 * SIGMA0;
        double n = ROWS * ACT;
        for (int k = 0; k <= K; k++) {
            double emp = variance(c.x()[k]);
            assertEquals(v, emp, 0.03 * v, "variance at k=" + k);
            assertEquals(0, mean(c.x()[k]), 4 * Math.sqrt(v / n), "mean at k=" + k);
            v = a * a * v + 2 * eta;
        }
        // with small η the chain barely leaves the prior: its stationary variance is close to σ0²
        double stationary = 2 * eta / (1 - a * a);
        if (dt <= 0.125) assertEquals(SIGMA0 * SIGMA0, stationary, 0.05 * SIGMA0 * SIGMA0);
        // the recursion is not trivially flat for the large step: it must have moved away from σ0² measurably
        if (dt >= 0.5) assertTrue(v > 1.06 * SIGMA0 * SIGMA0, "recursion ends at " + v);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"PRINCIPLED", "CODE"})
    void summedLogRatioMatchesTheClosedForm(BackwardKernel backward) {
        double dt = 0.125;
        DiffusionKernelPolicy p = zeroControlPolicy(dt, backward, true);
        double eta = dt / FRICTION, a = 1 - eta / (SIGMA0 * SIGMA0), var = 2 * eta;
        Chain c = run(p, gaussian(ROWS * ACT, SIGMA0, 17), 18);
        double maxErr = 0;
        for (int r = 0; r < ROWS; r++) {
            double expected = 0;
            for (int k = 0; k < K; k++) {
                for (int i = 0; i < ACT; i++) {
                    double x = c.x()[k][r * ACT + i], y = c.x()[k + 1][r * ACT + i];
                    double logQ = logNormal(y, a * x, var);
                    // principled: N(x_k; x_{k+1} − η x_{k+1}/σ0², 2η); code variant: drift at the old point x_k
                    double logP = backward == BackwardKernel.PRINCIPLED ? logNormal(x, a * y, var)
                            : logNormal(x, y - (1 - a) * x, var);
                    expected += logQ - logP;
                }
            }
            double err = Math.abs(c.sumL()[r] - expected) / Math.max(1, Math.abs(expected));
            maxErr = Math.max(maxErr, err);
            if (backward == BackwardKernel.PRINCIPLED) {
                // telescoping: Σ_k l_k = (1 − a²)/(4η)·(|x_0|² − |x_K|²)
                double x0 = 0, xK = 0;
                for (int i = 0; i < ACT; i++) {
                    x0 += sq(c.x()[0][r * ACT + i]);
                    xK += sq(c.x()[K][r * ACT + i]);
                }
                assertEquals((1 - a * a) / (4 * eta) * (x0 - xK), expected, 1e-9 * (1 + Math.abs(expected)));
            }
        }
        assertTrue(maxErr < 1e-4, "summed log ratio differs from the closed form by " + maxErr + " (relative)");
    }

    private static double sq(double v) {
        return v * v;
    }

    @Test
    void summedLogRatioHasZeroMeanAtStationarity() {
        double dt = 0.125;
        DiffusionKernelPolicy p = zeroControlPolicy(dt, BackwardKernel.PRINCIPLED, true);
        double eta = dt / FRICTION, a = 1 - eta / (SIGMA0 * SIGMA0);
        double vStat = 2 * eta / (1 - a * a);
        Chain c = run(p, gaussian(ROWS * ACT, Math.sqrt(vStat), 27), 28);
        double m = 0, m2 = 0;
        for (double l : c.sumL()) {
            m += l;
            m2 += l * l;
        }
        m /= ROWS;
        double se = Math.sqrt((m2 / ROWS - m * m) / ROWS);
        assertTrue(se > 0 && se < 0.05, "standard error " + se);
        assertEquals(0, m, 4 * se, "E[Σ l_k] from the stationary law");

        // started from the prior instead, E[Σ l_k] = (1 − a²)/(4η)·d·(σ0² − v_K) ≠ 0 (slightly negative here)
        Chain prior = run(p, gaussian(ROWS * ACT, SIGMA0, 37), 38);
        double v = SIGMA0 * SIGMA0;
        for (int k = 0; k < K; k++) v = a * a * v + 2 * eta;
        double expected = (1 - a * a) / (4 * eta) * ACT * (SIGMA0 * SIGMA0 - v);
        double mp = 0, mp2 = 0;
        for (double l : prior.sumL()) {
            mp += l;
            mp2 += l * l;
        }
        mp /= ROWS;
        double sep = Math.sqrt((mp2 / ROWS - mp * mp) / ROWS);
        assertEquals(expected, mp, 4 * sep, "E[Σ l_k] from the prior");
    }
}
