package org.dmerl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * {@link HlGauss}: its erfc and Φ against reference values, the target distribution (normalised, centred on the
 * target with the spread σ sets, clipped at the ends, mirror-symmetric down to its far tails), the expectation
 * (it reads a target back from logits log HLGauss(t)), and the gradients of expectation and cross-entropy against
 * central finite differences.
 */
class HlGaussTest {

    /** The spec's support: 151 bins over [−100, 200], σ = 0.75 bin widths (bin width 2). */
    private static final HlGauss SPEC = HlGauss.withSigmaRatio(151, -100, 200, 0.75);

    private static float[] distribution(HlGauss h, double target) {
        float[] p = new float[h.bins()];
        h.targetDistribution(target, p, 0);
        return p;
    }

    private static double mean(HlGauss h, float[] p) {
        double m = 0;
        for (int i = 0; i < p.length; i++) m += p[i] * (double) h.centre(i);
        return m;
    }

    // ------------------------------------------------------------------------------------------------ erfc and Φ

    /** Reference values from the C library's erfc (Python math.erfc), which is correctly rounded to within 1 ulp. */
    @Test
    void erfcAndNormalCdfMatchReferenceValues() {
        double[][] erfc = {{0.0, 1.0}, {0.1, 0.8875370839817152}, {0.5, 0.4795001221869535},
                {1.0, 0.15729920705028513}, {2.0, 0.004677734981047265}, {2.9, 4.109787809945886e-05},
                {3.0, 2.2090496998585438e-05}, {3.5, 7.430983723414128e-07}, {5.0, 1.5374597944280351e-12},
                {10.0, 2.088487583762545e-45}, {-1.0, 1.842700792949715}, {-3.0, 1.9999779095030015}};
        for (double[] e : erfc) {
            assertEquals(e[1], HlGauss.erfc(e[0]), 1e-15 + 1e-10 * e[1], "erfc(" + e[0] + ")");
        }
        double[][] phi = {{-8.0, 6.220960574271819e-16}, {-3.0, 0.0013498980316300957}, {-1.0, 0.15865525393145707},
                {0.0, 0.5}, {0.5, 0.6914624612740131}, {1.0, 0.8413447460685429}, {1.96, 0.9750021048517795},
                {3.0, 0.9986501019683699}, {8.0, 0.9999999999999993}};
        for (double[] e : phi) {
            assertEquals(e[1], HlGauss.normalCdf(e[0]), 1e-15 + 1e-10 * e[1], "Φ(" + e[0] + ")");
        }
        // continuous where the method changes (series below 3, continued fraction above)
        assertEquals(HlGauss.erfc(Math.nextDown(3.0)), HlGauss.erfc(3.0), 1e-15);
        assertEquals(0.0, HlGauss.erfc(40));
        assertEquals(2.0, HlGauss.erfc(-40));
    }

    @Test
    void normalMassKeepsTheFarUpperTail() {
        // P(10 ≤ Z ≤ 11) = Φ(−10) − Φ(−11) ≈ 7.62e-24, where Φ(11) − Φ(10) is 0 in double
        double expected = 7.619661958203143e-24;
        assertEquals(expected, HlGauss.normalMass(10, 11), 1e-10 * expected);
        assertEquals(expected, HlGauss.normalMass(-11, -10), 1e-10 * expected);
        assertEquals(0.5, HlGauss.normalMass(-1e9, 0), 1e-15);
    }

    // ------------------------------------------------------------------------------------------- target distribution

    @Test
    void targetDistributionIsNormalisedAndCentredOnTheTarget() {
        Rng rng = new Rng(1);
        double w = SPEC.binWidth();
        assertEquals(2.0, w, 1e-12);
        assertEquals(1.5, SPEC.sigma(), 1e-12);
        List<Double> targets = new ArrayList<>(List.of(0.0, 50.0, 1.0, -90.0, 190.0, 0.3 * w));
        for (int i = 0; i < 40; i++) targets.add(rng.uniform(-100 + 5 * w, 200 - 5 * w));
        for (double t : targets) {
            float[] p = distribution(SPEC, t);
            double sum = 0, var = 0, m = mean(SPEC, p);
            for (int i = 0; i < p.length; i++) {
                assertTrue(p[i] >= 0, "negative mass at " + i);
                sum += p[i];
                var += p[i] * (SPEC.centre(i) - m) * (SPEC.centre(i) - m);
            }
            assertEquals(1.0, sum, 1e-6, "mass at t = " + t);
            assertEquals(t, m, 1e-3 * w, "mean at t = " + t);
            // a Gaussian binned into width-w bins has variance σ² + w²/12 (Sheppard's correction)
            double binnedStd = Math.sqrt(SPEC.sigma() * SPEC.sigma() + w * w / 12);
            assertEquals(binnedStd, Math.sqrt(var), 1e-3 * w, "spread at t = " + t);
        }
    }

