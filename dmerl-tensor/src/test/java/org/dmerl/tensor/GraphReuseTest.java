package org.dmerl.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Node reuse across passes, taping rules and shape errors of {@link Graph}. */
class GraphReuseTest {

    /** A small actor-critic-like network touching most ops. */
    private static final class Net {
        final Tensor w1 = Tensor.param("w1", 5, 16), b1 = Tensor.param("b1", 1, 16);
        final Tensor gain = Tensor.param("gain", 1, 16), bias = Tensor.param("bias", 1, 16);
        final Tensor w2 = Tensor.param("w2", 19, 7), b2 = Tensor.param("b2", 1, 7);
        final List<Tensor> params = List.of(w1, b1, gain, bias, w2, b2);
        final Tensor obs;
        final List<Tensor> nodes = new ArrayList<>();

        Net(int batch, long seed) {
            Rng rng = new Rng(seed);
            Init.lecunNormal(w1, rng);
            Init.uniform(b1, -0.1, 0.1, rng);
            Init.uniform(gain, 0.8, 1.2, rng);
            Init.uniform(bias, -0.1, 0.1, rng);
            Init.orthogonal(w2, 1.0, rng);
            Init.uniform(b2, -0.1, 0.1, rng);
            obs = Tensor.zeros(batch, 5);
            fillObs(obs, rng);
        }

        static void fillObs(Tensor obs, Rng rng) {
            for (int i = 0; i < obs.size(); i++) obs.data[i] = (float) rng.uniform(-1, 1);
        }

        /** Builds the pass and returns the scalar loss; every node made is recorded in {@link #nodes}. */
        Tensor forward(Graph g) {
            nodes.clear();
            int batch = obs.rows();
            Tensor h = rec(g.gelu(rec(g.layerNorm(rec(g.linear(obs, w1, b1)), gain, bias))));
            Tensor extra = rec(g.input(batch, 2));
            for (int i = 0; i < extra.size(); i++) extra.data[i] = 0.25f * (i % 3);
            Tensor hc = rec(g.concat(h, extra, rec(g.detach(rec(g.slice(h, 0, 1))))));
            Tensor out = rec(g.linear(hc, w2, b2));
            Tensor logits = rec(g.slice(out, 0, 4));
            Tensor value = rec(g.slice(out, 4, 7));
            Tensor logp = rec(g.logSoftmax(logits));
            Tensor clipped = rec(g.clamp(value, -1f, 1f));
            Tensor pess = rec(g.min(value, rec(g.full(1, 3, 0.3f))));
            Tensor v = rec(g.add(rec(g.mul(clipped, rec(g.tanh(pess)))), rec(g.exp(rec(g.mulScalar(value, 0.1f))))));
            Tensor a = rec(g.mean(rec(g.sumCols(logp))));
            Tensor b = rec(g.mean(rec(g.square(rec(g.sub(v, rec(g.sigmoid(rec(g.sumRows(value))))))))));
            return rec(g.add(a, b));
        }

        private Tensor rec(Tensor t) {
            nodes.add(t);
            return t;
        }

        float[][] grads() {
            float[][] out = new float[params.size()][];
            for (int i = 0; i < out.length; i++) out[i] = params.get(i).grad.clone();
            return out;
        }

        void zeroGrad() {
            for (Tensor p : params) p.zeroGrad();
        }
    }

    private record Pass(float loss, float[][] grads, List<Tensor> nodes) {}

    private static Pass run(Graph g, Net net) {
        net.zeroGrad();
        g.reset();
        Tensor loss = net.forward(g);
        g.backward(loss);
        return new Pass(loss.item(), net.grads(), List.copyOf(net.nodes));
    }

    private static void assertSameResults(Pass expected, Pass actual) {
        assertEquals(Float.floatToRawIntBits(expected.loss()), Float.floatToRawIntBits(actual.loss()),
                "loss " + expected.loss() + " vs " + actual.loss());
        for (int i = 0; i < expected.grads().length; i++) {
            assertArrayEquals(expected.grads()[i], actual.grads()[i], 0f, "gradient of parameter " + i);
        }
    }

