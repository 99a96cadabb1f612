package org.dmerl.nn;

import java.util.ArrayList;
import java.util.List;

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
            h = layers[i].forward(g, h);
            if (norms[i] != null) h = norms[i].forward(g, h);
            h = activation.apply(g, h);
        }
        return layers[layers.length - 1].forward(g, h);
    }

    /**
     * The same values as {@link #forward} for one input row, without a graph and without allocating once warm: for
     * acting at batch 1, where a diffusion policy runs the network K times per environment step. Weights are read from
     * a panel-packed copy ({@link Gemm#packPanels}) refreshed whenever a weight's version changes. With two compute
     * threads ({@link Parallel}) each layer's panels are split between them; the values do not change, since every
     * output column is computed the same way by whichever thread owns it. Not thread-safe.
     */
    public void forwardRow(float[] in, float[] out) {
        if (rowPass == null) rowPass = new RowPass();
        rowPass.run(in, out);
    }

    private RowPass rowPass;

    /** Packed weights, activation buffers and the two halves of a split layer for {@link #forwardRow}. */
    private final class RowPass {
        final float[][] packed = new float[layers.length][];
        final long[] versions = new long[layers.length];
        final float[] a, b;
        final Graph normGraph = new Graph();
        // the layer both threads are working on
        int layer, split;
        float[] x, y;
        final Runnable lowerHalf = () -> columns(layer, x, y, 0, split);
        final Runnable upperHalf = () -> columns(layer, x, y, split, layers[layer].out());

        RowPass() {
            int width = 0;
            for (int i = 0; i < layers.length; i++) {
                Linear l = layers[i];
                packed[i] = new float[Gemm.packedSize(l.in(), l.out())];
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
                if (l.weight.version() != versions[i]) {
                    Gemm.packPanels(l.weight.data, l.in(), l.out(), packed[i]);
                    versions[i] = l.weight.version();
                }
                boolean last = i == layers.length - 1;
                if (last) y = out;
                layer = i;
                int panels = l.out() / Gemm.PANEL;
                if (Parallel.threads() > 1 && panels >= 2) {
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
            System.arraycopy(l.bias.data, n0, y, n0, n1 - n0);
            Gemm.matvecPacked(x, 0, l.in(), l.out(), packed[i], l.weight.data, y, 0, n0, n1);
            if (i < layers.length - 1 && norms[i] == null) activate(y, n0, n1);
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
