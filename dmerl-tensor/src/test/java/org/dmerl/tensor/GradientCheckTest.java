package org.dmerl.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Finite-difference checks of every {@link Graph} op. The scalar loss is {@code Σ w ⊙ op(inputs)} with fixed random
 * weights {@code w}, so every output element matters. The analytic gradient comes from {@link Graph#backward}; the
 * numeric one from central differences of the float forward, with the weighted sum accumulated in double (so that
 * the unperturbed outputs cancel exactly) and divided by the step actually taken after float rounding.
 */
class GradientCheckTest {

    private static final double H = 1e-3;
    private static final double ABS_TOL = 1e-3;
    private static final double REL_TOL = 1e-2;

    @FunctionalInterface
    interface Fn {
        Tensor apply(Graph g, Tensor[] in);
    }

    // ------------------------------------------------------------------------------------------------ harness

    /** Runs the gradient check; returns the op's output from the analytic pass (values still valid). */
    static float[] gradCheck(String what, Fn f, Tensor... in) {
        return gradCheck(what, H, f, in);
    }

    static float[] gradCheck(String what, double h, Fn f, Tensor... in) {
        Graph g = new Graph();
        g.reset();
        Tensor out = f.apply(g, in);
        float[] outValues = out.toArray();
        Rng rng = new Rng(what.hashCode());
        float[] w = new float[out.size()];
        for (int i = 0; i < w.length; i++) w[i] = (float) rng.gaussian();
        Tensor weights = Tensor.of(out.rows(), out.cols(), w);
        Tensor loss = g.sum(g.mul(out, weights));
        assertEquals(1, loss.size());
        assertTrue(loss.requiresGrad(), what + ": loss should require gradients");

        float[][] gradBefore = new float[in.length][];
        for (int p = 0; p < in.length; p++) {
            in[p].zeroGrad();
            gradBefore[p] = in[p].grad == null ? null : in[p].grad.clone();
        }
        g.backward(loss);

        List<String> errors = new ArrayList<>();
        int compared = 0;
        for (int p = 0; p < in.length; p++) {
            Tensor t = in[p];
            if (!t.requiresGrad()) {
                // Constants and frozen parameters receive nothing.
                if (gradBefore[p] == null) {
                    assertNull(t.grad, what + ": input " + p + " grew a gradient buffer");
                } else {
                    assertArrayEquals(gradBefore[p], t.grad, what + ": input " + p + " (no grad) received gradient");
                }
                continue;
            }
            float[] analytic = t.grad.clone();
            for (int j = 0; j < t.size(); j++) {
                float saved = t.data[j];
                float xp = (float) (saved + h), xm = (float) (saved - h);
                t.data[j] = xp;
                t.touch();
                double lp = weightedLoss(g, f, in, w, out.rows(), out.cols());
                t.data[j] = xm;
                t.touch();
                double lm = weightedLoss(g, f, in, w, out.rows(), out.cols());
                t.data[j] = saved;
                t.touch();
                double numeric = (lp - lm) / ((double) xp - xm);
                double a = analytic[j];
                double tol = ABS_TOL + REL_TOL * Math.max(Math.abs(a), Math.abs(numeric));
                if (!(Math.abs(a - numeric) <= tol)) {
                    errors.add(String.format("input %d %s[%d,%d]: analytic %.6g, numeric %.6g", p, t.shape(),
                            j / t.cols(), j % t.cols(), a, numeric));
                }
                compared++;
            }
        }
        assertTrue(compared > 0, what + ": nothing to compare");
        if (!errors.isEmpty()) {
            fail(what + ": " + errors.size() + " of " + compared + " gradient entries differ, e.g.\n  "
                    + String.join("\n  ", errors.subList(0, Math.min(8, errors.size()))));
        }
        return outValues;
    }

    private static double weightedLoss(Graph g, Fn f, Tensor[] in, float[] w, int rows, int cols) {
        g.reset();
        Tensor out = f.apply(g, in);
        assertEquals(rows, out.rows());
        assertEquals(cols, out.cols());
        double s = 0;
        for (int i = 0; i < w.length; i++) s += (double) w[i] * out.data[i];
        return s;
    }

    private static Tensor param(String name, int rows, int cols, Rng rng, double lo, double hi) {
        Tensor t = Tensor.param(name, rows, cols);
        for (int i = 0; i < t.size(); i++) t.data[i] = (float) rng.uniform(lo, hi);
        return t;
    }

    private static Tensor gaussianParam(String name, int rows, int cols, Rng rng, double std) {
        Tensor t = Tensor.param(name, rows, cols);
        for (int i = 0; i < t.size(); i++) t.data[i] = (float) (std * rng.gaussian());
        return t;
    }

    private static Tensor constant(int rows, int cols, Rng rng, double lo, double hi) {
        Tensor t = Tensor.zeros(rows, cols);
        for (int i = 0; i < t.size(); i++) t.data[i] = (float) rng.uniform(lo, hi);
        return t;
    }

    /** Uniform in [lo, hi] but at least {@code gap} away from every kink. */
    private static Tensor paramAwayFrom(String name, int rows, int cols, Rng rng, double lo, double hi, double gap,
                                        double... kinks) {
        Tensor t = Tensor.param(name, rows, cols);
        for (int i = 0; i < t.size(); i++) {
            double v;
            boolean ok;
            do {
                v = rng.uniform(lo, hi);
                ok = true;
                for (double k : kinks) ok &= Math.abs(v - k) >= gap;
            } while (!ok);
            t.data[i] = (float) v;
        }
        return t;
    }

    // ------------------------------------------------------------------------------------------------ matmul

    @TestFactory
    List<DynamicTest> matmul() {
        int[][] shapes = {
                {3, 5, 1},    // N = 1: forward dot path, dW through the axpy path; M not a multiple of 4
                {1, 5, 1},    // batch 1, N = 1
                {4, 1, 1},    // K = 1, N = 1
                {5, 1, 7},    // K = 1: dX = dY·Wᵀ has N = 1 and takes the dot path
                {6, 70, 1},   // long axpy column (vector part and tail) in dW
                {1, 6, 3},    // batch 1, masked N < vector length
                {6, 4, 5},    // N < 16: masked path only
                {7, 9, 13},   // M % 4 = 3, masked N
                {5, 11, 70},  // N > 64, not a multiple of 64: 4-vector blocks then masked tail
                {9, 20, 33},
                {4, 8, 32},
                {2, 3, 64},   // N a multiple of 64
                {13, 17, 130},
        };
        List<DynamicTest> tests = new ArrayList<>();
        for (int[] s : shapes) {
            int B = s[0], K = s[1], N = s[2];
            String shape = "[" + B + "," + K + "]·[" + K + "," + N + "]";
            tests.add(dynamicTest("matmul " + shape, () -> {
                Rng rng = new Rng(31L * B + 7L * K + N);
                Tensor x = gaussianParam("x", B, K, rng, 1);
                Tensor w = gaussianParam("w", K, N, rng, 1 / Math.sqrt(K));
                float[] y = gradCheck("matmul " + shape, (g, in) -> g.matmul(in[0], in[1]), x, w);
                for (int b = 0; b < B; b++) {
                    for (int n = 0; n < N; n++) {
                        double ref = 0;
                        for (int k = 0; k < K; k++) ref += (double) x.get(b, k) * w.get(k, n);
                        assertEquals(ref, y[b * N + n], 1e-5 * (1 + K), "forward " + shape);
                    }
                }
            }));
            tests.add(dynamicTest("matmul " + shape + " constant x", () -> {
                Rng rng = new Rng(17L * B + K + 5L * N);
                Tensor x = constant(B, K, rng, -1, 1);
                Tensor w = gaussianParam("w", K, N, rng, 1);
                gradCheck("matmul const x " + shape, (g, in) -> g.matmul(in[0], in[1]), x, w);
            }));
            tests.add(dynamicTest("matmul " + shape + " constant w", () -> {
                Rng rng = new Rng(19L * B + K + 3L * N);
                Tensor x = gaussianParam("x", B, K, rng, 1);
                Tensor w = constant(K, N, rng, -1, 1);
                gradCheck("matmul const w " + shape, (g, in) -> g.matmul(in[0], in[1]), x, w);
            }));
        }
        return tests;
    }

    @Test
    void matmulWithSameSquareOperandTwice() {
        Rng rng = new Rng(11);
        Tensor a = gaussianParam("a", 5, 5, rng, 0.7);
        gradCheck("matmul(a, a)", (g, in) -> g.matmul(in[0], in[0]), a);
    }

    @Test
    void matmulOfGraphNodes() {
        Rng rng = new Rng(12);
        Tensor x = gaussianParam("x", 6, 9, rng, 1);
        Tensor w = gaussianParam("w", 9, 4, rng, 0.5);
        // The right operand is a node, so its transpose must not be cached as if it were a parameter.
        gradCheck("matmul(tanh x, sin w)", (g, in) -> g.matmul(g.tanh(in[0]), g.sin(in[1])), x, w);
    }

    @Test
    void linear() {
        Rng rng = new Rng(13);
        Tensor x = gaussianParam("x", 5, 7, rng, 1);
        Tensor w = gaussianParam("w", 7, 3, rng, 0.4);
        Tensor b = gaussianParam("b", 1, 3, rng, 1);
        gradCheck("linear", (g, in) -> g.linear(in[0], in[1], in[2]), x, w, b);
    }

    @Test
    void linearRelu() {
        Rng rng = new Rng(14);
        Tensor x = gaussianParam("x", 5, 7, rng, 1);
        Tensor w = gaussianParam("w", 7, 6, rng, 0.4);
        Tensor b = gaussianParam("b", 1, 6, rng, 1);
        gradCheck("linearRelu", (g, in) -> g.linearRelu(in[0], in[1], in[2]), x, w, b);
    }

    /**
     * Far left of zero GELU's derivative times a small upstream gradient falls below the smallest normal float: those
     * gradients come out as zero, never subnormal, on the vector lanes and the scalar tail, while the others match the
     * derivative computed in double.
     */
    @Test
    void geluGradientNeverSubnormal() {
        int n = 203;
        float upstream = 1e-6f;
        Tensor x = Tensor.param("x", 1, n);
        for (int i = 0; i < n; i++) x.data[i] = -11f + 11f * i / n;   // from −11 up to 0
        Graph g = new Graph();
        g.backward(g.sum(g.mulScalar(g.gelu(x), upstream)));
        int flushed = 0, compared = 0;
        for (int i = 0; i < n; i++) {
            double v = x.data[i], c = Math.sqrt(2 / Math.PI), z = c * (v + 0.044715 * v * v * v);
            // GELU = v·σ(2z): in this form double keeps the far-left derivative, which 1 + tanh z would cancel to 0
            double sig = 1 / (1 + Math.exp(-2 * z)), d = sig + v * sig * (1 - sig) * 2 * c * (1 + 3 * 0.044715 * v * v);
            double expected = upstream * d;
            float got = x.grad[i];
            assertFalse(got != 0f && Math.abs(got) < Float.MIN_NORMAL, "subnormal gradient " + got + " at x = " + v);
            if (Math.abs(expected) < 0.01 * Float.MIN_NORMAL) {
                assertEquals(0f, got, 0f, "at x = " + v);
                flushed++;
            } else if (Math.abs(expected) > 1e-30) {
                assertEquals(expected, got, 1e-4 * Math.abs(expected) + 1e-13, "at x = " + v);
                compared++;
            }
        }
        assertTrue(flushed > 5 && compared > 100, "flushed " + flushed + ", compared " + compared);
    }

    /**
     * A node read by several ops gets the sum of their gradients when a linear layer's product writes its gradient
     * first (over the unzeroed array, Graph.findOverwrittenGradients) and the others add to it afterwards, and when a
     * linear layer reads it first and another op writes first.
     */
    @Test
    void nodeReadBySeveralOpsWhoseFirstGradientWriterIsALinearLayer() {
        Rng rng = new Rng(16);
        Tensor x = gaussianParam("x", 6, 5, rng, 1);
        Tensor w1 = gaussianParam("w1", 5, 7, rng, 0.5), b1 = gaussianParam("b1", 1, 7, rng, 0.5);
        Tensor w2 = gaussianParam("w2", 7, 3, rng, 0.5), b2 = gaussianParam("b2", 1, 3, rng, 0.5);
        Tensor w3 = gaussianParam("w3", 7, 3, rng, 0.5);
        // h's last reader is a linear layer: its product writes h's gradient first, the matmul and tanh add to it
        gradCheck("linear writes first", (g, in) -> {
            Tensor h = g.linearRelu(in[0], in[1], in[2]);
            return g.add(g.add(g.matmul(h, in[5]), g.sumCols(g.tanh(h))), g.linear(h, in[3], in[4]));
        }, x, w1, b1, w2, b2, w3);
        // h's last reader is tanh: the linear layer's product adds to what tanh wrote
        Fn second = (g, in) -> {
            Tensor h = g.linearRelu(in[0], in[1], in[2]);
            return g.add(g.linear(h, in[3], in[4]), g.sumCols(g.tanh(h)));
        };
        gradCheck("linear writes second", second, x, w1, b1, w2, b2, w3);
        // a reused graph's arrays hold the last pass's gradients, which no write may add to
        Fn first = (g, in) -> {
            Tensor h = g.linearRelu(in[0], in[1], in[2]);
            return g.add(g.matmul(h, in[5]), g.linear(h, in[3], in[4]));
        };
        for (Fn f : new Fn[] {first, second}) {
            Tensor[] params = {x, w1, b1, w2, b2, w3};
            Graph g = new Graph();
            float[][] once = null;
            for (int pass = 0; pass < 3; pass++) {
                for (Tensor p : params) java.util.Arrays.fill(p.grad, 0f);
                g.reset();
                g.backward(g.sum(g.square(f.apply(g, params))));
                float[][] grads = new float[params.length][];
                for (int i = 0; i < params.length; i++) grads[i] = params[i].grad.clone();
                if (once == null) once = grads;
                else for (int i = 0; i < params.length; i++) assertArrayEquals(once[i], grads[i], "pass " + pass + ", " + i);
            }
        }
    }

    /** The fused node has the bits of ReLU after linear: values, and every gradient, on the batched panel path too. */
    @Test
    void linearReluIsReluOfLinearBitForBit() {
        Rng rng = new Rng(15);
        for (int[] shape : new int[][] {{5, 7, 6}, {256, 23, 256}, {37, 256, 40}}) {
            int rows = shape[0], in = shape[1], out = shape[2];
            Tensor x = gaussianParam("x", rows, in, rng, 1);
            Tensor w = gaussianParam("w", in, out, rng, 0.3);
            Tensor b = gaussianParam("b", 1, out, rng, 0.5);
            Tensor v = Tensor.zeros(out, 1);
            for (int i = 0; i < out; i++) v.data[i] = (float) rng.gaussian();
            float[][] fused = linearReluPass(true, x, w, b, v), plain = linearReluPass(false, x, w, b, v);
            for (int k = 0; k < fused.length; k++) {
                for (int i = 0; i < fused[k].length; i++) {
                    assertEquals(Float.floatToRawIntBits(plain[k][i]), Float.floatToRawIntBits(fused[k][i]),
                            "shape " + java.util.Arrays.toString(shape) + ", array " + k + ", element " + i);
                }
            }
        }
    }

    /** The output of relu(x·w + b) and the gradients of sum((relu(x·w + b)·v)²) for x, w and b. */
    private static float[][] linearReluPass(boolean fused, Tensor x, Tensor w, Tensor b, Tensor v) {
        for (Tensor t : new Tensor[] {x, w, b}) java.util.Arrays.fill(t.grad, 0f);
        Graph g = new Graph();
        Tensor h = fused ? g.linearRelu(x, w, b) : g.relu(g.linear(x, w, b));
        g.backward(g.sum(g.square(g.matmul(h, v))));
        return new float[][] {h.data.clone(), x.grad.clone(), w.grad.clone(), b.grad.clone()};
    }

    // ------------------------------------------------------------------------------------------------ binary

    private record BinaryOp(String name, DoubleBinaryOperator ref) {}

    private static Tensor binary(Graph g, String op, Tensor a, Tensor b) {
        return switch (op) {
            case "add" -> g.add(a, b);
            case "sub" -> g.sub(a, b);
            case "mul" -> g.mul(a, b);
            case "div" -> g.div(a, b);
            case "min" -> g.min(a, b);
            default -> throw new AssertionError(op);
        };
    }

    @TestFactory
    List<DynamicTest> binaryOpsWithBroadcasting() {
        BinaryOp[] ops = {
                new BinaryOp("add", (x, z) -> (float) x + (float) z),
                new BinaryOp("sub", (x, z) -> (float) x - (float) z),
                new BinaryOp("mul", (x, z) -> (float) x * (float) z),
                new BinaryOp("div", (x, z) -> (float) x / (float) z),
                new BinaryOp("min", (x, z) -> Math.min((float) x, (float) z)),
        };
        int[][][] patterns = {
                {{3, 5}, {3, 5}},
                {{3, 5}, {1, 5}},
                {{3, 5}, {3, 1}},
                {{3, 5}, {1, 1}},
                {{1, 5}, {3, 5}},
                {{3, 1}, {3, 5}},
                {{1, 1}, {3, 5}},
                {{3, 1}, {1, 5}},  // outer broadcast
                {{1, 1}, {1, 1}},
                {{4, 17}, {4, 17}},
        };
        String[] grads = {"both", "a only", "b only"};
        List<DynamicTest> tests = new ArrayList<>();
        for (BinaryOp op : ops) {
            for (int[][] p : patterns) {
                for (String which : grads) {
                    String name = op.name() + " [" + p[0][0] + "," + p[0][1] + "] with [" + p[1][0] + "," + p[1][1]
                            + "], grad " + which;
                    tests.add(dynamicTest(name, () -> checkBinary(name, op, p[0], p[1], which)));
                }
            }
        }
        return tests;
    }

    private static void checkBinary(String name, BinaryOp op, int[] as, int[] bs, String which) {
        Rng rng = new Rng(name.hashCode());
        int rows = Math.max(as[0], bs[0]), cols = Math.max(as[1], bs[1]);
        float[] a = new float[as[0] * as[1]], b = new float[bs[0] * bs[1]];
        // For min, redraw until no broadcast pair is within 0.05 of a tie; for div keep |b| ≥ 0.5.
        boolean ok;
        do {
            for (int i = 0; i < a.length; i++) a[i] = (float) rng.uniform(-2, 2);
            for (int i = 0; i < b.length; i++) {
                b[i] = op.name().equals("div")
                        ? (float) ((rng.nextDouble() < 0.5 ? -1 : 1) * rng.uniform(0.5, 2))
                        : (float) rng.uniform(-2, 2);
            }
            ok = true;
            if (op.name().equals("min")) {
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        ok &= Math.abs(bcast(a, as, r, c) - bcast(b, bs, r, c)) >= 0.05;
                    }
                }
            }
        } while (!ok);
        Tensor ta = which.equals("b only") ? Tensor.of(as[0], as[1], a) : Tensor.param("a", as[0], as[1]);
        Tensor tb = which.equals("a only") ? Tensor.of(bs[0], bs[1], b) : Tensor.param("b", bs[0], bs[1]);
        System.arraycopy(a, 0, ta.data, 0, a.length);
        System.arraycopy(b, 0, tb.data, 0, b.length);
        float[] y = gradCheck(name, (g, in) -> binary(g, op.name(), in[0], in[1]), ta, tb);
        assertEquals(rows * cols, y.length);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double ref = op.ref().applyAsDouble(bcast(a, as, r, c), bcast(b, bs, r, c));
                assertEquals((float) ref, y[r * cols + c], name + " forward at " + r + "," + c);
            }
        }
    }

    private static float bcast(float[] x, int[] shape, int r, int c) {
        return x[(shape[0] == 1 ? 0 : r) * shape[1] + (shape[1] == 1 ? 0 : c)];
    }

    @Test
    void minGivesTiesToTheFirstOperand() {
        Graph g = new Graph();
        Tensor a = Tensor.param("a", 1, 3), b = Tensor.param("b", 1, 3);
        a.data[0] = 1; a.data[1] = 2; a.data[2] = 3;
        b.data[0] = 1; b.data[1] = 1; b.data[2] = 4;
        g.reset();
        g.backward(g.sum(g.min(a, b)));
        assertArrayEquals(new float[] {1, 0, 1}, a.grad);
        assertArrayEquals(new float[] {0, 1, 0}, b.grad);
    }

    // ------------------------------------------------------------------------------------------------ unary

    private record UnaryCase(String name, double lo, double hi, double[] kinks, Fn fn, DoubleUnaryOperator ref) {}

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    private static double softplus(double x) {
        return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    }

    @TestFactory
    List<DynamicTest> unaryOps() {
        double c = Math.sqrt(2 / Math.PI);
        double[] none = {};
        UnaryCase[] cases = {
                new UnaryCase("addScalar", -2, 2, none, (g, in) -> g.addScalar(in[0], 0.7f), x -> x + 0.7),
                new UnaryCase("mulScalar", -2, 2, none, (g, in) -> g.mulScalar(in[0], -1.3f), x -> x * -1.3),
                new UnaryCase("neg", -2, 2, none, (g, in) -> g.neg(in[0]), x -> -x),
                new UnaryCase("clamp", -1.5, 1.5, new double[] {-0.5, 0.8}, (g, in) -> g.clamp(in[0], -0.5f, 0.8f),
                        x -> Math.max(-0.5, Math.min(0.8, x))),
                new UnaryCase("relu", -2, 2, new double[] {0}, (g, in) -> g.relu(in[0]), x -> Math.max(x, 0)),
                new UnaryCase("tanh", -2.5, 2.5, none, (g, in) -> g.tanh(in[0]), Math::tanh),
                new UnaryCase("gelu", -3, 3, none, (g, in) -> g.gelu(in[0]),
                        x -> 0.5 * x * (1 + Math.tanh(c * (x + 0.044715 * x * x * x)))),
                new UnaryCase("silu", -4, 4, none, (g, in) -> g.silu(in[0]), x -> x * sigmoid(x)),
                new UnaryCase("mish", -4, 4, none, (g, in) -> g.mish(in[0]), x -> x * Math.tanh(softplus(x))),
                new UnaryCase("exp", -2, 2, none, (g, in) -> g.exp(in[0]), Math::exp),
                new UnaryCase("log", 0.4, 3, none, (g, in) -> g.log(in[0]), Math::log),
                new UnaryCase("softplus", -4, 4, none, (g, in) -> g.softplus(in[0]), GradientCheckTest::softplus),
                new UnaryCase("square", -2, 2, none, (g, in) -> g.square(in[0]), x -> x * x),
                new UnaryCase("sqrt", 0.4, 3, none, (g, in) -> g.sqrt(in[0]), Math::sqrt),
                new UnaryCase("sigmoid", -5, 5, none, (g, in) -> g.sigmoid(in[0]), GradientCheckTest::sigmoid),
                new UnaryCase("sin", -3, 3, none, (g, in) -> g.sin(in[0]), Math::sin),
                new UnaryCase("cos", -3, 3, none, (g, in) -> g.cos(in[0]), Math::cos),
        };
        // 3 × 21 = 63 elements: full vectors plus a scalar tail for the vectorised ops; [1,1] is all tail.
        int[][] shapes = {{3, 21}, {1, 1}};
        List<DynamicTest> tests = new ArrayList<>();
        for (UnaryCase u : cases) {
            for (int[] s : shapes) {
                String name = u.name() + " [" + s[0] + "," + s[1] + "]";
                tests.add(dynamicTest(name, () -> {
                    Rng rng = new Rng(name.hashCode());
                    Tensor x = paramAwayFrom("x", s[0], s[1], rng, u.lo(), u.hi(), 0.05, u.kinks());
                    float[] y = gradCheck(name, u.fn(), x);
                    for (int i = 0; i < y.length; i++) {
                        double ref = u.ref().applyAsDouble(x.data[i]);
                        assertEquals(ref, y[i], 2e-6 * (1 + Math.abs(ref)), name + " forward at x = " + x.data[i]);
                    }
                }));
            }
        }
        return tests;
    }

    @Test
    void unaryOpsAreStableForLargeInputs() {
        Graph g = new Graph();
        g.reset();
        Tensor x = Tensor.param("x", 1, 4);
        x.data[0] = -60; x.data[1] = -20; x.data[2] = 20; x.data[3] = 60;
        Tensor sp = g.softplus(x), sg = g.sigmoid(x), si = g.silu(x), mi = g.mish(x);
        g.backward(g.sum(g.add(g.add(sp, sg), g.add(si, mi))));
        for (Tensor t : new Tensor[] {sp, sg, si, mi}) {
            for (float v : t.toArray()) assertTrue(Float.isFinite(v), t + " gives " + v);
        }
        for (float v : x.grad) assertTrue(Float.isFinite(v), "gradient " + v);
        assertEquals(60f, sp.data[3], 1e-5f);
        assertEquals(0f, sp.data[0], 1e-20f);
        assertEquals(1f, sg.data[3], 0f);
        assertEquals(0f, sg.data[0], 1e-20f);
    }

    // ------------------------------------------------------------------------------------------------ reductions

    @TestFactory
    List<DynamicTest> reductions() {
        record R(String name, Fn fn, int rows, int cols) {}
        R[] cases = {
                new R("sumRows", (g, in) -> g.sumRows(in[0]), 1, 6),
                new R("sumCols", (g, in) -> g.sumCols(in[0]), 4, 1),
                new R("sum", (g, in) -> g.sum(in[0]), 1, 1),
                new R("meanRows", (g, in) -> g.meanRows(in[0]), 1, 6),
                new R("meanCols", (g, in) -> g.meanCols(in[0]), 4, 1),
                new R("mean", (g, in) -> g.mean(in[0]), 1, 1),
                new R("sum axis 0", (g, in) -> g.sum(in[0], 0), 1, 6),
                new R("sum axis 1", (g, in) -> g.sum(in[0], 1), 4, 1),
                new R("mean axis 0", (g, in) -> g.mean(in[0], 0), 1, 6),
                new R("mean axis 1", (g, in) -> g.mean(in[0], 1), 4, 1),
        };
        List<DynamicTest> tests = new ArrayList<>();
        for (R r : cases) {
            tests.add(dynamicTest(r.name(), () -> {
                Rng rng = new Rng(r.name().hashCode());
                Tensor x = param("x", 4, 6, rng, -2, 2);
                float[] y = gradCheck(r.name(), r.fn(), x);
                assertEquals(r.rows() * r.cols(), y.length);
                boolean mean = r.name().startsWith("mean");
                for (int i = 0; i < y.length; i++) {
                    double s = 0;
                    int n = 0;
                    for (int row = 0; row < 4; row++) {
                        for (int col = 0; col < 6; col++) {
                            boolean in = r.rows() == 1 && r.cols() == 1 || (r.rows() == 1 ? col == i : row == i);
                            if (in) {
                                s += x.get(row, col);
                                n++;
                            }
                        }
                    }
                    assertEquals(mean ? s / n : s, y[i], 1e-5, r.name() + " forward " + i);
                }
            }));
        }
        return tests;
    }

    @Test
    void reductionAxisMustBeZeroOrOne() {
        Graph g = new Graph();
        Tensor x = Tensor.zeros(2, 2);
        assertThrows(IllegalArgumentException.class, () -> g.sum(x, 2));
        assertThrows(IllegalArgumentException.class, () -> g.mean(x, -1));
    }

    // ------------------------------------------------------------------------------------------------ shape ops

    @Test
    void concatThreePartsSomeWithoutGradient() {
        Rng rng = new Rng(21);
        Tensor p1 = param("p1", 3, 2, rng, -1, 1);
        Tensor c = constant(3, 3, rng, -1, 1);
        Tensor p3 = param("p3", 3, 4, rng, -1, 1);
        float[] y = gradCheck("concat(p, const, p)", (g, in) -> g.concat(in[0], in[1], in[2]), p1, c, p3);
        for (int r = 0; r < 3; r++) {
            for (int col = 0; col < 9; col++) {
                float ref = col < 2 ? p1.get(r, col) : col < 5 ? c.get(r, col - 2) : p3.get(r, col - 5);
                assertEquals(ref, y[r * 9 + col]);
            }
        }
        // Only the middle part requires gradients.
        Tensor q1 = constant(3, 2, rng, -1, 1), q2 = param("q2", 3, 3, rng, -1, 1), q3 = constant(3, 4, rng, -1, 1);
        gradCheck("concat(const, p, const)", (g, in) -> g.concat(in[0], in[1], in[2]), q1, q2, q3);
        // Parts that are graph nodes, one of them detached (a stop-gradient part).
        Tensor r1 = param("r1", 2, 3, rng, -1, 1), r2 = param("r2", 2, 1, rng, -1, 1), r3 = param("r3", 2, 5, rng, -1, 1);
        Graph g = new Graph();
        g.reset();
        Tensor y2 = g.concat(g.tanh(r1), g.detach(g.exp(r2)), g.square(r3));
        g.backward(g.sum(y2));
        for (float v : r2.grad) assertEquals(0f, v);
        gradCheck("concat(tanh p, p, square p)", (gg, in) -> gg.concat(gg.tanh(in[0]), in[1], gg.square(in[2])),
                r1, r2, r3);
    }

    @Test
    void concatOfConstantsIsNotTaped() {
        Graph g = new Graph();
        g.reset();
        Tensor y = g.concat(Tensor.zeros(2, 1), g.input(2, 3));
        assertFalse(y.requiresGrad());
        assertThrows(IllegalStateException.class, () -> g.backward(g.sum(y)));
    }

    @Test
    void slice() {
        Rng rng = new Rng(22);
        int[][] ranges = {{0, 3}, {2, 5}, {4, 7}, {0, 7}, {6, 7}};
        for (int[] r : ranges) {
            Tensor x = param("x", 3, 7, rng, -2, 2);
            String name = "slice [" + r[0] + "," + r[1] + ")";
            float[] y = gradCheck(name, (g, in) -> g.slice(in[0], r[0], r[1]), x);
            int cols = r[1] - r[0];
            for (int row = 0; row < 3; row++) {
                for (int c = 0; c < cols; c++) assertEquals(x.get(row, r[0] + c), y[row * cols + c], name);
            }
        }
        // Overlapping slices of one tensor accumulate into it.
        Tensor x = param("x", 2, 6, rng, -2, 2);
        gradCheck("overlapping slices", (g, in) -> g.mul(g.slice(in[0], 0, 4), g.slice(in[0], 2, 6)), x);
    }

    // ------------------------------------------------------------------------------------------------ normalisation

    @Test
    void layerNormGradientsForInputGainAndBias() {
        Rng rng = new Rng(23);
        for (int cols : new int[] {6, 20}) {
            Tensor x = gaussianParam("x", 4, cols, rng, 1.5);
            for (int i = 0; i < cols; i++) x.data[i] += 3; // non-zero row mean
            Tensor gain = param("gain", 1, cols, rng, 0.5, 1.5);
            Tensor bias = gaussianParam("bias", 1, cols, rng, 0.5);
            float[] y = gradCheck("layerNorm cols=" + cols, (g, in) -> g.layerNorm(in[0], in[1], in[2]), x, gain, bias);
            for (int r = 0; r < 4; r++) {
                double mean = 0, var = 0;
                for (int c = 0; c < cols; c++) mean += x.get(r, c);
                mean /= cols;
                for (int c = 0; c < cols; c++) var += (x.get(r, c) - mean) * (x.get(r, c) - mean);
                var /= cols;
                for (int c = 0; c < cols; c++) {
                    double ref = (x.get(r, c) - mean) / Math.sqrt(var + 1e-5) * gain.data[c] + bias.data[c];
                    assertEquals(ref, y[r * cols + c], 1e-5, "layerNorm forward");
                }
            }
        }
        // Constant input, learnable gain and bias only.
        Tensor x = Tensor.zeros(3, 5);
        for (int i = 0; i < x.size(); i++) x.data[i] = (float) rng.gaussian();
        Tensor gain = param("gain", 1, 5, rng, 0.5, 1.5), bias = param("bias", 1, 5, rng, -1, 1);
        gradCheck("layerNorm const x", (g, in) -> g.layerNorm(in[0], in[1], in[2]), x, gain, bias);
        // Frozen gain and bias: the input still gets its gradient.
        Tensor x2 = gaussianParam("x", 3, 5, rng, 1);
        Tensor g2 = param("gain", 1, 5, rng, 0.5, 1.5), b2 = param("bias", 1, 5, rng, -1, 1);
        g2.setRequiresGrad(false);
        b2.setRequiresGrad(false);
        gradCheck("layerNorm frozen affine", (g, in) -> g.layerNorm(in[0], in[1], in[2]), x2, g2, b2);
    }

    @Test
    void logSoftmax() {
        Rng rng = new Rng(24);
        for (int[] s : new int[][] {{3, 5}, {4, 9}, {2, 1}, {1, 2}}) {
            Tensor x = gaussianParam("x", s[0], s[1], rng, 2);
            String name = "logSoftmax [" + s[0] + "," + s[1] + "]";
            float[] y = gradCheck(name, (g, in) -> g.logSoftmax(in[0]), x);
            for (int r = 0; r < s[0]; r++) {
                double lse = 0;
                for (int c = 0; c < s[1]; c++) lse += Math.exp(x.get(r, c));
                lse = Math.log(lse);
                for (int c = 0; c < s[1]; c++) assertEquals(x.get(r, c) - lse, y[r * s[1] + c], 1e-5, name);
            }
        }
        // Large logits must not overflow.
        Graph g = new Graph();
        g.reset();
        Tensor big = Tensor.param("big", 1, 3);
        big.data[0] = 1000; big.data[1] = 999; big.data[2] = -1000;
        Tensor y = g.logSoftmax(big);
        for (float v : y.toArray()) assertTrue(Float.isFinite(v));
        // x − lse is rounded at the scale of 1000 (ulp 6e-5).
        assertEquals(-Math.log1p(Math.exp(-1)), y.data[0], 1e-4);
    }

    // ------------------------------------------------------------------------------------------------ detach

    @Test
    void detachStopsGradient() {
        Rng rng = new Rng(25);
        Tensor x = param("x", 2, 5, rng, -2, 2);
        Graph g = new Graph();
        g.reset();
        Tensor d = g.detach(x);
        assertFalse(d.requiresGrad());
        assertArrayEquals(x.toArray(), d.toArray());
        // d(Σ detach(x)·x)/dx = detach(x) = x, not 2x.
        g.backward(g.sum(g.mul(d, x)));
        assertArrayEquals(x.toArray(), x.grad, 0f);
        // A loss that depends on x only through detach has nothing to back-propagate.
        g.reset();
        Tensor onlyDetached = g.sum(g.square(g.detach(g.tanh(x))));
        assertFalse(onlyDetached.requiresGrad());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> g.backward(onlyDetached));
        assertTrue(e.getMessage().contains("does not depend"), e.getMessage());
    }

    // ------------------------------------------------------------------------------------------------ composites

    @Test
    void twoLayerMlpWithGaussianLogProbLoss() {
        Rng rng = new Rng(26);
        int batch = 5, in = 3, hidden = 8, act = 2;
        Tensor obs = constant(batch, in, rng, -1, 1);
        Tensor target = constant(batch, act, rng, -1, 1);
        Tensor w1 = gaussianParam("w1", in, hidden, rng, 1 / Math.sqrt(in));
        Tensor b1 = gaussianParam("b1", 1, hidden, rng, 0.1);
        Tensor w2 = gaussianParam("w2", hidden, 2 * act, rng, 1 / Math.sqrt(hidden));
        Tensor b2 = gaussianParam("b2", 1, 2 * act, rng, 0.1);
        float halfLog2Pi = (float) (0.5 * Math.log(2 * Math.PI));
        Fn loss = (g, t) -> {
            Tensor h = g.tanh(g.linear(t[0], t[2], t[3]));
            Tensor out = g.linear(h, t[4], t[5]);
            Tensor mu = g.slice(out, 0, act);
            Tensor logStd = g.addScalar(g.mulScalar(g.tanh(g.slice(out, act, 2 * act)), 1.5f), -0.5f);
            Tensor z = g.div(g.sub(t[1], mu), g.exp(logStd));
            Tensor logp = g.addScalar(g.neg(g.add(g.mulScalar(g.square(z), 0.5f), logStd)), -halfLog2Pi);
            return g.neg(g.mean(g.sumCols(logp)));
        };
        gradCheck("MLP gaussian log-prob", 3e-3, loss, obs, target, w1, b1, w2, b2);
    }

    @Test
    void deeperCompositeWithSharedNodes() {
        Rng rng = new Rng(27);
        Tensor x = gaussianParam("x", 4, 6, rng, 1);
        Tensor w = gaussianParam("w", 6, 6, rng, 0.4);
        Tensor gain = param("gain", 1, 6, rng, 0.8, 1.2);
        Tensor bias = gaussianParam("bias", 1, 6, rng, 0.1);
        Fn f = (g, t) -> {
            Tensor h = g.layerNorm(g.matmul(t[0], t[1]), t[2], t[3]);
            Tensor a = g.add(g.silu(h), g.mish(h)); // h feeds two branches
            Tensor b = g.gelu(g.matmul(a, t[1]));    // w used twice
            Tensor c = g.concat(g.logSoftmax(b), g.sigmoid(g.sumCols(a)));
            return g.mul(c, g.softplus(g.meanCols(b)));
        };
        gradCheck("composite", 3e-3, f, x, w, gain, bias);
    }

    // ------------------------------------------------------------------------------------------------ bookkeeping

    @Test
    void frozenParametersGetNoGradientButPassItOn() {
        Rng rng = new Rng(28);
        Tensor x = gaussianParam("x", 3, 4, rng, 1);
        Tensor w = gaussianParam("w", 4, 5, rng, 0.5);
        Tensor b = gaussianParam("b", 1, 5, rng, 0.5);
        Tensor s = param("s", 1, 5, rng, 0.5, 1.5);
        w.setRequiresGrad(false);
        b.setRequiresGrad(false);
        s.setRequiresGrad(false);
        assertNotNull(w.grad);
        Fn f = (g, t) -> g.mul(g.tanh(g.linear(t[0], t[1], t[2])), t[3]);
        // gradCheck asserts the frozen parameters' gradients stay untouched and checks x numerically.
        gradCheck("frozen w, b, s", f, x, w, b, s);
        for (Tensor t : new Tensor[] {w, b, s}) {
            for (float v : t.grad) assertEquals(0f, v, t.name() + " received gradient while frozen");
        }
        float[] xGradFrozen = inputGradient(f, x, w, b, s);

        // Unfrozen, the input gradient is the same and the parameters now receive theirs.
        w.setRequiresGrad(true);
        b.setRequiresGrad(true);
        s.setRequiresGrad(true);
        gradCheck("unfrozen w, b, s", f, x, w, b, s);
        assertArrayEquals(xGradFrozen, inputGradient(f, x, w, b, s), 0f);
        assertTrue(norm(w.grad) > 0 && norm(b.grad) > 0 && norm(s.grad) > 0);

        // Everything frozen: the loss requires no gradient at all.
        x.setRequiresGrad(false);
        w.setRequiresGrad(false);
        b.setRequiresGrad(false);
        s.setRequiresGrad(false);
        Graph g = new Graph();
        g.reset();
        Tensor loss = g.sum(f.apply(g, new Tensor[] {x, w, b, s}));
        assertFalse(loss.requiresGrad());
        assertThrows(IllegalStateException.class, () -> g.backward(loss));
    }

    /** Gradient of Σ f(t) with respect to t[0], all gradients zeroed first. */
    private static float[] inputGradient(Fn f, Tensor... t) {
        for (Tensor p : t) p.zeroGrad();
        Graph g = new Graph();
        g.reset();
        g.backward(g.sum(f.apply(g, t)));
        return t[0].grad.clone();
    }

    private static double norm(float[] v) {
        double s = 0;
        for (float x : v) s += (double) x * x;
        return Math.sqrt(s);
    }

    @Test
    void gradientsAccumulateUnlessZeroed() {
        Rng rng = new Rng(29);
        Tensor x = constant(4, 3, rng, -1, 1);
        Tensor w = gaussianParam("w", 3, 2, rng, 0.5);
        Tensor b = gaussianParam("b", 1, 2, rng, 0.5);
        Graph g = new Graph();
        g.reset();
        Tensor loss = g.sum(g.square(g.tanh(g.linear(x, w, b))));
        g.backward(loss);
        float[] gw = w.grad.clone(), gb = b.grad.clone();
        assertTrue(norm(gw) > 0);

        // Backward again on the same tape, without zeroing: the parameter gradients double.
        g.backward(loss);
        for (int i = 0; i < gw.length; i++) assertEquals(2 * gw[i], w.grad[i], 1e-6f * (1 + Math.abs(gw[i])));
        for (int i = 0; i < gb.length; i++) assertEquals(2 * gb[i], b.grad[i], 1e-6f * (1 + Math.abs(gb[i])));

        // A fresh pass without zeroing accumulates a third time.
        g.reset();
        g.backward(g.sum(g.square(g.tanh(g.linear(x, w, b)))));
        for (int i = 0; i < gw.length; i++) assertEquals(3 * gw[i], w.grad[i], 1e-6f * (1 + Math.abs(gw[i])));

        // Zeroed in between: the same gradient as the first time, bit for bit.
        w.zeroGrad();
        b.zeroGrad();
        g.reset();
        g.backward(g.sum(g.square(g.tanh(g.linear(x, w, b)))));
        assertArrayEquals(gw, w.grad, 0f);
        assertArrayEquals(gb, b.grad, 0f);
    }

    @Test
    void gradDisabledPassIsNotTaped() {
        Rng rng = new Rng(30);
        Tensor x = gaussianParam("x", 2, 3, rng, 1);
        Graph g = new Graph();
        g.reset();
        g.setGradEnabled(false);
        assertFalse(g.gradEnabled());
        Tensor y = g.sum(g.tanh(g.concat(x, x)));
        assertFalse(y.requiresGrad());
        assertThrows(IllegalStateException.class, () -> g.backward(y));
        g.reset();
        assertTrue(g.gradEnabled(), "reset() re-enables gradients");
        assertTrue(g.sum(g.tanh(x)).requiresGrad());
    }
}
