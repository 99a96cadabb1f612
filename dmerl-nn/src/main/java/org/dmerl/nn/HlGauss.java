package org.dmerl.nn;

import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Tensor;

/**
 * The HL-Gauss histogram loss (Imani and White 2018; Farebrother et al. 2024, "Stop Regressing"): a scalar target t
 * becomes the mass a Gaussian N(t, σ²) puts on each of a fixed set of bins, logits over those bins are trained by
 * cross-entropy to that distribution, and the prediction is the mean of softmax(logits) over the bin centres. Spec §3
 * (DiffPPO's categorical value, as REPPO): 151 bins over [−100, 200], σ = 0.75 bin widths.
 *
 * <p>The centres are linspace(min, max, bins), so each bin reaches half a bin width either side of its centre and the
 * outer edges lie half a bin outside [min, max]. Targets are clipped to [min, max]; the Gaussian's mass beyond the
 * outer edges is dropped and the rest renormalised.
 */
public final class HlGauss {

    private static final double SQRT_2 = Math.sqrt(2), SQRT_PI = Math.sqrt(Math.PI);
    /** Depth of the continued fraction of erfc: 2e-13 relative at x = 3, where it converges slowest. */
    private static final int CONTINUED_FRACTION_DEPTH = 20;
    private static final double FLOAT_NEGLIGIBLE_TAIL = 15;

    private final int bins;
    private final double min, max, sigma, binWidth;
    private final float[] centres;

    public HlGauss(int bins, double min, double max, double sigma) {
        if (bins < 2) throw new IllegalArgumentException("HL-Gauss needs at least 2 bins, got " + bins);
        if (!(max > min) || !Double.isFinite(min) || !Double.isFinite(max)) {
            throw new IllegalArgumentException("HL-Gauss range [" + min + ", " + max + "] is empty or not finite");
        }
        if (!(sigma > 0) || !Double.isFinite(sigma)) {
            throw new IllegalArgumentException("HL-Gauss σ must be positive and finite, got " + sigma);
        }
        this.bins = bins;
        this.min = min;
        this.max = max;
        this.sigma = sigma;
        binWidth = (max - min) / (bins - 1);
        centres = new float[bins];
        for (int i = 0; i < bins; i++) centres[i] = (float) (i == bins - 1 ? max : min + i * binWidth);
    }

    /** σ given in bin widths (the spec's 0.75). */
    public static HlGauss withSigmaRatio(int bins, double min, double max, double sigmaRatio) {
        return new HlGauss(bins, min, max, sigmaRatio * (max - min) / (bins - 1));
    }

    public int bins() { return bins; }
    public double min() { return min; }
    public double max() { return max; }
    public double sigma() { return sigma; }
    public double binWidth() { return binWidth; }
    public float centre(int i) { return centres[i]; }

    /**
     * Writes HLGauss(target) into {@code out[off .. off + bins)}: bin i gets Φ((e_{i+1} − t)/σ) − Φ((e_i − t)/σ) for
     * t = clip(target, min, max) and edges e_i = min + (i − ½)·width, divided by the mass between the outer edges.
     */
    public void targetDistribution(double target, float[] out, int off) {
        double t = Math.clamp(target, min, max);
        double total = normalMass(edge(0, t), edge(bins, t));
        // one tail per edge, each shared by the two bins it separates
        double lower = edge(0, t), lowerTail = smallerTail(lower);
        for (int i = 0; i < bins; i++) {
            double upper = edge(i + 1, t), upperTail = smallerTail(upper);
            out[off + i] = (float) (massBetween(lower, lowerTail, upper, upperTail) / total);
            lower = upper;
            lowerTail = upperTail;
        }
    }

    /** Edge i, standardised around t. */
    private double edge(int i, double t) {
        return (min + (i - 0.5) * binWidth - t) / sigma;
    }