    @Test
    void secondPassAfterResetReusesEveryNodeAndGivesIdenticalResults() {
        Net net = new Net(6, 1);
        Graph g = new Graph();
        Pass first = run(g, net);
        int pool = g.poolSize();
        assertTrue(pool >= first.nodes().size(), "pool " + pool + " < nodes " + first.nodes().size());
        Pass second = run(g, net);
        assertEquals(pool, g.poolSize(), "second pass allocated nodes");
        assertSameResults(first, second);
        for (int i = 0; i < first.nodes().size(); i++) {
            assertSame(first.nodes().get(i), second.nodes().get(i), "node " + i + " was not reused");
        }
        // A fresh graph computes the same thing.
        assertSameResults(first, run(new Graph(), net));
    }

    @Test
    void manyPassesStayDeterministicAndAllocationFree() {
        // Enough passes for the JIT to compile the kernels: results must not change with compilation tier.
        Net net = new Net(9, 2);
        Graph g = new Graph();
        Pass first = run(g, net);
        int pool = g.poolSize();
        for (int i = 0; i < 400; i++) {
            Pass p = run(g, net);
            if (i % 50 == 49) assertSameResults(first, p);
        }
        assertEquals(pool, g.poolSize());
    }

    @Test
    void smallerAndLargerBatchesReuseNodesAndMatchAFreshGraph() {
        Net net = new Net(8, 3);
        Graph g = new Graph();
        run(g, net);
        int pool = g.poolSize();
        Rng rng = new Rng(4);
        for (int batch : new int[] {3, 1, 8, 37, 5}) {
            net.obs.reshapeInput(batch, 5);
            Net.fillObs(net.obs, rng);
            Pass reused = run(g, net);
            assertEquals(pool, g.poolSize(), "batch " + batch);
            assertEquals(batch, reused.nodes().get(0).rows());
            Pass fresh = run(new Graph(), net);
            assertSameResults(fresh, reused);
        }
    }

    @Test
    void matmulBackwardSeesParameterUpdates() {
        // dX uses a cached transpose of W, which must be invalidated when W changes (touch, copyFrom, Adam, Init).
        Rng rng = new Rng(5);
        Tensor x = Tensor.param("x", 3, 4);
        Tensor w = Tensor.param("w", 4, 6);
        Init.uniform(x, -1, 1, rng);
        Init.uniform(w, -1, 1, rng);
        Graph g = new Graph();
        Adam adam = new Adam(List.of(w), 0.1f);
        for (int step = 0; step < 4; step++) {
            x.zeroGrad();
            w.zeroGrad();
            g.reset();
            g.backward(g.sum(g.square(g.matmul(x, w))));
            float[] reused = x.grad.clone();
            // Reference dX = 2·(x·w)·wᵀ computed directly.
            for (int r = 0; r < 3; r++) {
                for (int k = 0; k < 4; k++) {
                    double s = 0;
                    for (int n = 0; n < 6; n++) {
                        double y = 0;
                        for (int j = 0; j < 4; j++) y += (double) x.get(r, j) * w.get(j, n);
                        s += 2 * y * w.get(k, n);
                    }
                    assertEquals(s, reused[r * 4 + k], 1e-4 * (1 + Math.abs(s)), "step " + step);
                }
            }
            switch (step) {
                case 0 -> adam.step();
                case 1 -> {
                    Tensor other = Tensor.zeros(4, 6);
                    Init.uniform(other, -1, 1, rng);
                    w.copyFrom(other);
                }
                case 2 -> {
                    w.data[5] += 1;
                    w.touch();
                }
                default -> { }
            }
        }
    }

    // ---------------------------------------------------------------- taping

    @Test
    void nodesWithoutGradientAreNotTaped() {
        Graph g = new Graph();
        g.reset();
        Tensor c = Tensor.of(2, 2, 1, 2, 3, 4);
        Tensor p = Tensor.param("p", 2, 2);
        assertFalse(g.tanh(c).requiresGrad());
        assertFalse(g.matmul(c, c).requiresGrad());
        assertFalse(g.add(g.input(2, 2), c).requiresGrad());
        assertTrue(g.mul(c, p).requiresGrad());
        assertTrue(g.matmul(c, p).requiresGrad());
        Tensor loss = g.sum(g.mul(g.exp(c), g.full(2, 2, 2f)));
        assertFalse(loss.requiresGrad());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> g.backward(loss));
        assertTrue(e.getMessage().contains("loss does not depend on any parameter"), e.getMessage());

        // Frozen parameter only.
        p.setRequiresGrad(false);
        g.reset();
        Tensor frozenLoss = g.sum(g.square(p));
        assertFalse(frozenLoss.requiresGrad());
        assertThrows(IllegalStateException.class, () -> g.backward(frozenLoss));

