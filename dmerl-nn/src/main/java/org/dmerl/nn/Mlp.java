package org.dmerl.nn;

import java.util.ArrayList;
import java.util.List;

import org.dmerl.tensor.AlignedFloats;
import org.dmerl.tensor.Elementwise;
import org.dmerl.tensor.Gemm;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Init;
import org.dmerl.tensor.Parallel;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;

/** A multi-layer perceptron: Linear → [LayerNorm] → activation for each hidden layer, then a linear output. */
public final class Mlp implements Module {

    private final Linear[] layers;
    private final LayerNorm[] norms;
    private final Activation activation;

    public Mlp(String name, int in, int[] hidden, int out, Activation activation, Linear.WeightInit init,
               boolean layerNorm, Rng rng) {
        this.activation = activation;
        layers = new Linear[hidden.length + 1];
        norms = new LayerNorm[hidden.length];
        int prev = in;
        for (int i = 0; i < hidden.length; i++) {
            layers[i] = new Linear(name + ".l" + i, prev, hidden[i], init, rng);
            norms[i] = layerNorm ? new LayerNorm(name + ".ln" + i, hidden[i]) : null;
            prev = hidden[i];
        }
        layers[hidden.length] = new Linear(name + ".out", prev, out, init, rng);
    }

    public Tensor forward(Graph g, Tensor x) {
        Tensor h = x;
        for (int i = 0; i < layers.length - 1; i++) {
            if (norms[i] == null && activation == Activation.RELU) {
                h = layers[i].forwardRelu(g, h);
                continue;
            }
            h = layers[i].forward(g, h);
            if (norms[i] != null) h = norms[i].forward(g, h);
            h = activation.apply(g, h);
        }
        return layers[layers.length - 1].forward(g, h);
    }

    /**
     * The values of {@link #forward} for one input row, without a graph and without allocating once warm: for acting
     * at batch 1, where a diffusion policy runs the network K times per environment step. Weights are read from a
     * panel-packed copy ({@link Gemm#packPanels}) refreshed whenever a weight's version changes. The first layer's
     * products over {@linkplain #recurringRowInput recurring input blocks} are reused, and an output layer of at most
     * one vector's width sums k in eight chains ({@link Gemm#matvecNarrow}), so the values agree with
     * {@link #forward}'s to rounding, not bit for bit. With two compute threads ({@link Parallel}) each layer's panels
     * are split between them; that changes no bit, since every output column is computed the same way by whichever
     * thread owns it. Not thread-safe.
     */
    public void forwardRow(float[] in, float[] out) {
        if (rowPass == null) rowPass = new RowPass();
        rowPass.run(in, out);
    }

    /**
     * Declares inputs [from, to) a block whose values recur between {@link #forwardRow} calls (a diffusion policy's
     * state during the K steps of one action, or the time embedding of step k): its first-layer product is kept for
     * the last {@code slots} distinct values of the block and reused when exactly those values come again.
     */
    public Mlp recurringRowInput(int from, int to, int slots) {
        if (from < 0 || to > in() || from >= to || slots < 1) {
            throw new IllegalArgumentException("recurringRowInput: block [" + from + ", " + to + ") with " + slots
                    + " slots does not fit an input of " + in());
        }
        for (int[] b : recurring) {
            if (from < b[1] && b[0] < to) throw new IllegalArgumentException("recurringRowInput: block [" + from + ", "
                    + to + ") overlaps [" + b[0] + ", " + b[1] + ")");
        }
        recurring.add(new int[] {from, to, slots});
        recurring.sort(java.util.Comparator.comparingInt(b -> b[0]));
        rowPass = null;
        return this;
    }

    private final List<int[]> recurring = new ArrayList<>();
    /**
     * Layers with fewer multiply-adds than this stay on the calling thread in {@link #forwardRow}: handing half of a
     * layer to the second thread and waiting for it costs more than it saves. On the AMD VM with 512 KB of L2 per core
     * a 256 × 256 layer gained from the split (each core then streamed half the weights from its own L2), so the bar
     * was 16 384; on the Intel VM with 2 MB of L2 and cache-line-aligned packed weights the K = 8 sample took 40.5–42.6
     * µs with its 256 × 256 layers split and 38.4–39.9 µs without, against 36.8–38.4 µs on one thread.
     */
    private static final long SPLIT_MIN_PRODUCTS = 1L << 17;
    private RowPass rowPass;

