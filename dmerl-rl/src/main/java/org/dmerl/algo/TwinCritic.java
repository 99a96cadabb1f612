package org.dmerl.algo;

import java.util.List;

import org.dmerl.nn.Activation;
import org.dmerl.nn.Linear;
import org.dmerl.nn.Mlp;
import org.dmerl.nn.Module;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;

/** Two independent Q networks over concat(observation, action) (clipped double-Q, Fujimoto et al. 2018). */
public final class TwinCritic implements Module {

    public final Mlp q1, q2;

    public TwinCritic(String name, int obsDim, int actDim, int[] hidden, Activation activation, Rng rng) {
        q1 = new Mlp(name + ".q1", obsDim + actDim, hidden, 1, activation, Linear.WeightInit.TORCH_DEFAULT, false, rng);
        q2 = new Mlp(name + ".q2", obsDim + actDim, hidden, 1, activation, Linear.WeightInit.TORCH_DEFAULT, false, rng);
    }

    public record Values(Tensor q1, Tensor q2) {}

    public Values forward(Graph g, Tensor obs, Tensor action) {
        Tensor input = g.concat(obs, action);
        return new Values(q1.forward(g, input), q2.forward(g, input));
    }

    public Tensor min(Graph g, Tensor obs, Tensor action) {
        Values v = forward(g, obs, action);
        return g.min(v.q1(), v.q2());
    }

    @Override
    public List<Tensor> parameters() {
        return Module.concat(q1, q2);
    }
}
