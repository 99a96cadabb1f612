package org.dmerl.nn;

import java.util.List;

import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Init;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;

/** y = x·W + b with W of shape [in, out]. */
public final class Linear implements Module {

    /** How the weights start. */
    public enum WeightInit { TORCH_DEFAULT, LECUN_NORMAL, KAIMING_NORMAL, ORTHOGONAL }

    public final Tensor weight, bias;

    public Linear(String name, int in, int out, WeightInit init, Rng rng) {
        if (in <= 0 || out <= 0) throw new IllegalArgumentException("Linear " + name + ": bad size " + in + "→" + out);
        weight = Tensor.param(name + ".w", in, out);
        bias = Tensor.param(name + ".b", 1, out);
        switch (init) {
            case TORCH_DEFAULT -> {
                Init.torchDefault(weight, in, rng);
                Init.torchDefault(bias, in, rng);
            }
            case LECUN_NORMAL -> Init.lecunNormal(weight, rng);
            case KAIMING_NORMAL -> Init.kaimingNormal(weight, rng);
            case ORTHOGONAL -> Init.orthogonal(weight, Math.sqrt(2), rng);
        }
    }

    public int in() { return weight.rows(); }
    public int out() { return weight.cols(); }

    public Tensor forward(Graph g, Tensor x) {
        return g.linear(x, weight, bias);
    }

    /** relu(x · W + b) as one graph node ({@link Graph#linearRelu}): the same values as ReLU after {@link #forward}. */
    public Tensor forwardRelu(Graph g, Tensor x) {
        return g.linearRelu(x, weight, bias);
    }

    @Override
    public List<Tensor> parameters() {
        return List.of(weight, bias);
    }
}
