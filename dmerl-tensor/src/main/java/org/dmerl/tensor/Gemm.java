package org.dmerl.tensor;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision matrix products with the Vector API: {@code C[m,n] += Σ_k A[m·sam + k·sak] · B[k·ldb + n]}.
 *
 * <p>The A strides let one call compute both X·W (sam = in, sak = 1) and Xᵀ·dY (sam = 1, sak = in). Products of at
 * least {@link #PANEL_MIN_ROWS} rows run a 6-row block over a contiguous copy of B's column panel ({@link
 * PanelProduct}): 2 vectors wide on AVX2, 4 on AVX-512 ({@link #VECTORS}), at most {@link #PANEL_DEPTH} rows of it at a
 * time. On an AVX-512 core (Intel, 2 MB L2) the panel path took a 256³ product from 94–101 to 130–136 GFLOP/s against a
 * 4-row × 4-vector block streaming B's rows in place, which now serves fewer rows there. Every kernel gives each
 * element the bits of C + one fused multiply-add chain over k from zero, so the choice never changes a result. Large
 * products can be split over a second thread ({@link Parallel}).
 */
public final class Gemm {

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    private static final java.nio.ByteOrder ORDER = java.nio.ByteOrder.nativeOrder();
    /**
     * AVX-512 has 32 vector registers: for products of few rows, a 4×4-vector block (16 accumulators) fits. AVX2 has
     * 16, so the 4×4 block spills (measured: 46 vs 90+ GFLOP/s); there 3×2 and 1×8 blocks are used.
     */
    static final boolean WIDE_REGISTER_FILE = L >= 16;

    /**
     * TAIL_MASKS[r] selects the first r lanes. Built once: a mask made per call and handed to a kernel that is not
     * inlined is boxed, which made every batch-1 product with a partial vector allocate.
     */
    @SuppressWarnings("unchecked")
    private static final VectorMask<Float>[] TAIL_MASKS = new VectorMask[L + 1];

    static {
        for (int r = 0; r <= L; r++) TAIL_MASKS[r] = S.indexInRange(0, r);
    }

    private Gemm() {}

    /**
     * Floats from the start of a scratch array's elements to a 64-byte boundary: the copied panels of B and the 6-row
     * block are used from there, so that no 64-byte vector load of them straddles two cache lines. It is known when the
     * JVM aligns objects to 64 bytes ({@code -XX:ObjectAlignmentInBytes=64}, one of the flags bin/dmerl passes): an
     * array's elements then start 16 bytes (12 with compact object headers) past a boundary. Otherwise it is 0 and
     * where the elements land is chance. The 6×2 kernel ran at 161–164 GFLOP/s over an aligned panel against 147–153
     * at the other fifteen offsets (Intel AVX-512 VM, docs/results.md, "Twelfth session").
     */
    static final int LINE_SKEW = lineSkew();

    private static int lineSkew() {
        try {
            var vm = java.lang.management.ManagementFactory.getPlatformMXBean(
                    com.sun.management.HotSpotDiagnosticMXBean.class);
            int alignment = Integer.parseInt(vm.getVMOption("ObjectAlignmentInBytes").getValue());
            boolean compactHeaders = Boolean.parseBoolean(vm.getVMOption("UseCompactObjectHeaders").getValue());
            int elementsStart = compactHeaders ? 12 : 16;
            return alignment % 64 == 0 ? (64 - elementsStart) / Float.BYTES : 0;
        } catch (RuntimeException | LinkageError notHotSpot) {
            return 0;
        }
    }

    /** C[M,N] (row stride ldc) += A·B. */
    public static void gemm(int M, int N, int K, float[] A, int aOff, int sam, int sak,
                            float[] B, int bOff, int ldb, float[] C, int cOff, int ldc) {
        if (K <= SHALLOW_DEPTH && N >= L) {
            shallow(M, N, K, A, aOff, sam, sak, B, bOff, ldb, true, null, 0, false, C, cOff, ldc);
            return;
        }
        if (N <= NARROW_COLUMNS && sam == 1 && M >= L && !singleColumn(N, sam, sak, ldc)) {
            narrowColumns(M, N, K, A, aOff, sak, B, bOff, ldb, C, cOff, ldc);
            return;
        }
        if (Parallel.worthSplitting(M, N, K)) {
            SPLIT.get().run(M, N, K, A, aOff, sam, sak, B, bOff, ldb, false, null, 0, false, C, cOff, ldc);
        } else {
            gemmRows(0, M, N, K, A, aOff, sam, sak, B, bOff, ldb, C, cOff, ldc);
        }
    }

    /**
     * C[M,N] (row stride ldc) = act(bias + A·B), overwriting C: bias[biasOff, biasOff + N) is added to every row (no
     * bias: null), and act is max(·, 0) when {@code relu}, else the identity. Each element has the bits of filling C
     * with the bias (or zeros), {@link #gemm} and then a ReLU pass; on the panel path the sum is formed in a small
     * block and written once, so C is neither filled nor read, and with two threads the ReLU runs on both.
     */
    public static void gemmInto(int M, int N, int K, float[] A, int aOff, int sam, int sak, float[] B, int bOff,
                                int ldb, float[] bias, int biasOff, boolean relu, float[] C, int cOff, int ldc) {
        if (K <= SHALLOW_DEPTH && N >= L) {
            shallow(M, N, K, A, aOff, sam, sak, B, bOff, ldb, false, bias, biasOff, relu, C, cOff, ldc);
            return;
        }
        if (usesPanels(M) && !singleColumn(N, sam, sak, ldc)) {
            if (Parallel.worthSplitting(M, N, K)) {
                SPLIT.get().run(M, N, K, A, aOff, sam, sak, B, bOff, ldb, true, bias, biasOff, relu, C, cOff, ldc);
            } else {
                intoRows(0, M, N, K, A, aOff, sam, sak, B, bOff, ldb, bias, biasOff, relu, C, cOff, ldc);
            }
            return;
        }
        for (int r = 0; r < M; r++) {
            int c = cOff + r * ldc;
            if (bias == null) java.util.Arrays.fill(C, c, c + N, 0f);
            else System.arraycopy(bias, biasOff, C, c, N);
        }
        gemm(M, N, K, A, aOff, sam, sak, B, bOff, ldb, C, cOff, ldc);
        if (relu) {
            for (int r = 0; r < M; r++) Elementwise.relu(C, C, cOff + r * ldc, cOff + r * ldc + N);
        }
    }

    /**
     * The deepest product {@link #gemm} and {@link #gemmInto} compute straight from registers ({@link #shallow}): a
     * first layer over a few inputs (Pendulum's 3 or 4), an output layer's dX. Through the panel path such a product took
     * about 31 µs at 256 × 256 × 4, as long as one with K = 32, because zeroing and storing each 6-row block cost more
     * than its four multiply-adds.
     */
    static final int SHALLOW_DEPTH = 8;

    /**
     * A product with K ≤ {@link #SHALLOW_DEPTH}: four column vectors of one row at a time, each a fused multiply-add
     * chain over k from zero, then written once: for {@link #gemmInto} bias + sum (zero + sum without a bias) through
     * the ReLU, the bits of the fill, {@link #gemm} and ReLU pass that define it; with {@code accumulate}, C + sum, the
     * bits of {@link #gemm}'s kernels.
     */
    private static void shallow(int M, int N, int K, float[] A, int aOff, int sam, int sak, float[] B, int bOff,
                                int ldb, boolean accumulate, float[] bias, int biasOff, boolean relu, float[] C,
                                int cOff, int ldc) {
        // the epilogue is written out at each site: a method taking the sums as vectors, if not inlined, boxes them
        FloatVector zero = FloatVector.zero(S);
        float floor = relu ? 0f : Float.NEGATIVE_INFINITY;
        for (int m = 0; m < M; m++) {
            int a = aOff + m * sam, c = cOff + m * ldc, n = 0;
            for (; n + 4 * L <= N; n += 4 * L) {
                FloatVector s0 = zero, s1 = zero, s2 = zero, s3 = zero;
                for (int k = 0, ia = a, bb = bOff + n; k < K; k++, ia += sak, bb += ldb) {
                    FloatVector x = FloatVector.broadcast(S, A[ia]);
                    s0 = FloatVector.fromArray(S, B, bb).fma(x, s0);
                    s1 = FloatVector.fromArray(S, B, bb + L).fma(x, s1);
                    s2 = FloatVector.fromArray(S, B, bb + 2 * L).fma(x, s2);
                    s3 = FloatVector.fromArray(S, B, bb + 3 * L).fma(x, s3);
                }
                FloatVector b0 = zero, b1 = zero, b2 = zero, b3 = zero;
                if (accumulate) {
                    b0 = FloatVector.fromArray(S, C, c + n);
                    b1 = FloatVector.fromArray(S, C, c + n + L);
                    b2 = FloatVector.fromArray(S, C, c + n + 2 * L);
                    b3 = FloatVector.fromArray(S, C, c + n + 3 * L);
                } else if (bias != null) {
                    int o = biasOff + n;
                    b0 = FloatVector.fromArray(S, bias, o);
                    b1 = FloatVector.fromArray(S, bias, o + L);
                    b2 = FloatVector.fromArray(S, bias, o + 2 * L);
                    b3 = FloatVector.fromArray(S, bias, o + 3 * L);
                }
                b0.add(s0).max(floor).intoArray(C, c + n);
                b1.add(s1).max(floor).intoArray(C, c + n + L);
                b2.add(s2).max(floor).intoArray(C, c + n + 2 * L);
                b3.add(s3).max(floor).intoArray(C, c + n + 3 * L);
            }
            for (; n < N; n += L) {
                VectorMask<Float> mask = TAIL_MASKS[Math.min(L, N - n)];
                FloatVector sum = zero;
                for (int k = 0, ia = a, bb = bOff + n; k < K; k++, ia += sak, bb += ldb) {
                    sum = FloatVector.fromArray(S, B, bb, mask).fma(FloatVector.broadcast(S, A[ia]), sum);
                }
                FloatVector b = accumulate ? FloatVector.fromArray(S, C, c + n, mask)
                        : bias == null ? zero : FloatVector.fromArray(S, bias, biasOff + n, mask);
                b.add(sum).max(floor).intoArray(C, c + n, mask);
            }
        }
    }

    /** Rows [m0, m1) of {@link #gemmInto}'s panel path, through this thread's {@link PanelProduct}. */
    private static void intoRows(int m0, int m1, int N, int K, float[] A, int aOff, int sam, int sak, float[] B,
                                 int bOff, int ldb, float[] bias, int biasOff, boolean relu, float[] C, int cOff,
                                 int ldc) {
        PanelProduct product = PANEL_PRODUCT.get().prepare(m0, m1, N, K, A, aOff, sam, sak, B, bOff, ldb, C, cOff, ldc);
        run(product.into(bias, biasOff, relu));
    }

    /** One calling thread's reusable halves of a split product: capturing lambdas would allocate per product. */
    private static final ThreadLocal<Split> SPLIT = ThreadLocal.withInitial(Split::new);

    /**
     * A product split into row halves ({@link Parallel#workerRows}), accumulated into C ({@link #gemm}) or written
     * over it ({@link #gemmInto}, {@code overwrite}).
     */
    private static final class Split {
        int M, N, K, aOff, sam, sak, bOff, ldb, cOff, ldc, half, biasOff;
        boolean overwrite, relu;
        float[] A, B, C, bias;
        final Runnable firstRows = () -> rows(0, half);
        final Runnable restRows = () -> rows(half, M);

        private void rows(int m0, int m1) {
            if (overwrite) intoRows(m0, m1, N, K, A, aOff, sam, sak, B, bOff, ldb, bias, biasOff, relu, C, cOff, ldc);
            else gemmRows(m0, m1, N, K, A, aOff, sam, sak, B, bOff, ldb, C, cOff, ldc);
        }

        void run(int M, int N, int K, float[] A, int aOff, int sam, int sak, float[] B, int bOff, int ldb,
                 boolean overwrite, float[] bias, int biasOff, boolean relu, float[] C, int cOff, int ldc) {
            this.M = M; this.N = N; this.K = K;
            this.A = A; this.aOff = aOff; this.sam = sam; this.sak = sak;
            this.B = B; this.bOff = bOff; this.ldb = ldb;
            this.overwrite = overwrite; this.bias = bias; this.biasOff = biasOff; this.relu = relu;
            this.C = C; this.cOff = cOff; this.ldc = ldc;
            half = Parallel.workerRows(M);
            try {
                Parallel.run(firstRows, restRows);
            } finally {
                this.A = this.B = this.C = this.bias = null;   // do not keep a finished product's arrays alive
            }
        }
    }

    /** Rows [m0, m1) of the product. */
    static void gemmRows(int m0, int m1, int N, int K, float[] A, int aOff, int sam, int sak,
                         float[] B, int bOff, int ldb, float[] C, int cOff, int ldc) {
        if (singleColumn(N, sam, sak, ldc)) {
            if (sak == 1) dotColumn(m0, m1, K, A, aOff, sam, B, bOff, ldb, C, cOff, ldc);
            else axpyColumn(m0, m1, K, A, aOff, sak, B, bOff, ldb, C, cOff);
            return;
        }
        int n = 0;
        if (m1 - m0 < 3) {
            // one or two rows (batch-1 acting): 8 vectors per pass over k, eight chains to hide the multiply-add latency
            // (a 1 × 256 × 256 product 4.7 → 3.7 µs on AVX-512 against four), reading 8L contiguous floats of a B row
            for (; n + 8 * L <= N; n += 8 * L) {
                for (int m = m0; m < m1; m++) kernel1x8(m, n, K, A, aOff, sam, sak, B, bOff, ldb, C, cOff, ldc);
            }
        }
        if (usesPanels(m1 - m0)) {
            panels(m0, m1, N, K, A, aOff, sam, sak, B, bOff, ldb, C, cOff, ldc);
            return;
        } else if (WIDE_REGISTER_FILE) {
            for (; n + 4 * L <= N; n += 4 * L) {
                int m = m0;
                for (; m + 4 <= m1; m += 4) kernel4x4(m, n, K, A, aOff, sam, sak, B, bOff, ldb, C, cOff, ldc);
                for (; m < m1; m++) kernel1x4(m, n, K, A, aOff, sak, sam, B, bOff, ldb, C, cOff, ldc);
            }
        } else {
            for (; n + 2 * L <= N; n += 2 * L) {
                int m = m0;
                for (; m + 3 <= m1; m += 3) kernel3x2(m, n, K, A, aOff, sam, sak, B, bOff, ldb, C, cOff, ldc);
                for (; m < m1; m++) kernel1x2(m, n, K, A, aOff, sam, sak, B, bOff, ldb, C, cOff, ldc);
            }
        }
        maskedColumns(m0, m1, n, N, K, A, aOff, sam, sak, B, bOff, ldb, C, cOff, ldc);
    }

    /** Rows [m0, m1), columns [n0, N) one vector at a time, the last one masked. */
    private static void maskedColumns(int m0, int m1, int n0, int N, int K, float[] A, int aOff, int sam, int sak,
                                      float[] B, int bOff, int ldb, float[] C, int cOff, int ldc) {
        for (int n = n0; n < N; n += L) {
            VectorMask<Float> mask = TAIL_MASKS[Math.min(L, N - n)];
            int m = m0;
            for (; m + 4 <= m1; m += 4) kernel4x1(m, n, K, A, aOff, sam, sak, B, bOff, ldb, C, cOff, ldc, mask);
            for (; m < m1; m++) kernel1x1(m, n, K, A, aOff, sam, sak, B, bOff, ldb, C, cOff, ldc, mask);
        }
    }

    private static void kernel4x4(int m, int n, int K, float[] A, int aOff, int sam, int sak,
                                  float[] B, int bOff, int ldb, float[] C, int cOff, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        int ia = aOff + m * sam;
        int bb = bOff + n;
        for (int k = 0; k < K; k++, ia += sak, bb += ldb) {
            FloatVector b0 = FloatVector.fromArray(S, B, bb);
            FloatVector b1 = FloatVector.fromArray(S, B, bb + L);
            FloatVector b2 = FloatVector.fromArray(S, B, bb + 2 * L);
            FloatVector b3 = FloatVector.fromArray(S, B, bb + 3 * L);
            FloatVector x = FloatVector.broadcast(S, A[ia]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); c02 = b2.fma(x, c02); c03 = b3.fma(x, c03);
            x = FloatVector.broadcast(S, A[ia + sam]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); c12 = b2.fma(x, c12); c13 = b3.fma(x, c13);
            x = FloatVector.broadcast(S, A[ia + 2 * sam]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); c22 = b2.fma(x, c22); c23 = b3.fma(x, c23);
            x = FloatVector.broadcast(S, A[ia + 3 * sam]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); c32 = b2.fma(x, c32); c33 = b3.fma(x, c33);
        }
        int c = cOff + m * ldc + n;
        FloatVector.fromArray(S, C, c).add(c00).intoArray(C, c);
        FloatVector.fromArray(S, C, c + L).add(c01).intoArray(C, c + L);
        FloatVector.fromArray(S, C, c + 2 * L).add(c02).intoArray(C, c + 2 * L);
        FloatVector.fromArray(S, C, c + 3 * L).add(c03).intoArray(C, c + 3 * L);
        c += ldc;
        FloatVector.fromArray(S, C, c).add(c10).intoArray(C, c);
        FloatVector.fromArray(S, C, c + L).add(c11).intoArray(C, c + L);
        FloatVector.fromArray(S, C, c + 2 * L).add(c12).intoArray(C, c + 2 * L);
        FloatVector.fromArray(S, C, c + 3 * L).add(c13).intoArray(C, c + 3 * L);
        c += ldc;
        FloatVector.fromArray(S, C, c).add(c20).intoArray(C, c);
        FloatVector.fromArray(S, C, c + L).add(c21).intoArray(C, c + L);
        FloatVector.fromArray(S, C, c + 2 * L).add(c22).intoArray(C, c + 2 * L);
        FloatVector.fromArray(S, C, c + 3 * L).add(c23).intoArray(C, c + 3 * L);
        c += ldc;
        FloatVector.fromArray(S, C, c).add(c30).intoArray(C, c);
        FloatVector.fromArray(S, C, c + L).add(c31).intoArray(C, c + L);
        FloatVector.fromArray(S, C, c + 2 * L).add(c32).intoArray(C, c + 2 * L);
        FloatVector.fromArray(S, C, c + 3 * L).add(c33).intoArray(C, c + 3 * L);
    }

    private static void kernel1x4(int m, int n, int K, float[] A, int aOff, int sak, int sam,
                                  float[] B, int bOff, int ldb, float[] C, int cOff, int ldc) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
        int ia = aOff + m * sam;
        int bb = bOff + n;
        for (int k = 0; k < K; k++, ia += sak, bb += ldb) {
            FloatVector x = FloatVector.broadcast(S, A[ia]);
            c0 = FloatVector.fromArray(S, B, bb).fma(x, c0);
            c1 = FloatVector.fromArray(S, B, bb + L).fma(x, c1);
            c2 = FloatVector.fromArray(S, B, bb + 2 * L).fma(x, c2);
            c3 = FloatVector.fromArray(S, B, bb + 3 * L).fma(x, c3);
        }
        int c = cOff + m * ldc + n;
        FloatVector.fromArray(S, C, c).add(c0).intoArray(C, c);
        FloatVector.fromArray(S, C, c + L).add(c1).intoArray(C, c + L);
        FloatVector.fromArray(S, C, c + 2 * L).add(c2).intoArray(C, c + 2 * L);
        FloatVector.fromArray(S, C, c + 3 * L).add(c3).intoArray(C, c + 3 * L);
    }

    /**
     * Below this many rows a product keeps reading B in place: copying a panel costs K·WIDTH moves, repaid over the
     * rows' 6-row slivers.
     */
    static final int PANEL_MIN_ROWS = 12;

    /** A one-column product that {@link #dotColumn} or {@link #axpyColumn} computes (in their own summation order). */
    private static boolean singleColumn(int N, int sam, int sak, int ldc) {
        return N == 1 && (sak == 1 || (sam == 1 && ldc == 1));
    }

    /** Whether rows [m0, m0 + rows) of a product that is not {@link #singleColumn} go through {@link PanelProduct}. */
    private static boolean usesPanels(int rows) {
        return rows >= PANEL_MIN_ROWS;
    }

    /**
     * The panel kernel's block: ROWS rows × WIDTH columns (VECTORS vectors). AVX-512's 32 registers hold 6 × 4 (24
     * accumulators, 4 panel vectors, a broadcast): 6 broadcasts per 24 multiply-adds instead of 6 per 12, and the
     * broadcasts bounded the 6 × 2 kernel (standalone 158 GFLOP/s, 204 without them). Over aligned panels: `bin/ab-bench`
     * GEMM 256³ 0.942 and trained Pendulum update 0.948 against 6 × 2 (docs/results.md, "Twelfth session"). AVX2's 16
     * registers hold 6 × 2.
     */
    static final int ROWS = 6, VECTORS = WIDE_REGISTER_FILE ? 4 : 2, WIDTH = VECTORS * L;

    /** One thread's copy of B's column panel and the block for partial row groups and columns. */
    private static final class Scratch {
        float[] panel = new float[0];
        final float[] block = new float[LINE_SKEW + ROWS * WIDTH];
        /** Each 6-row block's sums between depth blocks ({@link PanelProduct#acceptInDepthBlocks}). */
        float[] carried = new float[0];
    }

    /** ROWS × WIDTH zeros from {@link #LINE_SKEW}: where the kernels' chains start when they start from zero. */
    private static final float[] ZEROS = new float[LINE_SKEW + ROWS * WIDTH];

    /**
     * The deepest panel a full-width task copies at once: 32 KB, which leaves room in a 48 KB L1 for the rows of A. A
     * 256-deep AVX-512 panel (64 KB) was read from L2 by every 6-row block.
     */
    static final int PANEL_DEPTH = 32 * 1024 / (WIDTH * Float.BYTES);

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** Rows [m0, m1) through this thread's {@link PanelProduct}. */
    private static void panels(int m0, int m1, int N, int K, float[] A, int aOff, int sam, int sak, float[] B, int bOff,
                               int ldb, float[] C, int cOff, int ldc) {
        run(PANEL_PRODUCT.get().prepare(m0, m1, N, K, A, aOff, sam, sak, B, bOff, ldb, C, cOff, ldc));
    }

    /** Runs a prepared product's panels on this thread and releases it. */
    private static void run(PanelProduct product) {
        try {
            product.pack();
            for (int task = 0; task < product.tasks; task++) product.accept(task);
        } finally {
            product.release();
        }
    }

    /** One calling thread's reusable {@link PanelProduct}: a new one per product would allocate. */
    private static final ThreadLocal<PanelProduct> PANEL_PRODUCT = ThreadLocal.withInitial(PanelProduct::new);

    /**
     * The path for rows [m0, m1) of larger products, as tasks of one WIDTH-column panel each ({@link #accept}), the
     * last task taking the remaining t < WIDTH columns. A task copies its panel of B to a contiguous K×WIDTH block, so
     * that with every index a constant multiple of k C2 drops the bounds checks from the inner loop and keeps all the
     * accumulators in registers; reading B in place with a variable row stride left a check per load and spilled loop
     * variables (measured 60–66 vs 83–88 GFLOP/s on a 256³ product). Rows of A with unit stride in k are read in place,
     * six at a time. Strided A (Xᵀ·dY) and the last fewer-than-six rows are copied once, in {@link #pack}, to
     * unit-stride rows ({@link #packRows}) that every task reads, the last group zero-padded to six rows with its
     * product going through the block, so every row and column runs the same kernel. (A kernel reading A packed as
     * [k][6] slivers was 1.7× slower: C2 hoisted four broadcasts ahead of the B loads and spilled two accumulators.)
     * Every element is the same fused multiply-add chain whichever task or thread computes it.
     */
    private static final class PanelProduct {
        int m0, m1, N, K, aOff, sam, sak, bOff, ldb, cOff, ldc, inPlaceEnd, copied, tasks;
        float[] A, B, C;
        float[] rows = new float[0];
        /** Whether C is overwritten ({@link #gemmInto}) rather than accumulated into, and with what. */
        boolean overwrite, relu;
        float[] bias;
        int biasOff;

        PanelProduct prepare(int m0, int m1, int N, int K, float[] A, int aOff, int sam, int sak,
                             float[] B, int bOff, int ldb, float[] C, int cOff, int ldc) {
            this.m0 = m0; this.m1 = m1; this.N = N; this.K = K;
            this.A = A; this.aOff = aOff; this.sam = sam; this.sak = sak;
            this.B = B; this.bOff = bOff; this.ldb = ldb;
            this.C = C; this.cOff = cOff; this.ldc = ldc;
            int mFull = m0 + (m1 - m0) / ROWS * ROWS;
            inPlaceEnd = sak == 1 ? mFull : m0;   // rows [m0, inPlaceEnd) are read in place, the rest from copies
            copied = (m1 - inPlaceEnd + ROWS - 1) / ROWS * ROWS;
            if (rows.length < copied * K) rows = new float[copied * K];
            tasks = (N + WIDTH - 1) / WIDTH;
            overwrite = relu = false;
            return this;
        }

        /** Copies the rows that are not read in place ({@link #packRows}) and zero-pads the last group to six rows. */
        void pack() {
            int toCopy = m1 - inPlaceEnd;
            packRows(inPlaceEnd, m1, K, A, aOff, sam, sak, rows, 0);
            java.util.Arrays.fill(rows, toCopy * K, copied * K, 0f);
        }

        /** Makes the prepared product overwrite C with act(bias + A·B) ({@link #gemmInto}). */
        PanelProduct into(float[] bias, int biasOff, boolean relu) {
            this.overwrite = true;
            this.bias = bias;
            this.biasOff = biasOff;
            this.relu = relu;
            return this;
        }

        /** Drops the product's arrays, so that a finished product's data is not kept alive. */
        void release() {
            A = B = C = bias = null;
        }

        /** Zeroes the block with vector stores, which the kernel's vector loads of it are forwarded from. */
        private static void zero(float[] block) {
            for (int i = 0; i < ROWS * VECTORS; i++) FloatVector.zero(S).intoArray(block, LINE_SKEW + i * L);
        }

        /**
         * Rows [m, m + count) of C's columns [n, n + t) from the block (the bare sums): added to C, or written over it as
         * bias + sum, through the ReLU if asked.
         */
        private void storeBlock(float[] block, int m, int count, int n, int t) {
            if (t == WIDTH) {
                for (int r = 0; r < count; r++) {
                    int c = cOff + (m + r) * ldc + n;
                    for (int j = 0; j < VECTORS; j++) {
                        FloatVector v = FloatVector.fromArray(S, block, LINE_SKEW + WIDTH * r + j * L);
                        if (overwrite) {
                            v = (bias != null ? FloatVector.fromArray(S, bias, biasOff + n + j * L) : FloatVector.zero(S)).add(v);
                            if (relu) v = v.max(0f);
                        } else {
                            v = FloatVector.fromArray(S, C, c + j * L).add(v);
                        }
                        v.intoArray(C, c + j * L);
                    }
                }
                return;
            }
            for (int r = 0; r < count; r++) {
                int c = cOff + (m + r) * ldc + n;
                for (int col = 0; col < t; col++) {
                    float sum = block[LINE_SKEW + r * WIDTH + col];
                    if (!overwrite) {
                        C[c + col] += sum;
                        continue;
                    }
                    float v = bias == null ? 0f + sum : bias[biasOff + n + col] + sum;
                    C[c + col] = relu ? Math.max(v, 0f) : v;
                }
            }
        }

        /**
         * Columns [n, n + WIDTH) of every row, the depth in {@code blocks} nearly equal parts, each copied to the panel
         * in turn and run over every 6-row block. Between parts the blocks' sums wait in {@code carried}, and the next
         * part's chains start from them, so each element is still one chain over k from zero.
         */
        private void acceptInDepthBlocks(Scratch scratch, int n, int blocks) {
            int depth = (K + blocks - 1) / blocks, padded = (m1 - m0 + ROWS - 1) / ROWS * ROWS;
            if (blocks > 1 && scratch.carried.length < LINE_SKEW + padded * WIDTH) {
                scratch.carried = new float[LINE_SKEW + padded * WIDTH];
            }
            float[] panel = scratch.panel, block = scratch.block, carried = scratch.carried;
            for (int k0 = 0; k0 < K; k0 += depth) {
                int kc = Math.min(depth, K - k0);
                boolean last = k0 + kc == K;
                float[] start = k0 == 0 ? ZEROS : carried;
                // vector moves per row: System.arraycopy's stub call cost more than the copy (7% of a SAC update)
                for (int k = 0, src = bOff + k0 * ldb + n; k < kc; k++, src += ldb) {
                    for (int j = 0; j < VECTORS; j++) {
                        FloatVector.fromArray(S, B, src + j * L).intoArray(panel, LINE_SKEW + WIDTH * k + j * L);
                    }
                }
                for (int m = m0; m < m1; m += ROWS) {
                    boolean inPlace = m < inPlaceEnd;
                    float[] from = inPlace ? A : rows;
                    int a = (inPlace ? aOff + m * sam : (m - inPlaceEnd) * K) + k0, lda = inPlace ? sam : K;
                    int s = start == ZEROS ? LINE_SKEW : LINE_SKEW + (m - m0) * WIDTH, count = Math.min(ROWS, m1 - m);
                    if (!last) {
                        kernel(kc, from, a, lda, panel, start, s, carried, LINE_SKEW + (m - m0) * WIDTH, WIDTH, false);
                    } else if (count == ROWS && !overwrite) {
                        kernel(kc, from, a, lda, panel, start, s, C, cOff + m * ldc + n, ldc, true);
                    } else {
                        zero(block);
                        kernel(kc, from, a, lda, panel, start, s, block, LINE_SKEW, WIDTH, true);
                        storeBlock(block, m, count, n, WIDTH);
                    }
                }
            }
        }

        /** Columns [WIDTH·task, WIDTH·task + WIDTH) of every row, or for the last task the columns left over. */
        void accept(int task) {
            Scratch scratch = SCRATCH.get();
            if (scratch.panel.length < LINE_SKEW + WIDTH * K) scratch.panel = new float[LINE_SKEW + WIDTH * K];
            float[] panel = scratch.panel, block = scratch.block;
            int n = WIDTH * task, t = Math.min(WIDTH, N - n);
            if (t == WIDTH) {
                acceptInDepthBlocks(scratch, n, (K + PANEL_DEPTH - 1) / PANEL_DEPTH);
                return;
            }
            // The last t < WIDTH columns: at most one vector wide (an output layer's 1, 2 or 4 columns), a one-vector
            // panel and kernel; at most two vectors, the 6×2 kernel; wider, a zero-padded panel through the full kernel.
            // The block takes the sums, of which the first t columns are stored.
            if (t <= L) {
                for (int k = 0, src = bOff + n; k < K; k++, src += ldb) {
                    FloatVector.fromArray(S, B, src, TAIL_MASKS[t]).intoArray(panel, LINE_SKEW + L * k);
                }
                for (int m = m0; m < m1; m += ROWS) {
                    if (m < inPlaceEnd) kernel6x1(K, A, aOff + m * sam, sam, panel, block);
                    else kernel6x1(K, rows, (m - inPlaceEnd) * K, K, panel, block);
                    storeBlock(block, m, Math.min(ROWS, m1 - m), n, t);
                }
                return;
            }
            int vectors = t <= 2 * L ? 2 : VECTORS, width = vectors * L;
            for (int k = 0, src = bOff + n; k < K; k++, src += ldb) {
                for (int j = 0; j < vectors; j++) {
                    int left = t - j * L;
                    FloatVector v = left >= L ? FloatVector.fromArray(S, B, src + j * L)
                            : left > 0 ? FloatVector.fromArray(S, B, src + j * L, TAIL_MASKS[left]) : FloatVector.zero(S);
                    v.intoArray(panel, LINE_SKEW + width * k + j * L);
                }
            }
            for (int m = m0; m < m1; m += ROWS) {
                zero(block);
                int a0 = m < inPlaceEnd ? aOff + m * sam : (m - inPlaceEnd) * K, lda = m < inPlaceEnd ? sam : K;
                float[] from = m < inPlaceEnd ? A : rows;
                if (vectors == 2) kernel6x2(K, from, a0, lda, panel, ZEROS, LINE_SKEW, block, LINE_SKEW, WIDTH, true);
                else kernel(K, from, a0, lda, panel, ZEROS, LINE_SKEW, block, LINE_SKEW, WIDTH, true);
                storeBlock(block, m, Math.min(ROWS, m1 - m), n, t);
            }
        }
    }

    /**
     * The panel kernel of this CPU over C's 6 rows × WIDTH columns from c: each chain starts from the sum in {@code
     * start} (rows WIDTH apart from s; {@link #ZEROS} for a chain's first part), runs over A rows a0, a0 + lda, …
     * (unit stride in k) · panel (K × WIDTH from {@link #LINE_SKEW}), and is added to C ({@code add}) or written over it.
     */
    private static void kernel(int K, float[] A, int a0, int lda, float[] panel, float[] start, int s, float[] C, int c,
                               int ldc, boolean add) {
        if (VECTORS == 4) kernel6x4(K, A, a0, lda, panel, start, s, C, c, ldc, add);
        else kernel6x2(K, A, a0, lda, panel, start, s, C, c, ldc, add);
    }

    /** rows[dst0 + (m − m0)·K + k] = A[aOff + m·sam + k·sak] for rows [m0, m1): a row copy, or {@link #gatherRuns}. */
    private static void packRows(int m0, int m1, int K, float[] A, int aOff, int sam, int sak, float[] rows, int dst0) {
        if (sak == 1) {
            for (int m = m0; m < m1; m++) System.arraycopy(A, aOff + m * sam, rows, dst0 + (m - m0) * K, K);
        } else {
            gatherRuns(A, aOff, sak, null, sam, m0, m1, 0, K, rows, dst0 - m0 * K, K);
        }
    }

    /**
     * Strided runs copied to contiguous rows: dst[dstBase + r·dstStride + k] = src[base + at(r) + k·stride] for r in
     * [r0, r1) and k in [k0, k1), where at(r) = cols[r], or r·rowStride without cols. With a stride of a source row's
     * length this is a transpose (of the columns listed). L values of k are read by one gather, and every r is taken
     * for one band of L source rows before the next, so that the band stays in L1. A scalar tile of eight source rows
     * took 12 µs for the 146 live columns of a 256 × 256 matrix; gathers take 7.5 (docs/results.md, "Thirteenth
     * session").
     */
    static void gatherRuns(float[] src, int base, int stride, int[] cols, int rowStride, int r0, int r1, int k0, int k1,
                           float[] dst, int dstBase, int dstStride) {
        int[] map = STRIDE_MAP.get();
        for (int l = 0; l < L; l++) map[l] = l * stride;
        int k = k0;
        for (; k + L <= k1; k += L) {
            for (int r = r0; r < r1; r++) {
                int at = cols == null ? r * rowStride : cols[r];
                FloatVector.fromArray(S, src, base + at + k * stride, map, 0).intoArray(dst, dstBase + r * dstStride + k);
            }
        }
        for (; k < k1; k++) {
            for (int r = r0; r < r1; r++) {
                dst[dstBase + r * dstStride + k] = src[base + (cols == null ? r * rowStride : cols[r]) + k * stride];
            }
        }
    }

    /**
     * The reverse of a {@link #gatherRuns} transpose, added: dst[k·stride + cols[r]] += src[r·count + k] for r in [0,
     * rows) and k in [0, count), L values of k by one gather, add and scatter.
     */
    static void scatterAddRuns(float[] src, int rows, int count, int[] cols, float[] dst, int stride) {
        int[] map = STRIDE_MAP.get();
        for (int l = 0; l < L; l++) map[l] = l * stride;
        int k = 0;
        for (; k + L <= count; k += L) {
            for (int r = 0; r < rows; r++) {
                int at = k * stride + cols[r];
                FloatVector.fromArray(S, dst, at, map, 0).add(FloatVector.fromArray(S, src, r * count + k))
                        .intoArray(dst, at, map, 0);
            }
        }
        for (; k < count; k++) {
            for (int r = 0; r < rows; r++) dst[k * stride + cols[r]] += src[r * count + k];
        }
    }

    /** Each thread's gather offsets for {@link #gatherRuns} and {@link #scatterAddRuns}: 0, stride, 2·stride, … */
    private static final ThreadLocal<int[]> STRIDE_MAP = ThreadLocal.withInitial(() -> new int[L]);

    /** {@link #kernel} for 2L columns: the panel is K × 2L from {@link #LINE_SKEW}. */
    private static void kernel6x2(int K, float[] A, int a0, int lda, float[] panel, float[] start, int s, float[] C,
                                  int c, int ldc, boolean add) {
        FloatVector c00 = FloatVector.fromArray(S, start, s), c01 = FloatVector.fromArray(S, start, s + L);
        FloatVector c10 = FloatVector.fromArray(S, start, s + WIDTH), c11 = FloatVector.fromArray(S, start, s + WIDTH + L);
        FloatVector c20 = FloatVector.fromArray(S, start, s + 2 * WIDTH);
        FloatVector c21 = FloatVector.fromArray(S, start, s + 2 * WIDTH + L);
        FloatVector c30 = FloatVector.fromArray(S, start, s + 3 * WIDTH);
        FloatVector c31 = FloatVector.fromArray(S, start, s + 3 * WIDTH + L);
        FloatVector c40 = FloatVector.fromArray(S, start, s + 4 * WIDTH);
        FloatVector c41 = FloatVector.fromArray(S, start, s + 4 * WIDTH + L);
        FloatVector c50 = FloatVector.fromArray(S, start, s + 5 * WIDTH);
        FloatVector c51 = FloatVector.fromArray(S, start, s + 5 * WIDTH + L);
        int a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        for (int k = 0; k < K; k++) {
            FloatVector b0 = FloatVector.fromArray(S, panel, LINE_SKEW + 2 * L * k);
            FloatVector b1 = FloatVector.fromArray(S, panel, LINE_SKEW + 2 * L * k + L);
            FloatVector x = FloatVector.broadcast(S, A[a0 + k]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(S, A[a1 + k]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(S, A[a2 + k]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(S, A[a3 + k]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(S, A[a4 + k]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(S, A[a5 + k]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51);
        }
        // written out, as in kernel6x4: a helper taking the accumulators, once not inlined, boxed them
        (add ? FloatVector.fromArray(S, C, c).add(c00) : c00).intoArray(C, c);
        (add ? FloatVector.fromArray(S, C, c + L).add(c01) : c01).intoArray(C, c + L);
        c += ldc;
        (add ? FloatVector.fromArray(S, C, c).add(c10) : c10).intoArray(C, c);
        (add ? FloatVector.fromArray(S, C, c + L).add(c11) : c11).intoArray(C, c + L);
        c += ldc;
        (add ? FloatVector.fromArray(S, C, c).add(c20) : c20).intoArray(C, c);
        (add ? FloatVector.fromArray(S, C, c + L).add(c21) : c21).intoArray(C, c + L);
        c += ldc;
        (add ? FloatVector.fromArray(S, C, c).add(c30) : c30).intoArray(C, c);
        (add ? FloatVector.fromArray(S, C, c + L).add(c31) : c31).intoArray(C, c + L);
        c += ldc;
        (add ? FloatVector.fromArray(S, C, c).add(c40) : c40).intoArray(C, c);
        (add ? FloatVector.fromArray(S, C, c + L).add(c41) : c41).intoArray(C, c + L);
        c += ldc;
        (add ? FloatVector.fromArray(S, C, c).add(c50) : c50).intoArray(C, c);
        (add ? FloatVector.fromArray(S, C, c + L).add(c51) : c51).intoArray(C, c + L);
    }

    /**
     * The first vector of each of the 6 × 2L block's rows = A rows a0, a0 + lda, … · panel (K × L, contiguous from
     * {@link #LINE_SKEW}): {@link #kernel6x2}'s chains for one vector of columns, written over the block.
     */
    private static void kernel6x1(int K, float[] A, int a0, int lda, float[] panel, float[] block) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        int a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        for (int k = 0; k < K; k++) {
            FloatVector b = FloatVector.fromArray(S, panel, LINE_SKEW + L * k);
            c0 = b.fma(FloatVector.broadcast(S, A[a0 + k]), c0);
            c1 = b.fma(FloatVector.broadcast(S, A[a1 + k]), c1);
            c2 = b.fma(FloatVector.broadcast(S, A[a2 + k]), c2);
            c3 = b.fma(FloatVector.broadcast(S, A[a3 + k]), c3);
            c4 = b.fma(FloatVector.broadcast(S, A[a4 + k]), c4);
            c5 = b.fma(FloatVector.broadcast(S, A[a5 + k]), c5);
        }
        c0.intoArray(block, LINE_SKEW);
        c1.intoArray(block, LINE_SKEW + WIDTH);
        c2.intoArray(block, LINE_SKEW + 2 * WIDTH);
        c3.intoArray(block, LINE_SKEW + 3 * WIDTH);
        c4.intoArray(block, LINE_SKEW + 4 * WIDTH);
        c5.intoArray(block, LINE_SKEW + 5 * WIDTH);
    }

    /** {@link #kernel} for 4L columns. */
    private static void kernel6x4(int K, float[] A, int a0, int lda, float[] panel, float[] start, int s, float[] C,
                                  int c, int ldc, boolean add) {
        FloatVector c00 = FloatVector.fromArray(S, start, s), c01 = FloatVector.fromArray(S, start, s + L);
        FloatVector c02 = FloatVector.fromArray(S, start, s + 2 * L), c03 = FloatVector.fromArray(S, start, s + 3 * L);
        s += WIDTH;
        FloatVector c10 = FloatVector.fromArray(S, start, s), c11 = FloatVector.fromArray(S, start, s + L);
        FloatVector c12 = FloatVector.fromArray(S, start, s + 2 * L), c13 = FloatVector.fromArray(S, start, s + 3 * L);
        s += WIDTH;
        FloatVector c20 = FloatVector.fromArray(S, start, s), c21 = FloatVector.fromArray(S, start, s + L);
        FloatVector c22 = FloatVector.fromArray(S, start, s + 2 * L), c23 = FloatVector.fromArray(S, start, s + 3 * L);
        s += WIDTH;
        FloatVector c30 = FloatVector.fromArray(S, start, s), c31 = FloatVector.fromArray(S, start, s + L);
        FloatVector c32 = FloatVector.fromArray(S, start, s + 2 * L), c33 = FloatVector.fromArray(S, start, s + 3 * L);
        s += WIDTH;
        FloatVector c40 = FloatVector.fromArray(S, start, s), c41 = FloatVector.fromArray(S, start, s + L);
        FloatVector c42 = FloatVector.fromArray(S, start, s + 2 * L), c43 = FloatVector.fromArray(S, start, s + 3 * L);
        s += WIDTH;
        FloatVector c50 = FloatVector.fromArray(S, start, s), c51 = FloatVector.fromArray(S, start, s + L);
        FloatVector c52 = FloatVector.fromArray(S, start, s + 2 * L), c53 = FloatVector.fromArray(S, start, s + 3 * L);
        int a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        for (int k = 0; k < K; k++) {
            FloatVector b0 = FloatVector.fromArray(S, panel, LINE_SKEW + 4 * L * k);
            FloatVector b1 = FloatVector.fromArray(S, panel, LINE_SKEW + 4 * L * k + 1 * L);
            FloatVector b2 = FloatVector.fromArray(S, panel, LINE_SKEW + 4 * L * k + 2 * L);
            FloatVector b3 = FloatVector.fromArray(S, panel, LINE_SKEW + 4 * L * k + 3 * L);
            FloatVector x0 = FloatVector.broadcast(S, A[a0 + k]);
            c00 = b0.fma(x0, c00); c01 = b1.fma(x0, c01); c02 = b2.fma(x0, c02); c03 = b3.fma(x0, c03);
            FloatVector x1 = FloatVector.broadcast(S, A[a1 + k]);
            c10 = b0.fma(x1, c10); c11 = b1.fma(x1, c11); c12 = b2.fma(x1, c12); c13 = b3.fma(x1, c13);
            FloatVector x2 = FloatVector.broadcast(S, A[a2 + k]);
            c20 = b0.fma(x2, c20); c21 = b1.fma(x2, c21); c22 = b2.fma(x2, c22); c23 = b3.fma(x2, c23);
            FloatVector x3 = FloatVector.broadcast(S, A[a3 + k]);
            c30 = b0.fma(x3, c30); c31 = b1.fma(x3, c31); c32 = b2.fma(x3, c32); c33 = b3.fma(x3, c33);
            FloatVector x4 = FloatVector.broadcast(S, A[a4 + k]);
            c40 = b0.fma(x4, c40); c41 = b1.fma(x4, c41); c42 = b2.fma(x4, c42); c43 = b3.fma(x4, c43);
            FloatVector x5 = FloatVector.broadcast(S, A[a5 + k]);
            c50 = b0.fma(x5, c50); c51 = b1.fma(x5, c51); c52 = b2.fma(x5, c52); c53 = b3.fma(x5, c53);
        }
        // written out row by row: a helper taking a row's four accumulators was not inlined, boxed them and made the
        // GEMM 26 times slower
        (add ? FloatVector.fromArray(S, C, c).add(c00) : c00).intoArray(C, c);
        (add ? FloatVector.fromArray(S, C, c + 1 * L).add(c01) : c01).intoArray(C, c + 1 * L);
        (add ? FloatVector.fromArray(S, C, c + 2 * L).add(c02) : c02).intoArray(C, c + 2 * L);
        (add ? FloatVector.fromArray(S, C, c + 3 * L).add(c03) : c03).intoArray(C, c + 3 * L);
        c += ldc;
        (add ? FloatVector.fromArray(S, C, c).add(c10) : c10).intoArray(C, c);
        (add ? FloatVector.fromArray(S, C, c + 1 * L).add(c11) : c11).intoArray(C, c + 1 * L);
        (add ? FloatVector.fromArray(S, C, c + 2 * L).add(c12) : c12).intoArray(C, c + 2 * L);
        (add ? FloatVector.fromArray(S, C, c + 3 * L).add(c13) : c13).intoArray(C, c + 3 * L);
        c += ldc;
        (add ? FloatVector.fromArray(S, C, c).add(c20) : c20).intoArray(C, c);
        (add ? FloatVector.fromArray(S, C, c + 1 * L).add(c21) : c21).intoArray(C, c + 1 * L);
        (add ? FloatVector.fromArray(S, C, c + 2 * L).add(c22) : c22).intoArray(C, c + 2 * L);
        (add ? FloatVector.fromArray(S, C, c + 3 * L).add(c23) : c23).intoArray(C, c + 3 * L);
        c += ldc;
        (add ? FloatVector.fromArray(S, C, c).add(c30) : c30).intoArray(C, c);
        (add ? FloatVector.fromArray(S, C, c + 1 * L).add(c31) : c31).intoArray(C, c + 1 * L);
        (add ? FloatVector.fromArray(S, C, c + 2 * L).add(c32) : c32).intoArray(C, c + 2 * L);
        (add ? FloatVector.fromArray(S, C, c + 3 * L).add(c33) : c33).intoArray(C, c + 3 * L);
        c += ldc;
        (add ? FloatVector.fromArray(S, C, c).add(c40) : c40).intoArray(C, c);
        (add ? FloatVector.fromArray(S, C, c + 1 * L).add(c41) : c41).intoArray(C, c + 1 * L);
        (add ? FloatVector.fromArray(S, C, c + 2 * L).add(c42) : c42).intoArray(C, c + 2 * L);
        (add ? FloatVector.fromArray(S, C, c + 3 * L).add(c43) : c43).intoArray(C, c + 3 * L);
        c += ldc;
        (add ? FloatVector.fromArray(S, C, c).add(c50) : c50).intoArray(C, c);
        (add ? FloatVector.fromArray(S, C, c + 1 * L).add(c51) : c51).intoArray(C, c + 1 * L);
        (add ? FloatVector.fromArray(S, C, c + 2 * L).add(c52) : c52).intoArray(C, c + 2 * L);
        (add ? FloatVector.fromArray(S, C, c + 3 * L).add(c53) : c53).intoArray(C, c + 3 * L);
    }

    private static void kernel3x2(int m, int n, int K, float[] A, int aOff, int sam, int sak,
                                  float[] B, int bOff, int ldb, float[] C, int cOff, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        int ia = aOff + m * sam;
        int bb = bOff + n;
        for (int k = 0; k < K; k++, ia += sak, bb += ldb) {
            FloatVector b0 = FloatVector.fromArray(S, B, bb);
            FloatVector b1 = FloatVector.fromArray(S, B, bb + L);
            FloatVector x = FloatVector.broadcast(S, A[ia]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(S, A[ia + sam]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(S, A[ia + 2 * sam]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21);
        }
        int c = cOff + m * ldc + n;
        FloatVector.fromArray(S, C, c).add(c00).intoArray(C, c);
        FloatVector.fromArray(S, C, c + L).add(c01).intoArray(C, c + L);
        c += ldc;
        FloatVector.fromArray(S, C, c).add(c10).intoArray(C, c);
        FloatVector.fromArray(S, C, c + L).add(c11).intoArray(C, c + L);
        c += ldc;
        FloatVector.fromArray(S, C, c).add(c20).intoArray(C, c);
        FloatVector.fromArray(S, C, c + L).add(c21).intoArray(C, c + L);
    }

    private static void kernel1x8(int m, int n, int K, float[] A, int aOff, int sam, int sak,
                                  float[] B, int bOff, int ldb, float[] C, int cOff, int ldc) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        int ia = aOff + m * sam;
        int bb = bOff + n;
        for (int k = 0; k < K; k++, ia += sak, bb += ldb) {
            FloatVector x = FloatVector.broadcast(S, A[ia]);
            c0 = FloatVector.fromArray(S, B, bb).fma(x, c0);
            c1 = FloatVector.fromArray(S, B, bb + L).fma(x, c1);
            c2 = FloatVector.fromArray(S, B, bb + 2 * L).fma(x, c2);
            c3 = FloatVector.fromArray(S, B, bb + 3 * L).fma(x, c3);
            c4 = FloatVector.fromArray(S, B, bb + 4 * L).fma(x, c4);
            c5 = FloatVector.fromArray(S, B, bb + 5 * L).fma(x, c5);
            c6 = FloatVector.fromArray(S, B, bb + 6 * L).fma(x, c6);
            c7 = FloatVector.fromArray(S, B, bb + 7 * L).fma(x, c7);
        }
        int c = cOff + m * ldc + n;
        FloatVector.fromArray(S, C, c).add(c0).intoArray(C, c);
        FloatVector.fromArray(S, C, c + L).add(c1).intoArray(C, c + L);
        FloatVector.fromArray(S, C, c + 2 * L).add(c2).intoArray(C, c + 2 * L);
        FloatVector.fromArray(S, C, c + 3 * L).add(c3).intoArray(C, c + 3 * L);
        FloatVector.fromArray(S, C, c + 4 * L).add(c4).intoArray(C, c + 4 * L);
        FloatVector.fromArray(S, C, c + 5 * L).add(c5).intoArray(C, c + 5 * L);
        FloatVector.fromArray(S, C, c + 6 * L).add(c6).intoArray(C, c + 6 * L);
        FloatVector.fromArray(S, C, c + 7 * L).add(c7).intoArray(C, c + 7 * L);
    }

    private static void kernel1x2(int m, int n, int K, float[] A, int aOff, int sam, int sak,
                                  float[] B, int bOff, int ldb, float[] C, int cOff, int ldc) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0;
        int ia = aOff + m * sam;
        int bb = bOff + n;
        for (int k = 0; k < K; k++, ia += sak, bb += ldb) {
            FloatVector x = FloatVector.broadcast(S, A[ia]);
            c0 = FloatVector.fromArray(S, B, bb).fma(x, c0);
            c1 = FloatVector.fromArray(S, B, bb + L).fma(x, c1);
        }
        int c = cOff + m * ldc + n;
        FloatVector.fromArray(S, C, c).add(c0).intoArray(C, c);
        FloatVector.fromArray(S, C, c + L).add(c1).intoArray(C, c + L);
    }

    private static void kernel4x1(int m, int n, int K, float[] A, int aOff, int sam, int sak,
                                  float[] B, int bOff, int ldb, float[] C, int cOff, int ldc, VectorMask<Float> mask) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
        int ia = aOff + m * sam;
        int bb = bOff + n;
        for (int k = 0; k < K; k++, ia += sak, bb += ldb) {
            FloatVector b0 = FloatVector.fromArray(S, B, bb, mask);
            c0 = b0.fma(FloatVector.broadcast(S, A[ia]), c0);
            c1 = b0.fma(FloatVector.broadcast(S, A[ia + sam]), c1);
            c2 = b0.fma(FloatVector.broadcast(S, A[ia + 2 * sam]), c2);
            c3 = b0.fma(FloatVector.broadcast(S, A[ia + 3 * sam]), c3);
        }
        int c = cOff + m * ldc + n;
        FloatVector.fromArray(S, C, c, mask).add(c0).intoArray(C, c, mask);
        c += ldc;
        FloatVector.fromArray(S, C, c, mask).add(c1).intoArray(C, c, mask);
        c += ldc;
        FloatVector.fromArray(S, C, c, mask).add(c2).intoArray(C, c, mask);
        c += ldc;
        FloatVector.fromArray(S, C, c, mask).add(c3).intoArray(C, c, mask);
    }

    private static void kernel1x1(int m, int n, int K, float[] A, int aOff, int sam, int sak,
                                  float[] B, int bOff, int ldb, float[] C, int cOff, int ldc, VectorMask<Float> mask) {
        FloatVector c0 = FloatVector.zero(S);
        int ia = aOff + m * sam;
        int bb = bOff + n;
        for (int k = 0; k < K; k++, ia += sak, bb += ldb) {
            c0 = FloatVector.fromArray(S, B, bb, mask).fma(FloatVector.broadcast(S, A[ia]), c0);
        }
        int c = cOff + m * ldc + n;
        FloatVector.fromArray(S, C, c, mask).add(c0).intoArray(C, c, mask);
    }

    /** The widest product {@link #narrowColumns} computes. */
    static final int NARROW_COLUMNS = 4;

    /**
     * A product of at most {@link #NARROW_COLUMNS} columns whose A has contiguous columns (sam = 1: Xᵀ·dY for the weight
     * gradient of an output layer), vectorised along m: four vectors of rows times every column per pass over k, each
     * element C + one fused multiply-add chain over k from zero, as in every other kernel. On the panel path such a
     * product ran the 6×2 kernel over a panel of 2L columns padded with zeros.
     */
    private static void narrowColumns(int M, int N, int K, float[] A, int aOff, int sak, float[] B, int bOff, int ldb,
                                      float[] C, int cOff, int ldc) {
        float[] sums = NARROW_SUMS.get();
        for (int n = 0; n < N; n++) {
            int m = 0;
            for (; m + 4 * L <= M; m += 4 * L) {
                FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
                for (int k = 0, ia = aOff + m, ib = bOff + n; k < K; k++, ia += sak, ib += ldb) {
                    FloatVector x = FloatVector.broadcast(S, B[ib]);
                    s0 = FloatVector.fromArray(S, A, ia).fma(x, s0);
                    s1 = FloatVector.fromArray(S, A, ia + L).fma(x, s1);
                    s2 = FloatVector.fromArray(S, A, ia + 2 * L).fma(x, s2);
                    s3 = FloatVector.fromArray(S, A, ia + 3 * L).fma(x, s3);
                }
                s0.intoArray(sums, 0);
                s1.intoArray(sums, L);
                s2.intoArray(sums, 2 * L);
                s3.intoArray(sums, 3 * L);
                for (int i = 0; i < 4 * L; i++) C[cOff + (m + i) * ldc + n] += sums[i];
            }
            for (; m < M; m += L) {
                VectorMask<Float> mask = TAIL_MASKS[Math.min(L, M - m)];
                FloatVector s0 = FloatVector.zero(S);
                for (int k = 0, ia = aOff + m, ib = bOff + n; k < K; k++, ia += sak, ib += ldb) {
                    s0 = FloatVector.fromArray(S, A, ia, mask).fma(FloatVector.broadcast(S, B[ib]), s0);
                }
                s0.intoArray(sums, 0);
                for (int i = 0, rows = Math.min(L, M - m); i < rows; i++) C[cOff + (m + i) * ldc + n] += sums[i];
            }
        }
    }

    private static final ThreadLocal<float[]> NARROW_SUMS = ThreadLocal.withInitial(() -> new float[4 * L]);

    /** N = 1 with rows of A contiguous: one dot product per row. */
    private static void dotColumn(int m0, int m1, int K, float[] A, int aOff, int sam,
                                  float[] B, int bOff, int ldb, float[] C, int cOff, int ldc) {
        if (ldb != 1) {
            for (int m = m0; m < m1; m++) {
                float s = 0;
                for (int k = 0; k < K; k++) s += A[aOff + m * sam + k] * B[bOff + k * ldb];
                C[cOff + m * ldc] += s;
            }
            return;
        }
        int upper = S.loopBound(K);
        float[] lanes = NARROW_SUMS.get();
        int m = m0;
        for (; m + 4 <= m1; m += 4) {
            // four rows at once, so that their lane sums (chains of dependent adds) overlap
            int ia = aOff + m * sam;
            FloatVector acc0 = FloatVector.zero(S), acc1 = acc0, acc2 = acc0, acc3 = acc0;
            int k = 0;
            for (; k < upper; k += L) {
                FloatVector b = FloatVector.fromArray(S, B, bOff + k);
                acc0 = FloatVector.fromArray(S, A, ia + k).fma(b, acc0);
                acc1 = FloatVector.fromArray(S, A, ia + sam + k).fma(b, acc1);
                acc2 = FloatVector.fromArray(S, A, ia + 2 * sam + k).fma(b, acc2);
                acc3 = FloatVector.fromArray(S, A, ia + 3 * sam + k).fma(b, acc3);
            }
            acc0.intoArray(lanes, 0);
            acc1.intoArray(lanes, L);
            acc2.intoArray(lanes, 2 * L);
            acc3.intoArray(lanes, 3 * L);
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (int l = 0; l < L; l++) {
                s0 += lanes[l];
                s1 += lanes[L + l];
                s2 += lanes[2 * L + l];
                s3 += lanes[3 * L + l];
            }
            for (int j = k; j < K; j++) {
                float b = B[bOff + j];
                s0 += A[ia + j] * b;
                s1 += A[ia + sam + j] * b;
                s2 += A[ia + 2 * sam + j] * b;
                s3 += A[ia + 3 * sam + j] * b;
            }
            C[cOff + m * ldc] += s0;
            C[cOff + (m + 1) * ldc] += s1;
            C[cOff + (m + 2) * ldc] += s2;
            C[cOff + (m + 3) * ldc] += s3;
        }
        for (; m < m1; m++) {
            int ia = aOff + m * sam;
            FloatVector acc = FloatVector.zero(S);
            int k = 0;
            for (; k < upper; k += L) {
                acc = FloatVector.fromArray(S, A, ia + k).fma(FloatVector.fromArray(S, B, bOff + k), acc);
            }
            // Lanes summed in a fixed order: reduceLanes(ADD) leaves the order unspecified, and the intrinsic and the
            // fallback differ, so results would depend on JIT state (and thus on which thread ran the row).
            acc.intoArray(lanes, 0);
            float s = 0;
            for (int l = 0; l < L; l++) s += lanes[l];
            for (; k < K; k++) s += A[ia + k] * B[bOff + k];
            C[cOff + m * ldc] += s;
        }
    }

    /** N = 1 with columns of A contiguous: C[:] += Σ_k B[k] · A[:, k]. */
    private static void axpyColumn(int m0, int m1, int K, float[] A, int aOff, int sak,
                                   float[] B, int bOff, int ldb, float[] C, int cOff) {
        int len = m1 - m0;
        int upper = S.loopBound(len);
        for (int k = 0; k < K; k++) {
            float bk = B[bOff + k * ldb];
            if (bk == 0f) continue;
            int ia = aOff + k * sak + m0;
            int c = cOff + m0;
            FloatVector x = FloatVector.broadcast(S, bk);
            int i = 0;
            for (; i < upper; i += L) {
                FloatVector.fromArray(S, A, ia + i).fma(x, FloatVector.fromArray(S, C, c + i)).intoArray(C, c + i);
            }
            // Fused like the vector lanes, so a row's result does not depend on whether it fell in the tail (which
            // changes when the rows are split over two threads).
            for (; i < len; i++) C[c + i] = Math.fma(bk, A[ia + i], C[c + i]);
        }
    }

    /** Columns per panel of the packed batch-1 layout: eight vectors, one accumulator register each. */
    public static final int PANEL = 8 * L;

    /**
     * Copies the full panels of W[K, N] (row-major) into {@code packed} for {@link #matvecPacked}: panel p holds
     * columns [p·PANEL, (p+1)·PANEL) as K contiguous rows of PANEL floats. A batch-1 product reads every weight once;
     * read in place, each k touches a new row of W 4·N bytes away, and with three 256-wide layers the weights no longer
     * fit in L2, so the strided stream runs at about 11 multiply-adds per ns here; the packed stream runs at 16–19.
     * Columns past the last full panel are not copied. The copy starts on a cache line ({@link AlignedFloats}).
     */
    public static void packPanels(float[] W, int K, int N, AlignedFloats packed) {
        int o = 0;
        for (int n = 0; n + PANEL <= N; n += PANEL) {
            for (int k = 0; k < K; k++, o += PANEL) packed.copyFrom(W, k * N + n, o, PANEL);
        }
    }

    /** Floats {@link #packPanels} writes for a [K, N] matrix. */
    public static int packedSize(int K, int N) {
        return K * (N / PANEL) * PANEL;
    }

    /**
     * y[yOff .. yOff+N) += x[xOff .. xOff+K) · W for one row x, with W's full panels read from {@code packed} and the
     * remaining columns from W itself. Every column is summed in the order {@link #gemm} sums it at one row (a fused
     * multiply-add chain over ascending k from zero, then added to y), so the result is bit-identical to
     * {@code gemm(1, N, K, x, xOff, K, 1, W, 0, N, y, yOff, N)}.
     */
    public static void matvecPacked(float[] x, int xOff, int K, int N, AlignedFloats packed, float[] W, float[] y,
                                    int yOff) {
        matvecPacked(x, xOff, K, N, packed, W, y, yOff, 0, N);
    }

    /**
     * Columns [n0, n1) of {@link #matvecPacked(float[], int, int, int, AlignedFloats, float[], float[], int)}, for splitting
     * one product over two threads: n0 must be a multiple of {@link #PANEL}, and n1 one too or N.
     */
    public static void matvecPacked(float[] x, int xOff, int K, int N, AlignedFloats packed, float[] W, float[] y,
                                    int yOff, int n0, int n1) {
        if (n0 % PANEL != 0 || n1 < n0 || n1 > N || (n1 != N && n1 % PANEL != 0)) {
            throw new IllegalArgumentException("matvecPacked: columns [" + n0 + ", " + n1 + ") of " + N
                    + " do not fall on panel boundaries of " + PANEL);
        }
        if (N < PANEL) {
            if (n1 > n0) gemmRows(0, 1, N, K, x, xOff, K, 1, W, 0, N, y, yOff, N);
            return;
        }
        int n = n0, panelStart = (n0 / PANEL) * K * PANEL;
        int fullEnd = Math.min(n1, N / PANEL * PANEL);
        for (; n < fullEnd; n += PANEL, panelStart += K * PANEL) panelTimesRow(K, x, xOff, packed, panelStart, y, yOff + n);
        if (n1 < N) return;
        int rest = N - n;
        if (rest == 1) {
            // gemm would take its dot-product path for a one-column call, which sums in another order
            float acc = 0f;
            for (int k = 0; k < K; k++) acc = Math.fma(W[k * N + n], x[xOff + k], acc);
            y[yOff + n] += acc;
        } else if (rest > 1) {
            gemmRows(0, 1, rest, K, x, xOff, K, 1, W, n, N, y, yOff + n, N);
        }
    }

    /**
     * y[0, PANEL) += x · panel, summed as {@link #kernel1x8} sums. Its own loop because every index is then a constant
     * multiple of k, so C2 drops the per-load bounds checks that the kernel's variable row stride keeps (measured 63
     * vs 70 µs for the 16 products of two 256×256 layers over 8 steps). The weights come from their cache-line-aligned
     * native copy through a long byte offset stepped once per k: with an int element index turned into an offset at
     * every load, C2 kept the segment's checks in the loop (K = 8 sample 49–54 µs, against 35–39 this way).
     */
    private static void panelTimesRow(int K, float[] x, int xOff, AlignedFloats packed, int p0, float[] y, int c) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        MemorySegment w = packed.segment;
        long v = 4L * L, q = 4L * p0;
        for (int k = 0; k < K; k++, q += 4L * PANEL) {
            FloatVector xk = FloatVector.broadcast(S, x[xOff + k]);
            c0 = FloatVector.fromMemorySegment(S, w, q, ORDER).fma(xk, c0);
            c1 = FloatVector.fromMemorySegment(S, w, q + v, ORDER).fma(xk, c1);
            c2 = FloatVector.fromMemorySegment(S, w, q + 2 * v, ORDER).fma(xk, c2);
            c3 = FloatVector.fromMemorySegment(S, w, q + 3 * v, ORDER).fma(xk, c3);
            c4 = FloatVector.fromMemorySegment(S, w, q + 4 * v, ORDER).fma(xk, c4);
            c5 = FloatVector.fromMemorySegment(S, w, q + 5 * v, ORDER).fma(xk, c5);
            c6 = FloatVector.fromMemorySegment(S, w, q + 6 * v, ORDER).fma(xk, c6);
            c7 = FloatVector.fromMemorySegment(S, w, q + 7 * v, ORDER).fma(xk, c7);
        }
        FloatVector.fromArray(S, y, c).add(c0).intoArray(y, c);
        FloatVector.fromArray(S, y, c + L).add(c1).intoArray(y, c + L);
        FloatVector.fromArray(S, y, c + 2 * L).add(c2).intoArray(y, c + 2 * L);
        FloatVector.fromArray(S, y, c + 3 * L).add(c3).intoArray(y, c + 3 * L);
        FloatVector.fromArray(S, y, c + 4 * L).add(c4).intoArray(y, c + 4 * L);
        FloatVector.fromArray(S, y, c + 5 * L).add(c5).intoArray(y, c + 5 * L);
        FloatVector.fromArray(S, y, c + 6 * L).add(c6).intoArray(y, c + 6 * L);
        FloatVector.fromArray(S, y, c + 7 * L).add(c7).intoArray(y, c + 7 * L);
    }

    /** The most columns {@link #packNarrow} takes: one vector. */
    public static final int NARROW = L;

    /** Floats {@link #packNarrow} writes for K rows. */
    public static int narrowPackedSize(int K) {
        return K * L;
    }

    /**
     * Copies W[K, N] with N ≤ one vector into {@code packed} (K × {@link #L} floats, lanes past N zero) for
     * {@link #matvecNarrow}.
     */
    public static void packNarrow(float[] W, int K, int N, AlignedFloats packed) {
        if (N > L) throw new IllegalArgumentException("packNarrow: " + N + " columns exceed one vector of " + L);
        packed.zero(0, K * L);
        for (int k = 0; k < K; k++) packed.copyFrom(W, k * N, k * L, N);
    }

    /**
     * y[yOff .. yOff+N) += x[xOff .. xOff+K) · W for a W of at most one vector's columns, packed by
     * {@link #packNarrow}. A single fused multiply-add chain over k would wait on the FMA latency at every k (the
     * output layer of a policy: 256 × 6), so k is dealt round-robin to eight chains, summed in a fixed order at the
     * end; the sums therefore differ in the last bits from {@link #gemm}'s.
     */
    public static void matvecNarrow(float[] x, int xOff, int K, int N, AlignedFloats packed, float[] y, int yOff) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        MemorySegment w = packed.segment;
        long v = 4L * L, q = 0;
        int k = 0;
        for (; k + 8 <= K; k += 8, q += 8 * v) {
            c0 = FloatVector.fromMemorySegment(S, w, q, ORDER).fma(FloatVector.broadcast(S, x[xOff + k]), c0);
            c1 = FloatVector.fromMemorySegment(S, w, q + v, ORDER).fma(FloatVector.broadcast(S, x[xOff + k + 1]), c1);
            c2 = FloatVector.fromMemorySegment(S, w, q + 2 * v, ORDER).fma(FloatVector.broadcast(S, x[xOff + k + 2]), c2);
            c3 = FloatVector.fromMemorySegment(S, w, q + 3 * v, ORDER).fma(FloatVector.broadcast(S, x[xOff + k + 3]), c3);
            c4 = FloatVector.fromMemorySegment(S, w, q + 4 * v, ORDER).fma(FloatVector.broadcast(S, x[xOff + k + 4]), c4);
            c5 = FloatVector.fromMemorySegment(S, w, q + 5 * v, ORDER).fma(FloatVector.broadcast(S, x[xOff + k + 5]), c5);
            c6 = FloatVector.fromMemorySegment(S, w, q + 6 * v, ORDER).fma(FloatVector.broadcast(S, x[xOff + k + 6]), c6);
            c7 = FloatVector.fromMemorySegment(S, w, q + 7 * v, ORDER).fma(FloatVector.broadcast(S, x[xOff + k + 7]), c7);
        }
        for (; k < K; k++, q += v) {
            c0 = FloatVector.fromMemorySegment(S, w, q, ORDER).fma(FloatVector.broadcast(S, x[xOff + k]), c0);
        }
        FloatVector sum = c0.add(c1).add(c2.add(c3)).add(c4.add(c5).add(c6.add(c7)));
        var lanes = S.indexInRange(0, N);
        FloatVector.fromArray(S, y, yOff, lanes).add(sum).intoArray(y, yOff, lanes);
    }

    /** out[cols, rows] = in[rows, cols]ᵀ, by {@link #gatherRuns}. */
    public static void transpose(float[] in, int rows, int cols, float[] out) {
        if (Parallel.threads() > 1 && (long) rows * cols >= Parallel.MIN_ELEMENTS && rows >= 2 * Transpose.ROWS) {
            TRANSPOSE.get().run(in, rows, cols, out);
        } else {
            transposeRows(in, rows, cols, out, 0, rows);
        }
    }

    /** One calling thread's reusable task for a transpose shared with the worker, in blocks of {@link Transpose#ROWS}. */
    private static final ThreadLocal<Transpose> TRANSPOSE = ThreadLocal.withInitial(Transpose::new);

    private static final class Transpose implements java.util.function.IntConsumer {
        /** Input rows per task: a multiple of a vector's length, the band {@link #gatherRuns} reads at once. */
        static final int ROWS = 32;
        float[] in, out;
        int rows, cols;

        void run(float[] in, int rows, int cols, float[] out) {
            this.in = in; this.out = out; this.rows = rows; this.cols = cols;
            try {
                Parallel.forEach((rows + ROWS - 1) / ROWS, this);
            } finally {
                this.in = this.out = null;
            }
        }

        @Override
        public void accept(int task) {
            transposeRows(in, rows, cols, out, task * ROWS, Math.min(rows, task * ROWS + ROWS));
        }
    }

    /** Input rows [from, to) of {@link #transpose}. */
    private static void transposeRows(float[] in, int rows, int cols, float[] out, int from, int to) {
        gatherRuns(in, 0, cols, null, 1, 0, cols, from, to, out, 0, rows);
    }
}
