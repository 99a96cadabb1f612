package org.dmerl.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class InitTest {

    /** Gram matrix of the columns (WᵀW) or, with {@code rowsGram}, of the rows (WWᵀ). */
    private static double[][] gram(Tensor w, boolean rowsGram) {
        int n = rowsGram ? w.rows() : w.cols(), len = rowsGram ? w.cols() : w.rows();
        double[][] out = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < len; k++) {
                    s += rowsGram ? (double) w.get(i, k) * w.get(j, k) : (double) w.get(k, i) * w.get(k, j);
                }
                out[i][j] = s;
            }
        }
        return out;
    }

    private static void assertScaledIdentity(double[][] m, double diag, String what) {
        for (int i = 0; i < m.length; i++) {
            for (int j = 0; j < m.length; j++) {
                assertEquals(i == j ? diag : 0, m[i][j], 1e-5 * (1 + diag), what + " at " + i + "," + j);
            }
        }
    }

    @Test
    void orthogonalTallSquareAndWide() {
        Rng rng = new Rng(1);
        for (int[] s : new int[][] {{64, 16}, {33, 32}, {32, 32}, {16, 64}, {5, 200}, {1, 8}, {8, 1}}) {
            for (double gain : new double[] {1.0, Math.sqrt(2), 0.01}) {
                Tensor w = Tensor.param("w", s[0], s[1]);
                long version = w.version();
                Init.orthogonal(w, gain, rng);
                assertTrue(w.version() > version);
                String what = "orthogonal [" + s[0] + "," + s[1] + "] gain " + gain;
                // Tall (or square): orthonormal columns, WᵀW = gain²·I. Wide: orthonormal rows, WWᵀ = gain²·I.
                boolean wide = s[0] < s[1];
                assertScaledIdentity(gram(w, wide), gain * gain, what);
                if (s[0] == s[1]) assertScaledIdentity(gram(w, true), gain * gain, what + " (rows)");
            }
        }
    }

    @Test
    void orthogonalIsSeededAndNotDegenerate() {
        Tensor a = Tensor.param("a", 20, 10), b = Tensor.param("b", 20, 10);
        Init.orthogonal(a, 1, new Rng(7));
        Init.orthogonal(b, 1, new Rng(7));
        for (int i = 0; i < a.size(); i++) assertEquals(a.data[i], b.data[i]);
        Init.orthogonal(b, 1, new Rng(8));
        double diff = 0;
        for (int i = 0; i < a.size(); i++) diff += Math.abs(a.data[i] - b.data[i]);
        assertTrue(diff > 1, "different seeds give the same matrix");
    }

    private static double[] meanVar(Tensor w) {
        double s = 0, sq = 0;
        for (int i = 0; i < w.size(); i++) {
            s += w.data[i];
            sq += (double) w.data[i] * w.data[i];
        }
        double mean = s / w.size();
        return new double[] {mean, sq / w.size() - mean * mean};
    }

    @Test
    void lecunNormalVariance() {
        Tensor w = Tensor.param("w", 400, 250); // fanIn = 400, 100k samples
        Init.lecunNormal(w, new Rng(2));
        double[] mv = meanVar(w);
        double var = 1.0 / 400;
        assertEquals(0, mv[0], 0.02 * Math.sqrt(var));
        assertEquals(var, mv[1], 0.03 * var);
    }

    @Test
    void kaimingNormalVariance() {
        Tensor w = Tensor.param("w", 200, 500);
        Init.kaimingNormal(w, new Rng(3));
        double[] mv = meanVar(w);
        double var = 2.0 / 200;
        assertEquals(0, mv[0], 0.02 * Math.sqrt(var));
        assertEquals(var, mv[1], 0.03 * var);
    }

    @Test
    void torchDefaultWithinBounds() {
        for (int fanIn : new int[] {1, 7, 256}) {
            Tensor w = Tensor.param("w", fanIn, 300);
            Init.torchDefault(w, fanIn, new Rng(fanIn));
            double bound = 1 / Math.sqrt(fanIn);
            double min = Double.MAX_VALUE, max = -Double.MAX_VALUE;
            for (int i = 0; i < w.size(); i++) {
                assertTrue(Math.abs(w.data[i]) <= bound, w.data[i] + " outside ±" + bound);
                min = Math.min(min, w.data[i]);
                max = Math.max(max, w.data[i]);
            }
            // Fills the range: uniform variance bound²/3.
            assertTrue(min < -0.95 * bound && max > 0.95 * bound, "range [" + min + ", " + max + "] vs ±" + bound);
            double[] mv = meanVar(w);
            assertEquals(bound * bound / 3, mv[1], 0.15 * bound * bound / 3, "fanIn " + fanIn);
        }
    }

    @Test
    void uniformConstantAndScale() {
        Tensor w = Tensor.param("w", 10, 10);
        Init.uniform(w, 2, 3, new Rng(4));
        for (float v : w.data) assertTrue(v >= 2 && v <= 3, "value " + v);
        Init.constant(w, 1.5f);
        for (float v : w.data) assertEquals(1.5f, v);
        long version = w.version();
        Init.scale(w, -2f);
        for (float v : w.data) assertEquals(-3f, v);
        assertTrue(w.version() > version);
    }
}