    @Test
    void targetsOutsideTheRangeAreClippedToTheOuterCentres() {
        assertArrayEquals(distribution(SPEC, -100), distribution(SPEC, -1e6));
        assertArrayEquals(distribution(SPEC, 200), distribution(SPEC, 250));
        assertArrayEquals(distribution(SPEC, 200), distribution(SPEC, Double.POSITIVE_INFINITY));
        float[] low = distribution(SPEC, -100);
        // half a Gaussian is left, renormalised: the first bin holds P(|Z| < 2/3) / P(Z > −2/3) ≈ 0.66
        double z = SPEC.binWidth() / 2 / SPEC.sigma();
        assertEquals(HlGauss.normalMass(-z, z) / HlGauss.normalMass(-z, 1e9), low[0], 1e-6);
        assertTrue(low[0] > low[1] && low[1] > low[2] && low[2] > low[3]);
        double m = mean(SPEC, low);
        assertTrue(m > -100 && m < -100 + SPEC.binWidth(), "mean " + m + " is pulled inside, by less than a bin");
    }

    /** Bin i for t = min + x is bin bins−1−i for t = max − x, far tails included (relative to their size). */
    @Test
    void distributionIsMirrorSymmetricIntoItsFarTails() {
        HlGauss h = HlGauss.withSigmaRatio(41, -3, 5, 0.75);
        int farBins = 0;
        for (double x : new double[] {0, 0.05, 0.9, 2.4, 4}) {
            float[] lo = distribution(h, -3 + x), hi = distribution(h, 5 - x);
            for (int i = 0; i < h.bins(); i++) {
                float a = lo[i], b = hi[h.bins() - 1 - i];
                assertEquals(a, b, 1e-5 * Math.max(a, b) + 2 * Float.MIN_VALUE, "x = " + x + ", bin " + i);
                if (a > 0 && a < 1e-20) farBins++;
            }
        }
        assertTrue(farBins > 10, "only " + farBins + " bins below 1e-20: the far tails went untested");
    }

    // ------------------------------------------------------------------------------------------------ expectation

    @Test
    void expectationOfLogTargetDistributionsIsTheTarget() {
        // at least 5 bins inside the ends, where clipping the Gaussian would pull the mean inwards
        double[] targets = {-89.3, -40, 0, 0.7, 63.1, 150, 189.2};
        int bins = SPEC.bins();
        Tensor logits = Tensor.zeros(targets.length, bins);
        for (int r = 0; r < targets.length; r++) {
            float[] p = distribution(SPEC, targets[r]);
            for (int i = 0; i < bins; i++) logits.data[r * bins + i] = (float) Math.log(Math.max(p[i], 1e-30));
        }
        Graph g = new Graph();
        g.reset();
        g.setGradEnabled(false);
        Tensor v = SPEC.expectation(g, logits);
        assertEquals(targets.length, v.rows());
        assertEquals(1, v.cols());
        for (int r = 0; r < targets.length; r++) assertEquals(targets[r], v.data[r], 0.01, "row " + r);
        // uniform logits: the midpoint of the support
        g.reset();
        assertEquals(50.0, SPEC.expectation(g, Tensor.zeros(1, bins)).item(), 1e-3);
        g.reset();
        assertThrows(IllegalArgumentException.class, () -> SPEC.expectation(g, Tensor.zeros(1, bins - 1)));
    }

    // ------------------------------------------------------------------------------------------------ gradients

    private static final HlGauss SMALL = HlGauss.withSigmaRatio(11, -1, 2, 0.75);
    private static final int ROWS = 4;
    /** Losses are O(1) float32; h = 1e-2 keeps rounding (~1e-5) and truncation (~h²) below the tolerance. */
    private static final double H = 1e-2, ABS_TOL = 2e-4, REL_TOL = 2e-3;