        // A reused node that required gradients in the previous pass does not in this one.
        p.setRequiresGrad(true);
        g.reset();
        Tensor t1 = g.tanh(p);
        assertTrue(t1.requiresGrad());
        g.reset();
        Tensor t2 = g.tanh(c);
        assertSame(t1, t2);
        assertFalse(t2.requiresGrad());
    }

    @Test
    void untapedBranchesDoNotDisturbGradients() {
        // Mixing constant-only sub-expressions into a taped loss must not change the parameter gradient.
        Tensor p = Tensor.param("p", 1, 3);
        p.data[0] = 0.5f; p.data[1] = -1f; p.data[2] = 2f;
        Graph g = new Graph();
        g.reset();
        Tensor constBranch = g.exp(g.full(1, 3, 0.5f));
        g.backward(g.sum(g.mul(p, constBranch)));
        for (float v : p.grad) assertEquals((float) Math.exp(0.5), v, 1e-6f);
    }

    // ---------------------------------------------------------------- shape errors

    private static void assertIllegalArgument(Executable e, String... fragments) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        for (String f : fragments) {
            assertTrue(ex.getMessage() != null && ex.getMessage().contains(f),
                    "message '" + ex.getMessage() + "' should contain '" + f + "'");
        }
    }

    @Test
    void shapeErrorsNameTheShapes() {
        Graph g = new Graph();
        g.reset();
        Tensor a23 = Tensor.zeros(2, 3), a45 = Tensor.zeros(4, 5), a33 = Tensor.zeros(3, 3), a24 = Tensor.zeros(2, 4);
        Tensor a31 = Tensor.zeros(3, 1);

        assertIllegalArgument(() -> g.matmul(a23, a45), "matmul", "[2, 3]", "[4, 5]");
        assertIllegalArgument(() -> g.matmul(a23, a23), "[2, 3]");

        assertIllegalArgument(() -> g.add(a23, a33), "add", "[2, 3]", "[3, 3]", "rows");
        assertIllegalArgument(() -> g.sub(a23, a24), "sub", "[2, 3]", "[2, 4]", "cols");
        assertIllegalArgument(() -> g.mul(a33, a23), "mul", "[3, 3]", "[2, 3]");
        assertIllegalArgument(() -> g.div(a24, a23), "div", "[2, 4]", "[2, 3]");
        assertIllegalArgument(() -> g.min(a31, a23), "min", "[3, 1]", "[2, 3]");

        assertIllegalArgument(() -> g.slice(a23, 2, 5), "slice", "[2, 5)", "[2, 3]");
        assertIllegalArgument(() -> g.slice(a23, -1, 2), "[2, 3]");
        assertIllegalArgument(() -> g.slice(a23, 2, 2), "[2, 3]");

        assertIllegalArgument(() -> g.concat(a23, a31), "concat", "[2, 3]", "[3, 1]");
        assertIllegalArgument(() -> g.concat(a23, a24, a33), "[2, 3]", "[3, 3]");
        assertIllegalArgument(g::concat);

        assertIllegalArgument(() -> g.layerNorm(a23, Tensor.zeros(1, 2), Tensor.zeros(1, 3)), "[1, 2]", "[1, 3]");
        assertIllegalArgument(() -> g.layerNorm(a23, Tensor.zeros(1, 3), Tensor.zeros(2, 3)), "[2, 3]");
        assertIllegalArgument(() -> g.clamp(a23, 1f, -1f), "clamp");
        assertIllegalArgument(() -> g.input(0, 3), "[0, 3]");

        assertIllegalArgument(() -> Tensor.zeros(0, 1), "[0, 1]");
        assertIllegalArgument(() -> Tensor.of(2, 2, 1, 2, 3), "[2, 2]", "3");
        assertIllegalArgument(() -> a23.copyFrom(a24), "[2, 3]", "[2, 4]");
        assertIllegalArgument(() -> a23.reshapeInput(-1, 3));
        IllegalStateException e = assertThrows(IllegalStateException.class, a23::item);
        assertTrue(e.getMessage().contains("[2, 3]"), e.getMessage());
    }

    @Test
    void shapeErrorsLeaveTheGraphUsable() {
        Graph g = new Graph();
        g.reset();
        Tensor p = Tensor.param("p", 2, 3);
        p.data[0] = 1;
        assertThrows(IllegalArgumentException.class, () -> g.matmul(p, p));
        Tensor loss = g.sum(g.square(p));
        g.backward(loss);
        assertEquals(2f, p.grad[0]);
    }
}