    /**
     * Rows [k0, k1) of the first layer's weights, packed, with the product of the last values seen in those inputs:
     * {@code slots} of them for a recurring block, none for inputs that change every call.
     */
    private static final class InputBlock {
        final int k0, k1;
        final float[] weights;
        final AlignedFloats packed;
        final float[][] keys, products;
        final float[] fresh;
        int filled, next, current;
        boolean computeCurrent;

        InputBlock(int k0, int k1, int slots, int width) {
            this.k0 = k0;
            this.k1 = k1;
            weights = new float[(k1 - k0) * width];
            packed = new AlignedFloats(Gemm.packedSize(k1 - k0, width));
            keys = new float[slots][k1 - k0];
            products = new float[slots][width];
            fresh = slots == 0 ? new float[width] : null;
        }

        void repack(Linear layer) {
            int width = layer.out();
            System.arraycopy(layer.weight.data, k0 * width, weights, 0, weights.length);
            Gemm.packPanels(weights, k1 - k0, width, packed);
            filled = 0;
        }

        /** Picks the product for this call's inputs: a kept one whose values match, else a slot to compute into. */
        void select(float[] in) {
            if (fresh != null) {
                computeCurrent = true;
                return;
            }
            int n = k1 - k0;
            for (int j = 0; j < filled; j++) {
                int slot = (current + 1 + j) % filled;
                if (java.util.Arrays.equals(in, k0, k1, keys[slot], 0, n)) {
                    current = slot;
                    computeCurrent = false;
                    return;
                }
            }
            if (filled < keys.length) {
                current = filled++;
            } else {
                current = next;
                next = (next + 1) % keys.length;
            }
            System.arraycopy(in, k0, keys[current], 0, n);
            computeCurrent = true;
        }

        /** Columns [n0, n1) of this call's product, computed now if {@link #select} found none kept. */
        float[] product(float[] in, int width, int n0, int n1) {
            float[] p = fresh != null ? fresh : products[current];
            if (computeCurrent) {
                java.util.Arrays.fill(p, n0, n1, 0f);
                Gemm.matvecPacked(in, k0, k1 - k0, width, packed, weights, p, 0, n0, n1);
            }
            return p;
        }
    }

    /** Packed weights, activation buffers and the two halves of a split layer for {@link #forwardRow}. */
    private final class RowPass {
        final AlignedFloats[] packed = new AlignedFloats[layers.length];
        final long[] versions = new long[layers.length];
        final float[] a, b;
        final Graph normGraph = new Graph();
        /** The first layer's inputs cut at the recurring blocks; empty when there are none. */
        final InputBlock[] blocks;
        final boolean narrowOutput;
        // the layer both threads are working on
        int layer, split;
        float[] x, y;
        final Runnable lowerHalf = () -> columns(layer, x, y, 0, split);
        final Runnable upperHalf = () -> columns(layer, x, y, split, layers[layer].out());

        RowPass() {
            narrowOutput = outputLayer().out() <= Gemm.NARROW;
            // a first layer that is also a narrow output layer takes the narrow path, which has no blocks
            List<InputBlock> cut = new ArrayList<>();
            if (!recurring.isEmpty() && !(layers.length == 1 && narrowOutput)) {
                int at = 0, width0 = layers[0].out();
                for (int[] r : recurring) {
                    if (r[0] > at) cut.add(new InputBlock(at, r[0], 0, width0));
                    cut.add(new InputBlock(r[0], r[1], r[2], width0));
                    at = r[1];
                }
                if (at < in()) cut.add(new InputBlock(at, in(), 0, width0));
            }
            blocks = cut.toArray(new InputBlock[0]);
            int width = 0;
            for (int i = 0; i < layers.length; i++) {
                Linear l = layers[i];
                if (i == layers.length - 1 && narrowOutput) packed[i] = new AlignedFloats(Gemm.narrowPackedSize(l.in()));
                else if (i > 0 || blocks.length == 0) packed[i] = new AlignedFloats(Gemm.packedSize(l.in(), l.out()));
                versions[i] = -1;
                width = Math.max(width, l.out());
            }
            a = new float[width];
            b = new float[width];
            normGraph.setGradEnabled(false);
        }

