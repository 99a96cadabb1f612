package org.dmerl.tensor;

/** Weight initialisers. Weights are [fanIn, fanOut] (x · W convention). */
public final class Init {

    private Init() {}

    /** LeCun normal: N(0, 1/fanIn) (Flax's default for Dense kernels); truncated-normal variants are not used. */
    public static void lecunNormal(Tensor w, Rng rng) {
        double std = Math.sqrt(1.0 / w.rows());
        for (int i = 0; i < w.size(); i++) w.data[i] = (float) (rng.gaussian() * std);
        w.touch();
    }

    /** PyTorch's nn.Linear default (Kaiming uniform with a = √5): U(−1/√fanIn, 1/√fanIn). */
    public static void torchDefault(Tensor w, int fanIn, Rng rng) {
        double bound = 1 / Math.sqrt(fanIn);
        uniform(w, -bound, bound, rng);
    }

    /** Kaiming (He) normal for ReLU: N(0, 2/fanIn). */
    public static void kaimingNormal(Tensor w, Rng rng) {
        double std = Math.sqrt(2.0 / w.rows());
        for (int i = 0; i < w.size(); i++) w.data[i] = (float) (rng.gaussian() * std);
        w.touch();
    }

    public static void uniform(Tensor w, double lo, double hi, Rng rng) {
        for (int i = 0; i < w.size(); i++) w.data[i] = (float) rng.uniform(lo, hi);
        w.touch();
    }

    public static void constant(Tensor w, float value) {
        java.util.Arrays.fill(w.data, 0, w.size(), value);
        w.touch();
    }

    public static void scale(Tensor w, float factor) {
        for (int i = 0; i < w.size(); i++) w.data[i] *= factor;
        w.touch();
    }

    /**
     * Orthogonal initialisation with gain (Saxe et al. 2014): modified Gram-Schmidt on a Gaussian matrix, on the
     * smaller side so that rows or columns are orthonormal.
     */
    public static void orthogonal(Tensor w, double gain, Rng rng) {
        int rows = w.rows(), cols = w.cols();
        boolean transpose = rows < cols;
        int n = transpose ? cols : rows, k = transpose ? rows : cols; // n ≥ k: k orthonormal vectors of length n
        double[][] q = new double[k][n];
        for (int j = 0; j < k; j++) {
            for (int i = 0; i < n; i++) q[j][i] = rng.gaussian();
            for (int p = 0; p < j; p++) {
                double dot = 0;
                for (int i = 0; i < n; i++) dot += q[j][i] * q[p][i];
                for (int i = 0; i < n; i++) q[j][i] -= dot * q[p][i];
            }
            double norm = 0;
            for (int i = 0; i < n; i++) norm += q[j][i] * q[j][i];
            norm = Math.sqrt(norm);
            for (int i = 0; i < n; i++) q[j][i] /= norm;
        }
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                w.data[r * cols + c] = (float) (gain * (transpose ? q[r][c] : q[c][r]));
            }
        }
        w.touch();
    }
}
