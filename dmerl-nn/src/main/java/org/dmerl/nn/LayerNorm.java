package org.dmerl.nn;

import java.util.List;

import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Init;
import org.dmerl.tensor.Tensor;

/** Layer normalisation over features with a learnable gain (init 1) and bias (init 0). */
public final class LayerNorm implements Module {

    public final Tensor gain, bias;

    public LayerNorm(String name, int features) {
        gain = Tensor.param(name + ".g", 1, features);
        bias = Tensor.param(name + ".b", 1, features);
        Init.constant(gain, 1f);
    }

    public Tensor forward(Graph g, Tensor x) {
        return g.layerNorm(x, gain, bias);
    }

    @Override
    public List<Tensor> parameters() {
        return List.of(gain, bias);
    }
}
