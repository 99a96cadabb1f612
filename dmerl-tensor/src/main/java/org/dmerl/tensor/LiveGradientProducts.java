package org.dmerl.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The backward products of a ReLU layer y = relu(x·W + b), dX += dZ·Wᵀ and dW += Xᵀ·dZ, over only the rows and columns
 * of the masked gradient dZ that hold a nonzero.
 *
 * <p>A column of dZ is zero for every row when its unit is inactive on the whole batch. In SAC's Pendulum-v1 critics
 * that held for 41–47 % of the second layer's units all through a 15k-step run, and for 22–29 % of the actor's; a row is
 * zero where the loss does not reach it, as for the critic that is not the minimum in the actor's min(Q1, Q2). Dropping
 * those rows and columns leaves every sum with the same bits: each element of a product is C + one fused multiply-add
 * chain over k from zero ({@link Gemm}), and a term with a zero factor leaves such a chain unchanged (a chain from +0
 * is never −0). So products are taken over the live rows and columns, gathered into contiguous copies, and added into
 * the gradients; the shapes where {@link Gemm} would pick a kernel with another summation order are left dense.
 */
final class LiveGradientProducts {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int MAGNITUDE = 0x7fffffff;
    /** Below this fraction of dZ's elements live, the products are taken over the live part only. */
    private static final double MAX_LIVE_FRACTION = 0.9;

    /** How many backward passes took the live path. */
    long compactions;
    private int[] rows = new int[0], cols = new int[0], columnBits = new int[0], chunkCount = new int[0];
    /** 1 for a live column of dZ, 0 for a dead one: the lane masks of {@link #liveLanes(int)}. */
    private float[] liveColumn = new float[0];
    private float[] dz = new float[0], wt = new float[0], xs = new float[0], sums = new float[0];

    /**
     * A LINEAR_RELU node's backward pass: with {@code mask}, first ReLU's mask on y.grad (else it is already masked);
     * the bias gradient; and the products into x.grad and w.grad (those that require it), over the live part of dZ or,
     * when too much of it is live for the gathering to pay, dense. The mask, the bias sum and the search for live rows
     * and columns are one pass over the gradient, with the bits of separate passes: each element is masked the same
     * way and the bias sums add the rows in the same order.
     */
    void backward(Tensor y, boolean mask) {
        if (!compacted(y, mask)) Graph.matmulBackward(y);
    }

    private boolean compacted(Tensor y, boolean mask) {
        Tensor x = y.a, w = y.b;
        int batch = x.rows, in = x.cols, out = w.cols;
        int liveRows = scan(y, mask, y.c.requiresGrad ? y.c.grad : null, batch, out);
        // a one-column product goes through Gemm's dot or axpy kernel, whose summation order depends on K
        if (in < 2 || out < 2) return false;
        int liveCols = liveColumns(out);
        if ((double) liveRows * liveCols > MAX_LIVE_FRACTION * batch * out) return false;
        if (liveRows == 0 || liveCols == 0) {   // dZ is zero: both products add nothing
            Graph.settlePending(x);
            return true;
        }
        if (liveCols < 2 && w.requiresGrad) return false;   // one live unit: rare, left to the dense products
        compactions++;
        gatherGradient(y.grad, out, liveRows, liveCols);
        if (x.requiresGrad) inputGradient(x, w, liveRows, liveCols);
        if (w.requiresGrad) weightGradient(x, w, liveRows, liveCols);
        return true;
    }

    /**
     * Fills {@link #rows} with the rows of g = y.grad [batch, out] that hold a nonzero and {@link #columnBits} with the
     * OR of each column's bits; returns the number of live rows. A value is zero when its bits without the sign are;
     * NaN counts as live. Row by row, while the row is in L1: with {@code mask}, first ReLU's mask on it
     * ({@code Graph.maskByPositiveOutput}); with {@code biasGrad}, the row added to it (in row order, as
     * {@code Graph.sumRowsInto}).
     */
    private int scan(Tensor y, boolean mask, float[] biasGrad, int batch, int out) {
        float[] g = y.grad;
        if (columnBits.length < out) {
            columnBits = new int[out];
            cols = new int[out];
            liveColumn = new float[out];
            chunkCount = new int[out / L + 1];
        }
        if (rows.length < batch) rows = new int[batch];
        java.util.Arrays.fill(columnBits, 0, out, 0);
        int upper = S.loopBound(out), live = 0;
        for (int r = 0; r < batch; r++) {
            int base = r * out, c = 0;
            if (mask) Graph.maskByPositiveOutput(y, base, base + out);
            if (biasGrad != null) Graph.addRow(g, base, biasGrad, 0, out);
            IntVector rowBits = IntVector.zero(I);
            for (; c < upper; c += L) {
                IntVector v = FloatVector.fromArray(S, g, base + c).reinterpretAsInts();
                rowBits = rowBits.or(v);
                IntVector.fromArray(I, columnBits, c).or(v).intoArray(columnBits, c);
            }
            int bits = rowBits.reduceLanes(VectorOperators.OR);
            for (; c < out; c++) {
                int v = Float.floatToRawIntBits(g[base + c]);
                bits |= v;
                columnBits[c] |= v;
            }
            if ((bits & MAGNITUDE) != 0) rows[live++] = r;
        }
        return live;
    }

