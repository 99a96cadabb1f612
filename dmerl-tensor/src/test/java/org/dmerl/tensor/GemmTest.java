package org.dmerl.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link Gemm#gemm} against a naive double-precision triple loop. */
class GemmTest {

    private static final int[] SIZES = {1, 3, 4, 5, 16, 17, 63, 64, 65, 130, 256};

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(1);
    }

    /** A problem instance: A stored either row-major (sam = K, sak = 1) or column-major (sam = 1, sak = M). */
    private record Problem(int M, int N, int K, boolean colMajorA, float[] A, float[] B, float[] C0,
                           int aOff, int bOff, int cOff, int ldb, int ldc) {

        int sam() { return colMajorA ? 1 : K; }
        int sak() { return colMajorA ? M : 1; }

        float a(int m, int k) { return A[aOff + m * sam() + k * sak()]; }
        float b(int k, int n) { return B[bOff + k * ldb + n]; }

        static Problem random(int M, int N, int K, boolean colMajorA, int aOff, int bOff, int cOff, int bPad,
                              int cPad, Rng rng) {
            int ldb = N + bPad, ldc = N + cPad;
            float[] A = randomArray(aOff + M * K + 3, rng);
            float[] B = randomArray(bOff + K * ldb + 3, rng);
            float[] C0 = randomArray(cOff + M * ldc + 3, rng);
            return new Problem(M, N, K, colMajorA, A, B, C0, aOff, bOff, cOff, ldb, ldc);
        }

        float[] run() {
            float[] C = C0.clone();
            Gemm.gemm(M, N, K, A, aOff, sam(), sak(), B, bOff, ldb, C, cOff, ldc);
            return C;
        }

        /** Checks C = C0 + A·B inside the [M, N] window and C = C0 everywhere else. */
        void check(float[] C) {
            boolean[] inside = new boolean[C.length];
            for (int m = 0; m < M; m++) {
                for (int n = 0; n < N; n++) {
                    int idx = cOff + m * ldc + n;
                    inside[idx] = true;
                    double ref = C0[idx], mag = Math.abs(C0[idx]);
                    for (int k = 0; k < K; k++) {
                        double p = (double) a(m, k) * b(k, n);
                        ref += p;
                        mag += Math.abs(p);
                    }
                    // Sequential float accumulation: |error| ≤ ~(K + 1)·u·Σ|terms|; allow a factor of 2.
                    double tol = 2 * (K + 2) * 0x1.0p-24 * mag + 1e-30;
                    if (Math.abs(C[idx] - ref) > tol) {
                        fail(this + ": C[" + m + "," + n + "] = " + C[idx] + ", expected " + ref + " (tol " + tol + ")");
                    }
                }
            }
            for (int i = 0; i < C.length; i++) {
                if (!inside[i] && Float.floatToRawIntBits(C[i]) != Float.floatToRawIntBits(C0[i])) {
                    fail(this + ": C[" + i + "] outside the output window was modified");
                }
            }
        }

        @Override
        public String toString() {
            return "gemm M=" + M + " N=" + N + " K=" + K + (colMajorA ? " (sam=1, sak=M)" : " (sam=K, sak=1)")
                    + " aOff=" + aOff + " bOff=" + bOff + " cOff=" + cOff + " ldb=" + ldb + " ldc=" + ldc;
        }
    }

    private static float[] randomArray(int n, Rng rng) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rng.uniform(-1, 1);
        return x;
    }

    @Test
    void allShapesBothStrideFormsMatchNaiveProduct() {
        Rng rng = new Rng(1);
        int count = 0;
        for (int M : SIZES) {
            for (int N : SIZES) {
                for (int K : SIZES) {
                    for (boolean colMajor : new boolean[] {false, true}) {
                        Problem p = Problem.random(M, N, K, colMajor, 0, 0, 0, 0, 0, rng);
                        p.check(p.run());
                        count++;
                    }
                }
            }
        }
        assertEquals(SIZES.length * SIZES.length * SIZES.length * 2, count);
    }

    @Test
    void offsetsAndLeadingDimensionsAreHonoured() {
        Rng rng = new Rng(2);
        int[] sizes = {1, 3, 5, 17, 33, 65};
        for (int M : sizes) {
            for (int N : sizes) {
                for (int K : new int[] {1, 4, 19}) {
                    for (boolean colMajor : new boolean[] {false, true}) {
                        // Non-zero offsets and padded rows of B and C (ldb > N, ldc > N), incl. N = 1 with ldb > 1.
                        Problem p = Problem.random(M, N, K, colMajor, 7, 5, 3, 2, 3, rng);
                        p.check(p.run());
                        // C only padded: N = 1 with ldc > 1 must not take the axpy path.
                        Problem q = Problem.random(M, N, K, colMajor, 1, 0, 2, 0, 5, rng);
                        q.check(q.run());
                    }
                }
            }
        }
    }

    /**
     * Every kernel, panel or in place, one thread or two, gives each element the bits of C + (one fused multiply-add
     * chain over k from zero), so that choosing a kernel for a shape or a CPU never changes a result: the panels (whole
     * or in depth blocks), the in-place blocks, the shallow (K ≤ 8) and the narrow (N ≤ 4, contiguous columns of A) forms. One-column products
     * (dot and axpy forms) have their own order and are left out.
     */
    @Test
    void everyKernelIsOneFusedChainFromZeroAddedToC() {
        Rng rng = new Rng(5);
        int[] rows = {1, 2, 3, 5, 6, 11, 12, 13, 37, 100, 256};
        // PANEL_DEPTH + 1: a panel copied in two depth blocks of unequal depth, the sums carried between them
        int[] cols = {2, 3, 4, 7, 16, 17, 31, 32, 33, 64, 65, 100, 256}, depths = {1, 4, 8, 9, 64, 256, Gemm.PANEL_DEPTH + 1};
        int cases = 0;
        try {
            for (int threads : new int[] {1, 2}) {
                Parallel.setThreads(threads);
                for (int M : rows) for (int N : cols) for (int K : depths) {
                    Problem p = Problem.random(M, N, K, (M + N + K) % 2 == 0, 1, 2, 3, 1, 2, rng);
                    float[] C = p.run();
                    for (int m = 0; m < M; m++) {
                        for (int n = 0; n < N; n++) {
                            float chain = 0f;
                            for (int k = 0; k < K; k++) chain = Math.fma(p.a(m, k), p.b(k, n), chain);
                            int idx = p.cOff + m * p.ldc + n;
                            float expected = p.C0[idx] + chain;
                            if (Float.floatToRawIntBits(C[idx]) != Float.floatToRawIntBits(expected)) {
                                fail(p + " threads=" + threads + ": C[" + m + "," + n + "] = " + C[idx] + ", expected "
                                        + expected);
                            }
                        }
                    }
                    cases++;
                }
            }
        } finally {
            Parallel.setThreads(1);
        }
        assertEquals(2 * rows.length * cols.length * depths.length, cases);
    }

    /**
     * A one-column product over rows of A with unit stride is a dot product per row in a fixed order: L lane chains of
     * fused multiply-adds over whole vectors of k, the lanes summed in order, then the tail's products, added to C.
     * The order is the same for every row, whether it runs alone or among four, on one thread or two.
     */
    @Test
    void oneColumnDotProductsSumInTheirFixedOrder() {
        Rng rng = new Rng(8);
        try {
            for (int threads : new int[] {1, 2}) {
                Parallel.setThreads(threads);
                for (int M : new int[] {1, 3, 4, 5, 7, 256}) for (int K : new int[] {5, 16, 37, 256}) {
                    Problem p = Problem.random(M, 1, K, false, 1, 2, 3, 0, 1, rng);
                    float[] C = p.run();
                    for (int m = 0; m < M; m++) {
                        float[] lanes = new float[Gemm.L];
                        int whole = K / Gemm.L * Gemm.L;
                        for (int k = 0; k < whole; k++) lanes[k % Gemm.L] = Math.fma(p.a(m, k), p.b(k, 0), lanes[k % Gemm.L]);
                        float sum = 0f;
                        for (float lane : lanes) sum += lane;
                        for (int k = whole; k < K; k++) sum += p.a(m, k) * p.b(k, 0);
                        int idx = p.cOff() + m * p.ldc();
                        assertEquals(Float.floatToRawIntBits(p.C0()[idx] + sum), Float.floatToRawIntBits(C[idx]),
                                p + " threads=" + threads + " row " + m);
                    }
                }
            }
        } finally {
            Parallel.setThreads(1);
        }
    }

    /**
     * The tests run with -XX:ObjectAlignmentInBytes=64 (pom.xml's jvm.flags), as bin/dmerl runs: an array's elements
     * then start 16 bytes past a cache line, and scratch copies are used from 12 floats on, a line boundary.
     */
    @Test
    void scratchCopiesStartOnACacheLineUnderTheProjectsFlags() {
        assertEquals(12, Gemm.LINE_SKEW);
    }

    @Test
    void accumulatesIntoExistingOutput() {
        Rng rng = new Rng(3);
        for (int[] s : new int[][] {{5, 17, 9}, {64, 1, 33}, {3, 65, 1}, {16, 16, 16}}) {
            for (boolean colMajor : new boolean[] {false, true}) {
                Problem p = Problem.random(s[0], s[1], s[2], colMajor, 0, 0, 0, 0, 0, rng);
                float[] once = p.run();
                p.check(once);
                // Running the product again on top of the result adds A·B a second time.
                float[] twice = once.clone();
                Gemm.gemm(p.M(), p.N(), p.K(), p.A(), 0, p.sam(), p.sak(), p.B(), 0, p.ldb(), twice, 0, p.ldc());
                for (int i = 0; i < p.M() * p.N(); i++) {
                    double expected = 2.0 * once[i] - p.C0()[i];
                    assertEquals(expected, twice[i], 1e-4 * (1 + Math.abs(expected)), p + " index " + i);
                }
            }
        }
    }

    @Test
    void zeroSizedReductionLeavesOutputUnchanged() {
        float[] C = {1, 2, 3, 4};
        Gemm.gemm(2, 2, 0, new float[1], 0, 0, 1, new float[1], 0, 2, C, 0, 2);
        assertArrayEquals(new float[] {1, 2, 3, 4}, C);
    }

    @Test
    void twoThreadsMatchNaiveProductAndAreBitIdenticalToOneThread() {
        Rng rng = new Rng(4);
        int split = 0;
        for (int M : SIZES) {
            for (int N : SIZES) {
                for (int K : SIZES) {
                    Parallel.setThreads(2);
                    boolean splits = Parallel.worthSplitting(M, N, K);
                    Parallel.setThreads(1);
                    if (!splits) continue; // two threads take the one-thread path; covered above
                    for (boolean colMajor : new boolean[] {false, true}) {
                        compareThreads(Problem.random(M, N, K, colMajor, 0, 0, 0, 0, 0, rng));
                        split++;
                    }
                }
            }
        }
        assertTrue(split > 20, "expected many shapes to be split over two threads, got " + split);
    }

    @Test
    void twoThreadsBitIdenticalForLargeColumnProducts() {
        // N = 1 products big enough to split: the dot path (sak = 1) and the axpy path (sam = 1, ldc = 1), with row
        // counts whose halves are not multiples of the vector length.
        Rng rng = new Rng(5);
        for (int M : new int[] {100, 130, 259}) {
            int K = (1 << 18) / M + 3;
            for (boolean colMajor : new boolean[] {false, true}) {
                Problem p = Problem.random(M, 1, K, colMajor, 0, 0, 0, 0, 0, rng);
                Parallel.setThreads(2);
                assertTrue(Parallel.worthSplitting(M, 1, K));
                Parallel.setThreads(1);
                compareThreads(p);
            }
        }
        // Products as in the backward pass of a batch (dW = Xᵀ·dY), with odd row counts.
        for (int[] s : new int[][] {{130, 63, 256}, {17, 130, 256}, {255, 65, 17}, {9, 1000, 33}}) {
            Parallel.setThreads(2);
            assertTrue(Parallel.worthSplitting(s[0], s[1], s[2]));
            Parallel.setThreads(1);
            compareThreads(Problem.random(s[0], s[1], s[2], true, 0, 0, 0, 0, 0, rng));
        }
    }

    private static void compareThreads(Problem p) {
        Parallel.setThreads(1);
        float[] one = p.run();
        p.check(one);
        Parallel.setThreads(2);
        try {
            float[] two = p.run();
            for (int i = 0; i < one.length; i++) {
                if (Float.floatToRawIntBits(one[i]) != Float.floatToRawIntBits(two[i])) {
                    fail(p + ": 2 threads differ from 1 thread at index " + i + ": " + two[i] + " vs " + one[i]);
                }
            }
            // Repeating with two threads is deterministic too.
            assertArrayEquals(two, p.run(), 0f, p.toString());
        } finally {
            Parallel.setThreads(1);
        }
    }

    @Test
    void setThreadsRejectsUnsupportedCounts() {
        assertThrows(IllegalArgumentException.class, () -> Parallel.setThreads(0));
        assertThrows(IllegalArgumentException.class, () -> Parallel.setThreads(3));
        assertEquals(1, Parallel.threads());
    }

    @Test
    void transposeMatchesDefinition() {
        Rng rng = new Rng(6);
        // the last two are shared with the worker at two threads, in 32-row blocks (the last one partial)
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            for (int[] s : new int[][] {{1, 1}, {1, 7}, {7, 1}, {33, 65}, {64, 32}, {100, 3}, {256, 256}, {100, 300}}) {
                float[] in = randomArray(s[0] * s[1], rng);
                float[] out = new float[in.length];
                Gemm.transpose(in, s[0], s[1], out);
                for (int r = 0; r < s[0]; r++) {
                    for (int c = 0; c < s[1]; c++) {
                        assertEquals(in[r * s[1] + c], out[c * s[0] + r], threads + " thread(s), " + s[0] + "×" + s[1]);
                    }
                }
            }
        }
    }
    @Test
    void packedMatvecIsBitIdenticalToOneRowGemm() {
        Rng rng = new Rng(5);
        int P = Gemm.PANEL;
        int[] widths = {1, 2, 7, P - 1, P, P + 1, P + 2, 2 * P + 1, 2 * P + 13, 256};
        for (int K : new int[] {1, 5, 39, 256}) {
            for (int N : widths) {
                float[] x = new float[K + 3], W = new float[K * N], y = new float[N + 2], ref = new float[N + 2];
                fill(x, rng);
                fill(W, rng);
                fill(y, rng);
                System.arraycopy(y, 0, ref, 0, y.length);
                AlignedFloats packed = new AlignedFloats(Gemm.packedSize(K, N));
                assertTrue(packed.cacheLineAligned(), "packed weights must start on a cache line");
                Gemm.packPanels(W, K, N, packed);
                for (int p = 0; p < N / P; p++) {
                    for (int k = 0; k < K; k++) {
                        for (int c = 0; c < P; c++) {
                            assertEquals(W[k * N + p * P + c], packed.get((p * K + k) * P + c), 0f, "panel " + p);
                        }
                    }
                }
                Gemm.gemm(1, N, K, x, 3, K, 1, W, 0, N, ref, 2, N);
                Gemm.matvecPacked(x, 3, K, N, packed, W, y, 2);
                assertArrayEquals(ref, y, "K=" + K + " N=" + N);
            }
        }
    }

    @Test
    void packedMatvecColumnRangesComposeToTheWholeProduct() {
        Rng rng = new Rng(6);
        int P = Gemm.PANEL;
        for (int N : new int[] {2 * P, 3 * P + 1, 4 * P + 5}) {
            int K = 37;
            float[] x = new float[K], W = new float[K * N], whole = new float[N], parts = new float[N];
            fill(x, rng);
            fill(W, rng);
            AlignedFloats packed = new AlignedFloats(Gemm.packedSize(K, N));
            Gemm.packPanels(W, K, N, packed);
            Gemm.matvecPacked(x, 0, K, N, packed, W, whole, 0);
            int split = N / P / 2 * P;
            Gemm.matvecPacked(x, 0, K, N, packed, W, parts, 0, split, N);
            Gemm.matvecPacked(x, 0, K, N, packed, W, parts, 0, 0, split);
            assertArrayEquals(whole, parts, "N=" + N);
        }
        assertThrows(IllegalArgumentException.class,
                () -> Gemm.matvecPacked(new float[4], 0, 4, 2 * P, new AlignedFloats(8 * P), new float[8 * P],
                        new float[2 * P], 0, 1, P));
    }

    /**
     * {@link Gemm#gemmInto} against its definition: C filled with the bias (or zeros), {@link Gemm#gemm}, then a ReLU
     * pass. Bit for bit, for every path (rows below and above the panel minimum, partial row groups and column panels,
     * one column, transposed A, offsets, two threads), whatever C held before; columns outside the window untouched.
     */
    @Test
    void gemmIntoIsFillThenProductThenReluBitForBit() {
        Rng rng = new Rng(21);
        int[] rows = {1, 5, 11, 12, 13, 37, 256}, cols = {1, 6, 16, 23, 40, 256};
        int[] depths = {1, 4, 8, 9, 17, 256, Gemm.PANEL_DEPTH + 1};
        int cases = 0;
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            for (int M : rows) for (int N : cols) for (int K : depths) {
                for (int variant = 0; variant < 4; variant++) {
                    boolean colMajor = (variant & 1) != 0, relu = (variant & 2) != 0, withBias = (M + N + K + variant) % 3 != 0;
                    Problem p = Problem.random(M, N, K, colMajor, 2, 1, 3, 1, 2, rng);
                    float[] bias = withBias ? randomArray(N + 4, rng) : null;
                    float[] expected = p.C0.clone();
                    for (int m = 0; m < M; m++) {
                        int c = p.cOff + m * p.ldc;
                        if (bias == null) java.util.Arrays.fill(expected, c, c + N, 0f);
                        else System.arraycopy(bias, 4, expected, c, N);
                    }
                    Gemm.gemm(M, N, K, p.A, p.aOff, p.sam(), p.sak(), p.B, p.bOff, p.ldb, expected, p.cOff, p.ldc);
                    if (relu) for (int m = 0; m < M; m++) Elementwise.relu(expected, expected, p.cOff + m * p.ldc, p.cOff + m * p.ldc + N);
                    float[] actual = p.C0.clone();
                    for (int m = 0; m < M; m++) {
                        java.util.Arrays.fill(actual, p.cOff + m * p.ldc, p.cOff + m * p.ldc + N, Float.NaN);
                    }
                    Gemm.gemmInto(M, N, K, p.A, p.aOff, p.sam(), p.sak(), p.B, p.bOff, p.ldb, bias, 4, relu,
                            actual, p.cOff, p.ldc);
                    for (int i = 0; i < expected.length; i++) {
                        if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                            fail("gemmInto " + p + " bias=" + withBias + " relu=" + relu + " threads=" + threads
                                    + ": C[" + i + "] = " + actual[i] + ", expected " + expected[i]);
                        }
                    }
                    cases++;
                }
            }
        }
        assertEquals(2 * rows.length * cols.length * depths.length * 4, cases);
    }

    private static void fill(float[] a, Rng rng) {
        for (int i = 0; i < a.length; i++) a[i] = (float) rng.gaussian();
    }
}