    private static Tensor randomLogits(Rng rng) {
        Tensor t = Tensor.param("logits", ROWS, SMALL.bins());
        for (int i = 0; i < t.size(); i++) t.data[i] = (float) (1.5 * rng.gaussian());
        t.touch();
        return t;
    }

    /** Autodiff gradient of the scalar {@code loss(g, logits)} against central differences, entry by entry. */
    private static float[] checkGradient(String what, Tensor logits, Function<Graph, Tensor> loss) {
        Graph g = new Graph();
        g.reset();
        logits.zeroGrad();
        g.backward(loss.apply(g));
        float[] analytic = logits.grad.clone();
        List<String> errors = new ArrayList<>();
        for (int j = 0; j < logits.size(); j++) {
            float saved = logits.data[j];
            float xp = (float) (saved + H), xm = (float) (saved - H);
            logits.data[j] = xp;
            logits.touch();
            g.reset();
            double lp = loss.apply(g).item();
            logits.data[j] = xm;
            logits.touch();
            g.reset();
            double lm = loss.apply(g).item();
            logits.data[j] = saved;
            logits.touch();
            double numeric = (lp - lm) / ((double) xp - xm);
            double tol = ABS_TOL + REL_TOL * Math.max(Math.abs(analytic[j]), Math.abs(numeric));
            if (!(Math.abs(analytic[j] - numeric) <= tol)) {
                errors.add(String.format("[%d,%d]: analytic %.6g, numeric %.6g", j / logits.cols(), j % logits.cols(),
                        analytic[j], numeric));
            }
        }
        if (!errors.isEmpty()) {
            fail(what + ": " + errors.size() + " entries differ, e.g. " + errors.subList(0, Math.min(8, errors.size())));
        }
        return analytic;
    }

    @Test
    void crossEntropyGradientMatchesFiniteDifferencesAndTheClosedForm() {
        Rng rng = new Rng(7);
        Tensor logits = randomLogits(rng);
        int bins = SMALL.bins();
        float[] targets = new float[ROWS * bins], weights = new float[ROWS];
        double[] t = {-1.4, -0.2, 0.95, 1.7};
        for (int r = 0; r < ROWS; r++) {
            SMALL.targetDistribution(t[r], targets, r * bins);
            weights[r] = (float) rng.uniform(0.1, 0.5);
        }
        float[] grad = checkGradient("cross-entropy", logits, g -> SMALL.crossEntropy(g, logits, targets, weights));
        // d/dz_r of w_r·CE(p_r, softmax z_r) = w_r·(softmax(z_r) − p_r), since p_r sums to 1
        double expectedLoss = 0;
        for (int r = 0; r < ROWS; r++) {
            double max = Double.NEGATIVE_INFINITY, z = 0;
            for (int i = 0; i < bins; i++) max = Math.max(max, logits.data[r * bins + i]);
            for (int i = 0; i < bins; i++) z += Math.exp(logits.data[r * bins + i] - max);
            double lse = max + Math.log(z);
            for (int i = 0; i < bins; i++) {
                int j = r * bins + i;
                double softmax = Math.exp(logits.data[j] - lse);
                assertEquals(weights[r] * (softmax - targets[j]), grad[j], 1e-6, "closed-form gradient at " + j);
                expectedLoss += weights[r] * targets[j] * (lse - logits.data[j]);
            }
        }
        Graph g = new Graph();
        g.reset();
        assertEquals(expectedLoss, SMALL.crossEntropy(g, logits, targets, weights).item(), 1e-5 * expectedLoss);
    }

    @Test
    void expectationGradientMatchesFiniteDifferences() {
        Rng rng = new Rng(8);
        Tensor logits = randomLogits(rng);
        float[] u = new float[ROWS];
        for (int r = 0; r < ROWS; r++) u[r] = (float) rng.gaussian();
        checkGradient("expectation", logits, g -> {
            Tensor weights = g.input(ROWS, 1);
            System.arraycopy(u, 0, weights.data, 0, ROWS);
            return g.sum(g.mul(SMALL.expectation(g, logits), weights));
        });
    }

    @Test
    void rejectsBadSupports() {
        assertThrows(IllegalArgumentException.class, () -> new HlGauss(1, 0, 1, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new HlGauss(10, 1, 1, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new HlGauss(10, 0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new HlGauss(10, 0, Double.POSITIVE_INFINITY, 1));
    }
}