    /** Lists the live columns in {@link #cols}, marks them in {@link #liveColumn}, counts them per vector chunk. */
    private int liveColumns(int out) {
        int live = 0;
        for (int c = 0; c < out; c++) {
            boolean on = (columnBits[c] & MAGNITUDE) != 0;
            liveColumn[c] = on ? 1f : 0f;
            if (on) cols[live++] = c;
            if (c % L == 0) chunkCount[c / L] = 0;
            if (on) chunkCount[c / L]++;
        }
        return live;
    }

    /** The live columns among [c, c + L). */
    private VectorMask<Float> liveLanes(int c) {
        return FloatVector.fromArray(S, liveColumn, c).compare(VectorOperators.NE, 0f);
    }

    /** dz[liveRows, liveCols] = g at the live rows and columns, a vector chunk at a time packed by vcompress. */
    private void gatherGradient(float[] g, int out, int liveRows, int liveCols) {
        dz = Graph.ensure(dz, liveRows * liveCols + L);   // a compressed chunk is stored whole: L floats of room
        int upper = S.loopBound(out);
        for (int r = 0; r < liveRows; r++) {
            int src = rows[r] * out, dst = r * liveCols;
            if (liveCols == out) {
                System.arraycopy(g, src, dz, dst, out);
                continue;
            }
            int c = 0;
            for (; c < upper; c += L) {
                FloatVector.fromArray(S, g, src + c).compress(liveLanes(c)).intoArray(dz, dst);
                dst += chunkCount[c / L];
            }
            for (; c < out; c++) if (liveColumn[c] != 0f) dz[dst++] = g[src + c];
        }
    }

    /** x.grad[live rows] += dz · Wᵀ[live columns of W]. */
    private void inputGradient(Tensor x, Tensor w, int liveRows, int liveCols) {
        int batch = x.rows, in = x.cols;
        wt = Graph.ensure(wt, liveCols * in);
        // wt[j, i] = W[i, cols[j]]: only the live columns' rows of Wᵀ. The weights change at every step, so a transpose
        // of the whole matrix would not be reused either.
        Gemm.gatherRuns(w.data, 0, w.cols, cols, 0, 0, liveCols, 0, in, wt, 0, in);
        if (liveRows == batch) {
            Graph.inputGradientProduct(x, batch, in, liveCols, dz, liveCols, wt);
            return;
        }
        Graph.settlePending(x);
        sums = Graph.ensure(sums, liveRows * in);
        java.util.Arrays.fill(sums, 0, liveRows * in, 0f);
        Gemm.gemm(liveRows, in, liveCols, dz, 0, liveCols, 1, wt, 0, in, sums, 0, in);
        for (int r = 0; r < liveRows; r++) Graph.addRow(sums, r * in, x.grad, rows[r] * in, in);
    }

    /** w.grad[:, live columns] += Xᵀ[:, live rows] · dz. */
    private void weightGradient(Tensor x, Tensor w, int liveRows, int liveCols) {
        int batch = x.rows, in = x.cols, out = w.cols;
        float[] xRows = x.data;
        if (liveRows < batch) {
            xs = Graph.ensure(xs, liveRows * in);
            for (int r = 0; r < liveRows; r++) System.arraycopy(x.data, rows[r] * in, xs, r * in, in);
            xRows = xs;
        }
        if (liveCols == out) {
            Gemm.gemm(in, out, liveRows, xRows, 0, 1, in, dz, 0, out, w.grad, 0, out);
            return;
        }
        // dWᵀ[live columns, in] = dzᵀ · X[live rows]: each element the same chain as in Xᵀ·dz (the two factors of a
        // fused multiply-add commute), but the copy the panel path transposes is dz, not X, and X's columns fill
        // every panel where the live columns left the last one part-empty
        sums = Graph.ensure(sums, liveCols * in);
        java.util.Arrays.fill(sums, 0, liveCols * in, 0f);
        Gemm.gemm(liveCols, in, liveRows, dz, 0, 1, liveCols, xRows, 0, in, sums, 0, in);
        Gemm.scatterAddRuns(sums, liveCols, in, cols, w.grad, out);
    }
}