        void run(float[] in, float[] out) {
            if (in.length < in()) throw new IllegalArgumentException("forwardRow: input of " + in.length + " < " + in());
            x = in;
            y = a;
            for (int i = 0; i < layers.length; i++) {
                Linear l = layers[i];
                boolean last = i == layers.length - 1;
                if (l.weight.version() != versions[i]) {
                    if (last && narrowOutput) Gemm.packNarrow(l.weight.data, l.in(), l.out(), packed[i]);
                    else if (i == 0 && blocks.length > 0) for (InputBlock block : blocks) block.repack(l);
                    else Gemm.packPanels(l.weight.data, l.in(), l.out(), packed[i]);
                    versions[i] = l.weight.version();
                }
                long products = (long) l.in() * l.out();
                if (i == 0 && blocks.length > 0) {
                    products = 0;
                    for (InputBlock block : blocks) {
                        block.select(in);
                        if (block.computeCurrent) products += (long) (block.k1 - block.k0) * l.out();
                    }
                }
                if (last) y = out;
                layer = i;
                int panels = l.out() / Gemm.PANEL;
                if (Parallel.threads() > 1 && panels >= 2 && products >= SPLIT_MIN_PRODUCTS) {
                    split = panels / 2 * Gemm.PANEL;
                    Parallel.run(lowerHalf, upperHalf);
                } else {
                    columns(i, x, y, 0, l.out());
                }
                if (last) return;
                if (norms[i] != null) {
                    normalise(norms[i], y, l.out());
                    activate(y, 0, l.out());
                }
                x = y;
                y = y == a ? b : a;
            }
        }

        /** Output columns [n0, n1) of layer i: bias, product, and the activation when no LayerNorm sits between. */
        private void columns(int i, float[] x, float[] y, int n0, int n1) {
            Linear l = layers[i];
            boolean last = i == layers.length - 1;
            System.arraycopy(l.bias.data, n0, y, n0, n1 - n0);
            if (last && narrowOutput) {
                Gemm.matvecNarrow(x, 0, l.in(), l.out(), packed[i], y, 0);
            } else if (i == 0 && blocks.length > 0) {
                for (InputBlock block : blocks) Elementwise.addTo(block.product(x, l.out(), n0, n1), y, n0, n1);
            } else {
                Gemm.matvecPacked(x, 0, l.in(), l.out(), packed[i], l.weight.data, y, 0, n0, n1);
            }
            if (!last && norms[i] == null) activate(y, n0, n1);
        }

        private void normalise(LayerNorm norm, float[] v, int n) {
            normGraph.reset();
            Tensor t = normGraph.input(1, n);
            System.arraycopy(v, 0, t.data, 0, n);
            System.arraycopy(norm.forward(normGraph, t).data, 0, v, 0, n);
        }

        private void activate(float[] v, int from, int to) {
            switch (activation) {
                case RELU -> Elementwise.relu(v, v, from, to);
                case TANH -> Elementwise.tanh(v, v, from, to);
                case GELU -> Elementwise.gelu(v, v, from, to);
                case SILU -> Elementwise.silu(v, v, from, to);
                case MISH -> Elementwise.mish(v, v, from, to);
                case IDENTITY -> { }
            }
        }
    }

    public Linear outputLayer() {
        return layers[layers.length - 1];
    }

    /** Multiplies the output layer's weights by {@code factor} and zeroes its bias (near-zero initial outputs). */
    public Mlp scaleOutput(float factor) {
        Init.scale(outputLayer().weight, factor);
        Init.constant(outputLayer().bias, 0f);
        return this;
    }

    public int in() { return layers[0].in(); }
    public int out() { return outputLayer().out(); }

    @Override
    public List<Tensor> parameters() {
        List<Tensor> ps = new ArrayList<>();
        for (int i = 0; i < layers.length; i++) {
            ps.addAll(layers[i].parameters());
            if (i < norms.length && norms[i] != null) ps.addAll(norms[i].parameters());
        }
        return ps;
    }
}
