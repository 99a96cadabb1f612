package org.dmerl.nn;

import java.util.ArrayList;
import java.util.List;

import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Init;
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