    /** The predicted value softmax(logits)·centres of every row, [rows, 1]. */
    public Tensor expectation(Graph g, Tensor logits) {
        checkWidth(logits);
        Tensor support = g.input(bins, 1);
        System.arraycopy(centres, 0, support.data, 0, bins);
        return g.matmul(g.exp(g.logSoftmax(logits)), support);
    }

    /**
     * Σ_r w_r · (−Σ_i p_ri · log softmax(logits_r)_i), a [1, 1] loss: the cross-entropy of each row's logits to its
     * target distribution {@code targetProbs[r·bins ..]} (from {@link #targetDistribution}), weighted by
     * {@code rowWeights[r]}. Its gradient in logits_r is w_r·(softmax(logits_r) − p_r).
     */
    public Tensor crossEntropy(Graph g, Tensor logits, float[] targetProbs, float[] rowWeights) {
        checkWidth(logits);
        int rows = logits.rows();
        if (targetProbs.length < rows * bins || rowWeights.length < rows) {
            throw new IllegalArgumentException("crossEntropy: " + rows + " rows need " + rows * bins + " target "
                    + "probabilities and " + rows + " weights, got " + targetProbs.length + " and "
                    + rowWeights.length);
        }
        Tensor weightedTargets = g.input(rows, bins);
        for (int j = 0; j < rows * bins; j++) weightedTargets.data[j] = rowWeights[j / bins] * targetProbs[j];
        return g.neg(g.sum(g.mul(g.logSoftmax(logits), weightedTargets)));
    }

    private void checkWidth(Tensor logits) {
        if (logits.cols() != bins) {
            throw new IllegalArgumentException("HL-Gauss over " + bins + " bins got logits of shape " + logits.shape());
        }
    }

    /** Standard normal mass in [a, b]. */
    static double normalMass(double a, double b) {
        return massBetween(a, smallerTail(a), b, smallerTail(b));
    }

    /**
     * Mass in [a, b] from the tails beyond a and b. Φ(b) − Φ(a) would cancel to nothing when both lie far in the
     * upper tail; differences of the smaller tails keep the relative precision of far-out bins on either side.
     */
    private static double massBetween(double a, double tailA, double b, double tailB) {
        if (a >= 0) return tailA - tailB;
        if (b <= 0) return tailB - tailA;
        return 1 - tailA - tailB;
    }

    /**
     * Φ(−|z|), the mass beyond z. Beyond 15 it is below 4e-51: 0 once a probability is stored as a float, so it is
     * not computed (most of a target distribution's bins are that far out).
     */
    static double smallerTail(double z) {
        double distance = Math.abs(z);
        return distance > FLOAT_NEGLIGIBLE_TAIL ? 0 : normalCdf(-distance);
    }

    /** Φ(z) = ½·erfc(−z/√2). */
    static double normalCdf(double z) {
        return 0.5 * erfc(-z / SQRT_2);
    }

    /**
     * The complementary error function to about 1e-11 relative (ample for float probabilities): 1 − the series
     * below 3, the continued fraction at 3 and above, where 1 − erf would lose the digits of a small erfc.
     */
    static double erfc(double x) {
        if (x < 0) return 2 - erfc(-x);
        if (x < 3) return 1 - erfSeries(x);
        // erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated from the bottom up
        double f = x;
        for (int k = CONTINUED_FRACTION_DEPTH; k >= 1; k--) f = x + 0.5 * k / f;
        return Math.exp(-x * x) / (SQRT_PI * f);
    }

    /**
     * erf(x) = 2/√π · e^{−x²} · Σ_n 2ⁿ x^{2n+1} / (1·3·…·(2n+1)) for x ≥ 0: every term is positive, so unlike the
     * alternating Taylor series nothing cancels; below 3 it needs at most 45 terms.
     */
    private static double erfSeries(double x) {
        double term = x, sum = x;
        for (int n = 1; term > 1e-17 * sum; n++) {
            term *= 2 * x * x / (2 * n + 1);
            sum += term;
        }
        return 2 / SQRT_PI * Math.exp(-x * x) * sum;
    }
}
