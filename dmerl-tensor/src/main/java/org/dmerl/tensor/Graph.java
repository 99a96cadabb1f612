package org.dmerl.tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Reverse-mode automatic differentiation on a tape.
 *
 * <p>Every op returns a node that the graph owns. A pass starts with {@link #reset()}; the graph then hands out the
 * same node objects and buffers, in the same order, as in its previous pass, so a training loop that repeats the same
 * computation allocates nothing in steady state. Nodes from an earlier pass are invalid after {@code reset()}.
 *
 * <p>Binary elementwise ops broadcast a side whose rows (or cols) equal 1 over the other side's rows (or cols).
 * Nodes whose operands need no gradient, and all nodes made while {@link #setGradEnabled gradients are off}, are
 * not taped.
 */
public final class Graph {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final float SQRT_2_OVER_PI = Elementwise.SQRT_2_OVER_PI;
    private static final float GELU_C = Elementwise.GELU_C;

    private final List<Tensor> pool = new ArrayList<>();
    private final List<Tensor> tape = new ArrayList<>();
    private int next;
    private boolean gradEnabled = true;
    private final RowHalves rowHalves = new RowHalves();
    final LiveGradientProducts liveProducts = new LiveGradientProducts();
    /** Zeroes the worker's rows of every node's gradient ({@link Parallel#workerElements}), or the caller's. */
    private final Runnable zeroWorkerRows = () -> zeroGrads(true), zeroCallerRows = () -> zeroGrads(false);

    private void zeroGrads(boolean workerRows) {
        for (Tensor t : tape) {
            if (t.gradPending) continue;
            int half = Parallel.workerElements(t.rows, t.cols, L);
            if (workerRows) Arrays.fill(t.grad, 0, half, 0f);
            else Arrays.fill(t.grad, half, t.size(), 0f);
        }
    }

    /** Starts a new pass: nodes of the previous pass will be reused. */
    public void reset() {
        next = 0;
        tape.clear();
        gradEnabled = true;
    }

    public void setGradEnabled(boolean enabled) {
        gradEnabled = enabled;
    }

    public boolean gradEnabled() {
        return gradEnabled;
    }

    /** Number of nodes the graph has allocated so far (for allocation tests). */
    public int poolSize() {
        return pool.size();
    }

    private Tensor node(int rows, int cols, Op op, Tensor a, Tensor b) {
        return node(rows, cols, op, a, b, false);
    }

    /** {@code otherInputNeedsGrad}: an operand outside a and b (linear's bias, concat's parts) requires gradients. */
    private Tensor node(int rows, int cols, Op op, Tensor a, Tensor b, boolean otherInputNeedsGrad) {
        Tensor t;
        int n = rows * cols;
        if (next < pool.size()) {
            t = pool.get(next);
            if (t.data.length < n) t.data = new float[n];
            t.rows = rows;
            t.cols = cols;
        } else {
            t = new Tensor(rows, cols, null);
            pool.add(t);
        }
        next++;
        t.op = op;
        t.a = a;
        t.b = b;
        t.c = null;
        t.requiresGrad = gradEnabled
                && (otherInputNeedsGrad || (a != null && a.requiresGrad) || (b != null && b.requiresGrad));
        if (t.requiresGrad) {
            if (t.grad == null || t.grad.length < n) t.grad = new float[t.data.length];
            tape.add(t);
        }
        return t;
    }

    static float[] ensure(float[] buf, int n) {
        return buf == null || buf.length < n ? new float[n] : buf;
    }

    // ---------------------------------------------------------------- linear algebra

    /** x[B, in] · w[in, out]. */
    public Tensor matmul(Tensor x, Tensor w) {
        if (x.cols != w.rows) {
            throw new IllegalArgumentException("matmul shape mismatch: " + x.shape() + " · " + w.shape());
        }
        Tensor y = node(x.rows, w.cols, Op.MATMUL, x, w);
        Arrays.fill(y.data, 0, y.size(), 0f);
        Gemm.gemm(x.rows, w.cols, x.cols, x.data, 0, x.cols, 1, w.data, 0, w.cols, y.data, 0, w.cols);
        return y;
    }

    /** x · w + b with b of shape [1, out], fused: each output is b plus the product's sum ({@link Gemm#gemmInto}). */
    public Tensor linear(Tensor x, Tensor w, Tensor b) {
        return linear(x, w, b, Op.LINEAR);
    }

    /**
     * relu(x · w + b) as one node, with the bits of {@code relu(linear(x, w, b))}: the ReLU is applied as the product's
     * sums are written, and the backward pass masks the incoming gradient in place, so no pre-activation tensor is
     * stored, zeroed or read.
     */
    public Tensor linearRelu(Tensor x, Tensor w, Tensor b) {
        return linear(x, w, b, Op.LINEAR_RELU);
    }

    private Tensor linear(Tensor x, Tensor w, Tensor b, Op op) {
        if (x.cols != w.rows || b.rows != 1 || b.cols != w.cols) {
            throw new IllegalArgumentException("linear shape mismatch: " + x.shape() + " · " + w.shape() + " + " + b.shape());
        }
        Tensor y = node(x.rows, w.cols, op, x, w, b.requiresGrad);
        y.c = b;
        int out = w.cols;
        Gemm.gemmInto(x.rows, out, x.cols, x.data, 0, x.cols, 1, w.data, 0, out, b.data, 0, op == Op.LINEAR_RELU,
                y.data, 0, out);
        return y;
    }

    // ---------------------------------------------------------------- binary elementwise with broadcasting

    public Tensor add(Tensor a, Tensor b) { return binary(Op.ADD, a, b); }
    public Tensor sub(Tensor a, Tensor b) { return binary(Op.SUB, a, b); }
    public Tensor mul(Tensor a, Tensor b) { return binary(Op.MUL, a, b); }
    public Tensor div(Tensor a, Tensor b) { return binary(Op.DIV, a, b); }
    /** Elementwise minimum; the gradient goes to the smaller side (to {@code a} on ties). */
    public Tensor min(Tensor a, Tensor b) { return binary(Op.MIN, a, b); }

    private static int outDim(int x, int y, String what, Tensor a, Tensor b, Op op) {
        if (x == y || y == 1) return x;
        if (x == 1) return y;
        throw new IllegalArgumentException(op.name().toLowerCase() + ": cannot broadcast " + a.shape() + " with "
                + b.shape() + " (" + what + ")");
    }

    private Tensor binary(Op op, Tensor a, Tensor b) {
        int rows = outDim(a.rows, b.rows, "rows", a, b, op);
        int cols = outDim(a.cols, b.cols, "cols", a, b, op);
        Tensor y = node(rows, cols, op, a, b);
        float[] ad = a.data, bd = b.data, yd = y.data;
        if (a.rows == rows && a.cols == cols && b.rows == rows && b.cols == cols) {
            int n = rows * cols;
            switch (op) {
                case ADD -> { for (int i = 0; i < n; i++) yd[i] = ad[i] + bd[i]; }
                case SUB -> { for (int i = 0; i < n; i++) yd[i] = ad[i] - bd[i]; }
                case MUL -> { for (int i = 0; i < n; i++) yd[i] = ad[i] * bd[i]; }
                case DIV -> { for (int i = 0; i < n; i++) yd[i] = ad[i] / bd[i]; }
                case MIN -> { for (int i = 0; i < n; i++) yd[i] = Math.min(ad[i], bd[i]); }
                default -> throw new AssertionError(op);
            }
            return y;
        }
        int ars = a.rows == 1 ? 0 : a.cols, acs = a.cols == 1 ? 0 : 1;
        int brs = b.rows == 1 ? 0 : b.cols, bcs = b.cols == 1 ? 0 : 1;
        for (int r = 0; r < rows; r++) {
            int ia = r * ars, ib = r * brs, iy = r * cols;
            for (int c = 0; c < cols; c++, ia += acs, ib += bcs) {
                float x = ad[ia], z = bd[ib];
                yd[iy + c] = switch (op) {
                    case ADD -> x + z;
                    case SUB -> x - z;
                    case MUL -> x * z;
                    case DIV -> x / z;
                    case MIN -> Math.min(x, z);
                    default -> throw new AssertionError(op);
                };
            }
        }
        return y;
    }

    private static void binaryBackward(Tensor y) {
        Tensor a = y.a, b = y.b;
        float[] g = y.grad, ad = a.data, bd = b.data;
        float[] ga = a.requiresGrad ? a.grad : null, gb = b.requiresGrad ? b.grad : null;
        int rows = y.rows, cols = y.cols;
        int ars = a.rows == 1 ? 0 : a.cols, acs = a.cols == 1 ? 0 : 1;
        int brs = b.rows == 1 ? 0 : b.cols, bcs = b.cols == 1 ? 0 : 1;
        for (int r = 0; r < rows; r++) {
            int ia = r * ars, ib = r * brs, iy = r * cols;
            for (int c = 0; c < cols; c++, ia += acs, ib += bcs) {
                float d = g[iy + c];
                switch (y.op) {
                    case ADD -> {
                        if (ga != null) ga[ia] += d;
                        if (gb != null) gb[ib] += d;
                    }
                    case SUB -> {
                        if (ga != null) ga[ia] += d;
                        if (gb != null) gb[ib] -= d;
                    }
                    case MUL -> {
                        if (ga != null) ga[ia] += d * bd[ib];
                        if (gb != null) gb[ib] += d * ad[ia];
                    }
                    case DIV -> {
                        float inv = 1f / bd[ib];
                        if (ga != null) ga[ia] += d * inv;
                        if (gb != null) gb[ib] -= d * ad[ia] * inv * inv;
                    }
                    case MIN -> {
                        if (ad[ia] <= bd[ib]) {
                            if (ga != null) ga[ia] += d;
                        } else if (gb != null) {
                            gb[ib] += d;
                        }
                    }
                    default -> throw new AssertionError(y.op);
                }
            }
        }
    }

    // ---------------------------------------------------------------- scalar ops

    public Tensor addScalar(Tensor x, float c) {
        Tensor y = node(x.rows, x.cols, Op.ADD_SCALAR, x, null);
        y.s0 = c;
        int n = x.size();
        for (int i = 0; i < n; i++) y.data[i] = x.data[i] + c;
        return y;
    }

    public Tensor mulScalar(Tensor x, float c) {
        Tensor y = node(x.rows, x.cols, Op.MUL_SCALAR, x, null);
        y.s0 = c;
        int n = x.size();
        for (int i = 0; i < n; i++) y.data[i] = x.data[i] * c;
        return y;
    }

    public Tensor neg(Tensor x) {
        return mulScalar(x, -1f);
    }

    /** Clamps to [lo, hi]; the gradient passes where lo ≤ x ≤ hi. */
    public Tensor clamp(Tensor x, float lo, float hi) {
        if (!(lo <= hi)) throw new IllegalArgumentException("clamp: lo " + lo + " > hi " + hi);
        Tensor y = node(x.rows, x.cols, Op.CLAMP, x, null);
        y.s0 = lo;
        y.s1 = hi;
        int n = x.size();
        for (int i = 0; i < n; i++) y.data[i] = Math.max(lo, Math.min(hi, x.data[i]));
        return y;
    }

    /** The same values, cut off from the tape (stop-gradient). */
    public Tensor detach(Tensor x) {
        boolean saved = gradEnabled;
        gradEnabled = false;
        Tensor y = node(x.rows, x.cols, Op.DETACH, null, null);
        gradEnabled = saved;
        System.arraycopy(x.data, 0, y.data, 0, x.size());
        return y;
    }

    /** A graph-owned constant input of the given shape (values to be written by the caller). */
    public Tensor input(int rows, int cols) {
        if (rows <= 0 || cols <= 0) throw new IllegalArgumentException("bad shape [" + rows + ", " + cols + "]");
        boolean saved = gradEnabled;
        gradEnabled = false;
        Tensor y = node(rows, cols, Op.LEAF, null, null);
        gradEnabled = saved;
        return y;
    }

    /** A graph-owned [1, n] constant holding {@code values} (an observation, say) rounded to float. */
    public Tensor inputRow(double[] values) {
        Tensor y = input(1, values.length);
        for (int i = 0; i < values.length; i++) y.data[i] = (float) values[i];
        return y;
    }

    /** A graph-owned constant filled with {@code value}. */
    public Tensor full(int rows, int cols, float value) {
        Tensor y = input(rows, cols);
        Arrays.fill(y.data, 0, rows * cols, value);
        return y;
    }

    // ---------------------------------------------------------------- unary elementwise

    public Tensor relu(Tensor x) { return unary(Op.RELU, x); }
    public Tensor tanh(Tensor x) { return unary(Op.TANH, x); }
    /** GELU, tanh approximation (as Flax's default and PyTorch's approximate='tanh'). */
    public Tensor gelu(Tensor x) { return unary(Op.GELU, x); }
    public Tensor silu(Tensor x) { return unary(Op.SILU, x); }
    public Tensor mish(Tensor x) { return unary(Op.MISH, x); }
    public Tensor exp(Tensor x) { return unary(Op.EXP, x); }
    public Tensor log(Tensor x) { return unary(Op.LOG, x); }
    public Tensor softplus(Tensor x) { return unary(Op.SOFTPLUS, x); }
    public Tensor square(Tensor x) { return unary(Op.SQUARE, x); }
    public Tensor sqrt(Tensor x) { return unary(Op.SQRT, x); }
    public Tensor sigmoid(Tensor x) { return unary(Op.SIGMOID, x); }
    public Tensor sin(Tensor x) { return unary(Op.SIN, x); }
    public Tensor cos(Tensor x) { return unary(Op.COS, x); }

    private Tensor unary(Op op, Tensor x) {
        Tensor y = node(x.rows, x.cols, op, x, null);
        elementwise(y, false);
        return y;
    }

    /** A unary node's pass, or a ReLU layer's gradient mask, shared with the second thread where it is long enough. */
    private void elementwise(Tensor y, boolean backward) {
        if (splitsElementwise(y.op, y.size())) rowHalves.run(y, backward);
        else elementwise(y, backward, 0, y.size());
    }

    /** Elements [from, to) of {@link #elementwise(Tensor, boolean)}; from must be a multiple of the vector length. */
    private static void elementwise(Tensor y, boolean backward, int from, int to) {
        if (y.op == Op.LINEAR_RELU) maskByPositiveOutput(y, from, to);
        else if (backward) unaryBackward(y, from, to);
        else unary(y.op, y.a.data, y.data, from, to);
    }

    /** Elements [from, to) of a unary op; from must be a multiple of the vector length. */
    private static void unary(Op op, float[] in, float[] out, int from, int to) {
        switch (op) {
            case RELU -> Elementwise.relu(in, out, from, to);
            case TANH -> Elementwise.tanh(in, out, from, to);
            case GELU -> Elementwise.gelu(in, out, from, to);
            case SILU -> Elementwise.silu(in, out, from, to);
            case MISH -> Elementwise.mish(in, out, from, to);
            case EXP -> vectorExp(in, out, from, to);
            case LOG -> { for (int i = from; i < to; i++) out[i] = (float) Math.log(in[i]); }
            case SOFTPLUS -> { for (int i = from; i < to; i++) out[i] = softplus(in[i]); }
            case SQUARE -> { for (int i = from; i < to; i++) out[i] = in[i] * in[i]; }
            case SQRT -> { for (int i = from; i < to; i++) out[i] = (float) Math.sqrt(in[i]); }
            case SIGMOID -> { for (int i = from; i < to; i++) out[i] = sigmoid(in[i]); }
            case SIN -> { for (int i = from; i < to; i++) out[i] = (float) Math.sin(in[i]); }
            case COS -> { for (int i = from; i < to; i++) out[i] = (float) Math.cos(in[i]); }
            default -> throw new AssertionError(op);
        }
    }

    /**
     * Whether a unary op (forward or backward) over n elements is shared with the second compute thread: only the
     * vectorised activations and exp, whose elements are each computed the same way in any chunk that starts on a
     * vector boundary, and only where the pass is long enough to repay the handoff.
     */
    private static boolean splitsElementwise(Op op, int n) {
        return n >= Parallel.MIN_ELEMENTS && Parallel.threads() > 1 && switch (op) {
            case RELU, TANH, GELU, SILU, MISH, EXP, LINEAR_RELU -> true;
            default -> false;
        };
    }

    /** A long elementwise pass split by rows ({@link Parallel#workerElements}); reused, since a task per pass allocates. */
    private static final class RowHalves {
        Tensor y;
        boolean backward;
        int half;
        final Runnable workerRows = () -> elementwise(y, backward, 0, half);
        final Runnable callerRows = () -> elementwise(y, backward, half, y.size());

        void run(Tensor y, boolean backward) {
            this.y = y;
            this.backward = backward;
            half = Parallel.workerElements(y.rows, y.cols, L);
            try {
                Parallel.run(workerRows, callerRows);
            } finally {
                this.y = null;
            }
        }
    }

    /** The backward pass of a unary node for elements [from, to); from must be a multiple of the vector length. */
    private static void unaryBackward(Tensor y, int from, int to) {
        Tensor x = y.a;
        float[] g = y.grad, in = x.data, out = y.data, gx = x.grad;
        switch (y.op) {
            case RELU -> {
                int i = from, upper = from + S.loopBound(to - from);
                for (; i < upper; i += L) {
                    FloatVector gv = FloatVector.fromArray(S, g, i);
                    var positive = FloatVector.fromArray(S, out, i).compare(VectorOperators.GT, 0f);
                    FloatVector.fromArray(S, gx, i).add(gv, positive).intoArray(gx, i);
                }
                for (; i < to; i++) if (in[i] > 0f) gx[i] += g[i];
            }
            case TANH -> { for (int i = from; i < to; i++) gx[i] += g[i] * (1f - out[i] * out[i]); }
            case GELU -> geluBackward(in, g, gx, from, to);
            case SILU -> {
                for (int i = from; i < to; i++) {
                    float s = sigmoid(in[i]);
                    gx[i] += g[i] * s * (1f + in[i] * (1f - s));
                }
            }
            case MISH -> {
                for (int i = from; i < to; i++) {
                    float t = VecMath.tanh(softplus(in[i]));
                    gx[i] += g[i] * (t + in[i] * (1f - t * t) * sigmoid(in[i]));
                }
            }
            case EXP -> { for (int i = from; i < to; i++) gx[i] += g[i] * out[i]; }
            case LOG -> { for (int i = from; i < to; i++) gx[i] += g[i] / in[i]; }
            case SOFTPLUS, SIGMOID -> {
                boolean sp = y.op == Op.SOFTPLUS;
                for (int i = from; i < to; i++) {
                    float s = sp ? sigmoid(in[i]) : out[i];
                    gx[i] += sp ? g[i] * s : g[i] * s * (1f - s);
                }
            }
            case SQUARE -> { for (int i = from; i < to; i++) gx[i] += 2f * g[i] * in[i]; }
            case SQRT -> { for (int i = from; i < to; i++) gx[i] += g[i] * 0.5f / out[i]; }
            case SIN -> { for (int i = from; i < to; i++) gx[i] += g[i] * (float) Math.cos(in[i]); }
            case COS -> { for (int i = from; i < to; i++) gx[i] -= g[i] * (float) Math.sin(in[i]); }
            default -> throw new AssertionError(y.op);
        }
    }

    static float sigmoid(float x) {
        return x >= 0 ? 1f / (1f + (float) Math.exp(-x)) : (float) (Math.exp(x) / (1 + Math.exp(x)));
    }

    static float softplus(float x) {
        return Math.max(x, 0f) + (float) Math.log1p(Math.exp(-Math.abs(x)));
    }

    private static void vectorExp(float[] in, float[] out, int from, int to) {
        int i = from, upper = from + S.loopBound(to - from);
        for (; i < upper; i += L) VecMath.exp(FloatVector.fromArray(S, in, i)).intoArray(out, i);
        for (; i < to; i++) out[i] = VecMath.exp(in[i]);
    }

    /**
     * Adds g·GELU'(x) to gx, with d/dx x·σ(2z) = σ + 2x·σ(1 − σ)·z′ and σ = 1/(1 + e^{−2z}) computed as the forward
     * computes it. Far left of zero g·GELU' falls below 10⁻³⁸; those subnormal gradients (1 % of a DiffSAC run's
     * pre-activation gradients) slowed every product they entered several-fold on Intel cores, so the sums are flushed
     * ({@link VecMath#flushSubnormals}).
     */
    private static void geluBackward(float[] in, float[] g, float[] gx, int from, int to) {
        int i = from, upper = from + S.loopBound(to - from);
        for (; i < upper; i += L) {
            FloatVector x = FloatVector.fromArray(S, in, i);
            FloatVector x2 = x.mul(x);
            FloatVector sig = FloatVector.broadcast(S, 1f)
                    .div(VecMath.exp(x2.fma(Elementwise.GELU_EXP_CUBIC, Elementwise.GELU_EXP_LINEAR).mul(x)).add(1f));
            FloatVector dz = x2.mul(3 * GELU_C).add(1f).mul(SQRT_2_OVER_PI);
            FloatVector d = x.mul(2f).mul(sig.mul(sig.neg().add(1f))).fma(dz, sig);
            VecMath.flushSubnormals(FloatVector.fromArray(S, g, i).fma(d, FloatVector.fromArray(S, gx, i))).intoArray(gx, i);
        }
        for (; i < to; i++) {
            float x = in[i];
            float sig = 1f / (VecMath.exp(Math.fma(x * x, Elementwise.GELU_EXP_CUBIC, Elementwise.GELU_EXP_LINEAR) * x) + 1f);
            float dz = ((x * x) * (3 * GELU_C) + 1f) * SQRT_2_OVER_PI;
            gx[i] = VecMath.flushSubnormal(Math.fma(g[i], Math.fma(2f * x * (sig * (1f - sig)), dz, sig), gx[i]));
        }
    }

    // ---------------------------------------------------------------- reductions

    /** Sum over the batch (axis 0): [rows, cols] → [1, cols]. */
    public Tensor sumRows(Tensor x) { return reduce(Op.SUM_ROWS, x, 1f); }
    /** Sum over features (axis 1): [rows, cols] → [rows, 1]. */
    public Tensor sumCols(Tensor x) { return reduce(Op.SUM_COLS, x, 1f); }
    /** Sum of all entries: → [1, 1]. */
    public Tensor sum(Tensor x) { return reduce(Op.SUM_ALL, x, 1f); }
    public Tensor meanRows(Tensor x) { return reduce(Op.SUM_ROWS, x, 1f / x.rows); }
    public Tensor meanCols(Tensor x) { return reduce(Op.SUM_COLS, x, 1f / x.cols); }
    public Tensor mean(Tensor x) { return reduce(Op.SUM_ALL, x, 1f / x.size()); }

    /** Sum over the given axis (0: over rows, 1: over columns). */
    public Tensor sum(Tensor x, int axis) {
        return switch (axis) {
            case 0 -> sumRows(x);
            case 1 -> sumCols(x);
            default -> throw new IllegalArgumentException("axis must be 0 or 1, got " + axis);
        };
    }

    public Tensor mean(Tensor x, int axis) {
        return switch (axis) {
            case 0 -> meanRows(x);
            case 1 -> meanCols(x);
            default -> throw new IllegalArgumentException("axis must be 0 or 1, got " + axis);
        };
    }

    private Tensor reduce(Op op, Tensor x, float scale) {
        int rows = op == Op.SUM_COLS ? x.rows : 1;
        int cols = op == Op.SUM_ROWS ? x.cols : 1;
        Tensor y = node(rows, cols, op, x, null);
        y.s0 = scale;
        float[] in = x.data, out = y.data;
        switch (op) {
            case SUM_ROWS -> {
                for (int c = 0; c < x.cols; c++) {
                    double s = 0;
                    for (int r = 0; r < x.rows; r++) s += in[r * x.cols + c];
                    out[c] = (float) (s * scale);
                }
            }
            case SUM_COLS -> {
                for (int r = 0; r < x.rows; r++) {
                    double s = 0;
                    int base = r * x.cols;
                    for (int c = 0; c < x.cols; c++) s += in[base + c];
                    out[r] = (float) (s * scale);
                }
            }
            case SUM_ALL -> {
                double s = 0;
                int n = x.size();
                for (int i = 0; i < n; i++) s += in[i];
                out[0] = (float) (s * scale);
            }
            default -> throw new AssertionError(op);
        }
        return y;
    }

    private static void reduceBackward(Tensor y) {
        Tensor x = y.a;
        float[] g = y.grad, gx = x.grad;
        float scale = y.s0;
        for (int r = 0; r < x.rows; r++) {
            int base = r * x.cols;
            for (int c = 0; c < x.cols; c++) {
                float d = switch (y.op) {
                    case SUM_ROWS -> g[c];
                    case SUM_COLS -> g[r];
                    default -> g[0];
                };
                gx[base + c] += d * scale;
            }
        }
    }

    // ---------------------------------------------------------------- shape ops

    /** Concatenates along features: all parts must have the same number of rows. */
    public Tensor concat(Tensor... parts) {
        if (parts.length == 0) throw new IllegalArgumentException("concat of nothing");
        int rows = parts[0].rows, cols = 0;
        boolean anyGrad = false;
        for (Tensor p : parts) {
            if (p.rows != rows) {
                throw new IllegalArgumentException("concat: row counts differ: " + parts[0].shape() + " vs " + p.shape());
            }
            cols += p.cols;
            anyGrad |= p.requiresGrad;
        }
        Tensor y = node(rows, cols, Op.CONCAT, null, null, anyGrad);
        if (y.parts == null || y.parts.length != parts.length) y.parts = new Tensor[parts.length];
        System.arraycopy(parts, 0, y.parts, 0, parts.length);
        int off = 0;
        for (Tensor p : parts) {
            for (int r = 0; r < rows; r++) System.arraycopy(p.data, r * p.cols, y.data, r * cols + off, p.cols);
            off += p.cols;
        }
        return y;
    }

    /** Columns [from, to) of x. */
    public Tensor slice(Tensor x, int from, int to) {
        if (from < 0 || to > x.cols || from >= to) {
            throw new IllegalArgumentException("slice [" + from + ", " + to + ") out of range for " + x.shape());
        }
        int cols = to - from;
        Tensor y = node(x.rows, cols, Op.SLICE, x, null);
        y.i0 = from;
        for (int r = 0; r < x.rows; r++) System.arraycopy(x.data, r * x.cols + from, y.data, r * cols, cols);
        return y;
    }

    // ---------------------------------------------------------------- normalisation

    /** Layer norm over features with learnable gain and bias of shape [1, cols]; eps 1e-5. */
    public Tensor layerNorm(Tensor x, Tensor gain, Tensor bias) {
        if (gain.rows != 1 || gain.cols != x.cols || bias.rows != 1 || bias.cols != x.cols) {
            throw new IllegalArgumentException("layerNorm: gain " + gain.shape() + " and bias " + bias.shape()
                    + " must be [1, " + x.cols + "]");
        }
        Tensor norm = node(x.rows, x.cols, Op.LAYER_NORM, x, null);
        norm.aux1 = ensure(norm.aux1, x.rows);
        norm.aux2 = ensure(norm.aux2, x.rows);
        int cols = x.cols;
        for (int r = 0; r < x.rows; r++) {
            int base = r * cols;
            double mean = 0;
            for (int c = 0; c < cols; c++) mean += x.data[base + c];
            mean /= cols;
            double var = 0;
            for (int c = 0; c < cols; c++) {
                double d = x.data[base + c] - mean;
                var += d * d;
            }
            var /= cols;
            float rstd = (float) (1 / Math.sqrt(var + 1e-5));
            norm.aux1[r] = (float) mean;
            norm.aux2[r] = rstd;
            for (int c = 0; c < cols; c++) norm.data[base + c] = (float) ((x.data[base + c] - mean) * rstd);
        }
        return add(mul(norm, gain), bias);
    }

    private static void layerNormBackward(Tensor y) {
        Tensor x = y.a;
        int cols = x.cols;
        for (int r = 0; r < x.rows; r++) {
            int base = r * cols;
            float rstd = y.aux2[r];
            double meanG = 0, meanGX = 0;
            for (int c = 0; c < cols; c++) {
                meanG += y.grad[base + c];
                meanGX += y.grad[base + c] * y.data[base + c];
            }
            meanG /= cols;
            meanGX /= cols;
            for (int c = 0; c < cols; c++) {
                x.grad[base + c] += (float) (rstd * (y.grad[base + c] - meanG - y.data[base + c] * meanGX));
            }
        }
    }

    /** log softmax over features. */
    public Tensor logSoftmax(Tensor x) {
        Tensor y = node(x.rows, x.cols, Op.LOG_SOFTMAX, x, null);
        int cols = x.cols;
        for (int r = 0; r < x.rows; r++) {
            int base = r * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) max = Math.max(max, x.data[base + c]);
            double s = 0;
            for (int c = 0; c < cols; c++) s += Math.exp(x.data[base + c] - max);
            float lse = max + (float) Math.log(s);
            for (int c = 0; c < cols; c++) y.data[base + c] = x.data[base + c] - lse;
        }
        return y;
    }

    private static void logSoftmaxBackward(Tensor y) {
        Tensor x = y.a;
        int cols = x.cols;
        for (int r = 0; r < x.rows; r++) {
            int base = r * cols;
            double gs = 0;
            for (int c = 0; c < cols; c++) gs += y.grad[base + c];
            for (int c = 0; c < cols; c++) {
                x.grad[base + c] += y.grad[base + c] - (float) (Math.exp(y.data[base + c]) * gs);
            }
        }
    }

    // ---------------------------------------------------------------- backward

    /**
     * Back-propagates from {@code loss} (seeded with ones, i.e. d(sum of loss)/d·) through this pass. Gradients of
     * parameters accumulate into their {@code grad}; zero them before (the optimiser does).
     */
    public void backward(Tensor loss) {
        if (!loss.requiresGrad) {
            throw new IllegalStateException("backward: loss does not depend on any parameter that requires gradients");
        }
        findOverwrittenGradients();
        long gradients = 0;
        for (Tensor t : tape) if (!t.gradPending) gradients += t.size();
        if (gradients >= Parallel.MIN_ELEMENTS) {
            Parallel.run(zeroWorkerRows, zeroCallerRows);
        } else {
            for (Tensor t : tape) if (!t.gradPending) Arrays.fill(t.grad, 0, t.size(), 0f);
        }
        Arrays.fill(loss.grad, 0, loss.size(), 1f);
        for (int i = tape.size() - 1; i >= 0; i--) {
            Tensor y = tape.get(i);
            if (y.op == Op.CONCAT) {
                concatBackward(y);
                continue;
            }
            Tensor a = y.a;
            boolean ga = a != null && a.requiresGrad;
            switch (y.op) {
                case MATMUL -> matmulBackward(y);
                case LINEAR -> {
                    matmulBackward(y);
                    if (y.c.requiresGrad) sumRowsInto(y.grad, y.rows, y.cols, y.c.grad);
                }
                case LINEAR_RELU -> {
                    // on one thread the mask and the bias sum ride along the live products' scan of the gradient
                    boolean maskInScan = !splitsElementwise(y.op, y.size());
                    if (!maskInScan) elementwise(y, true);
                    liveProducts.backward(y, maskInScan);
                }
                case ADD, SUB, MUL, DIV, MIN -> binaryBackward(y);
                case ADD_SCALAR -> { if (ga) addInto(a.grad, y.grad, y.size(), 1f); }
                case MUL_SCALAR -> { if (ga) addInto(a.grad, y.grad, y.size(), y.s0); }
                case CLAMP -> {
                    if (ga) {
                        for (int j = 0; j < y.size(); j++) {
                            float v = a.data[j];
                            if (v >= y.s0 && v <= y.s1) a.grad[j] += y.grad[j];
                        }
                    }
                }
                case SUM_ROWS, SUM_COLS, SUM_ALL -> { if (ga) reduceBackward(y); }
                case SLICE -> {
                    if (ga) {
                        for (int r = 0; r < y.rows; r++) {
                            int src = r * y.cols, dst = r * a.cols + y.i0;
                            for (int c = 0; c < y.cols; c++) a.grad[dst + c] += y.grad[src + c];
                        }
                    }
                }
                case LAYER_NORM -> { if (ga) layerNormBackward(y); }
                case LOG_SOFTMAX -> { if (ga) logSoftmaxBackward(y); }
                case LEAF, DETACH -> { }
                default -> { if (ga) elementwise(y, true); }
            }
        }
    }

    private static final java.util.concurrent.atomic.AtomicLong BACKWARD_PASSES = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Marks the nodes whose gradient is first written by the input-gradient product of a linear node (the last node to
     * read them going forward, so the first to write going back): that product writes its sums over the gradient,
     * which is therefore not zeroed first. A sum written over C has the bits of C = 0 plus that sum ({@link
     * Gemm#gemmInto} without a bias), and the activations' gradients are the largest arrays of a pass: zeroing them
     * and then reading them back cost one more trip through memory per layer.
     */
    private void findOverwrittenGradients() {
        long pass = BACKWARD_PASSES.incrementAndGet();
        for (Tensor t : tape) {
            t.backwardPass = pass;
            t.lastConsumer = null;
        }
        for (Tensor y : tape) {
            readBy(y.a, y, pass);
            readBy(y.b, y, pass);
            readBy(y.c, y, pass);
            if (y.op == Op.CONCAT) for (Tensor p : y.parts) readBy(p, y, pass);
        }
        for (Tensor t : tape) {
            Tensor y = t.lastConsumer;
            t.gradPending = y != null && y.a == t && y.b != t && y.c != t
                    && (y.op == Op.MATMUL || y.op == Op.LINEAR || y.op == Op.LINEAR_RELU);
        }
    }

    private static void readBy(Tensor input, Tensor y, long pass) {
        if (input != null && input.backwardPass == pass) input.lastConsumer = y;
    }

    /**
     * dX = dY·Wᵀ into x.grad: added to it, or written over it where x's gradient was left unzeroed for this product
     * ({@link #findOverwrittenGradients}).
     */
    static void inputGradientProduct(Tensor x, int rows, int in, int k, float[] dy, int ldy, float[] wt) {
        if (x.gradPending) {
            x.gradPending = false;
            Gemm.gemmInto(rows, in, k, dy, 0, ldy, 1, wt, 0, in, null, 0, false, x.grad, 0, in);
        } else {
            Gemm.gemm(rows, in, k, dy, 0, ldy, 1, wt, 0, in, x.grad, 0, in);
        }
    }

    /** Zeroes x's gradient if it was left unzeroed for a product that found nothing to write. */
    static void settlePending(Tensor x) {
        if (x.gradPending) {
            x.gradPending = false;
            Arrays.fill(x.grad, 0, x.size(), 0f);
        }
    }

    /** y.grad = 0 wherever y ≤ 0: ReLU's derivative applied in place, as the RELU node's backward pass applies it. */
    static void maskByPositiveOutput(Tensor y, int from, int to) {
        float[] g = y.grad, out = y.data;
        int i = from, upper = from + S.loopBound(to - from);
        for (; i < upper; i += L) {
            var notPositive = FloatVector.fromArray(S, out, i).compare(VectorOperators.GT, 0f).not();
            FloatVector.fromArray(S, g, i).blend(0f, notPositive).intoArray(g, i);
        }
        for (; i < to; i++) if (!(out[i] > 0f)) g[i] = 0f;
    }

    /** out += each row of g[rows, cols], in row order. */
    static void sumRowsInto(float[] g, int rows, int cols, float[] out) {
        for (int r = 0; r < rows; r++) addRow(g, r * cols, out, 0, cols);
    }

    /** dst[to, to + n) += src[from, from + n). */
    static void addRow(float[] src, int from, float[] dst, int to, int n) {
        int i = 0;
        for (int upper = S.loopBound(n); i < upper; i += L) {
            FloatVector.fromArray(S, dst, to + i).add(FloatVector.fromArray(S, src, from + i)).intoArray(dst, to + i);
        }
        for (; i < n; i++) dst[to + i] += src[from + i];
    }

    private static void addInto(float[] dst, float[] src, int n, float scale) {
        for (int i = 0; i < n; i++) dst[i] += scale * src[i];
    }

    private static void concatBackward(Tensor y) {
        int off = 0;
        for (Tensor p : y.parts) {
            if (p.requiresGrad) {
                for (int r = 0; r < y.rows; r++) {
                    int src = r * y.cols + off, dst = r * p.cols;
                    for (int c = 0; c < p.cols; c++) p.grad[dst + c] += y.grad[src + c];
                }
            }
            off += p.cols;
        }
    }

    static void matmulBackward(Tensor y) {
        Tensor x = y.a, w = y.b;
        int batch = x.rows, in = x.cols, out = w.cols;
        if (x.requiresGrad) {
            // dX[B,in] += dY[B,out] · Wᵀ[out,in]; Wᵀ is cached per parameter version.
            inputGradientProduct(x, batch, in, out, y.grad, out, transposeOf(w));
        }
        if (w.requiresGrad) {
            // dW[in,out] += Xᵀ[in,B] · dY[B,out]
            Gemm.gemm(in, out, batch, x.data, 0, 1, in, y.grad, 0, out, w.grad, 0, out);
        }
    }

    static float[] transposeOf(Tensor w) {
        int n = w.rows * w.cols;
        boolean isParam = w.op == Op.LEAF && w.name != null;
        if (isParam && w.transposed != null && w.transposeVersion == w.version && w.transposed.length >= n) {
            return w.transposed;
        }
        w.transposed = ensure(w.transposed, n);
        Gemm.transpose(w.data, w.rows, w.cols, w.transposed);
        w.transposeVersion = isParam ? w.version : -1;
        return w.transposed;
    }
}
