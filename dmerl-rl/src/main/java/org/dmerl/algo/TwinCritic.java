package org.dmerl.algo;

import java.util.List;

import org.dmerl.nn.Activation;
import org.dmerl.nn.Linear;
import org.dmerl.nn.Mlp;
import org.dmerl.nn.Module;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;

/**
 * Two independent Q networks (clipped double-Q, Fujimoto et al. 2018) over an input built from (observation, action):
 * concat(obs, action) by default.
 */
public final class TwinCritic implements Module {

    /** Builds the critic's input row from observation and action rows; {@link #width} is its width. */
    public interface Input {
        Tensor build(Graph g, Tensor obs, Tensor action);

        int width(int obsDim, int actDim);

        Input CONCAT = new Input() {
            @Override public Tensor build(Graph g, Tensor obs, Tensor action) { return g.concat(obs, action); }
            @Override public int width(int obsDim, int actDim) { return obsDim + actDim; }
        };

        /**
         * For the diffusion-augmented MDP, observations (s, x_k, onehot(k)) and action x_{k+1}: the latents enter
         * squashed, (s, tanh x_k, onehot(k), tanh x_{k+1}). tanh is what turns a latent into an action; on raw,
         * unbounded latents a critic extrapolates linearly and its gradient drives the actor's latents to ±∞.
         */
        static Input squashedLatents(int stateDim, int latentDim) {
            return new Input() {
                @Override
                public Tensor build(Graph g, Tensor obs, Tensor action) {
                    return g.concat(g.slice(obs, 0, stateDim), g.tanh(g.slice(obs, stateDim, stateDim + latentDim)),
                            g.slice(obs, stateDim + latentDim, obs.cols()), g.tanh(action));
                }

                @Override
                public int width(int obsDim, int actDim) {
                    return obsDim + actDim;
                }
            };
        }
    }

    public final Mlp q1, q2;
    private final Input input;

    public TwinCritic(String name, int obsDim, int actDim, int[] hidden, Activation activation, Rng rng) {
        this(name, obsDim, actDim, hidden, activation, Input.CONCAT, rng);
    }

    public TwinCritic(String name, int obsDim, int actDim, int[] hidden, Activation activation, Input input, Rng rng) {
        this.input = input;
        int in = input.width(obsDim, actDim);
        q1 = new Mlp(name + ".q1", in, hidden, 1, activation, Linear.WeightInit.TORCH_DEFAULT, false, rng);
        q2 = new Mlp(name + ".q2", in, hidden, 1, activation, Linear.WeightInit.TORCH_DEFAULT, false, rng);
    }

    public record Values(Tensor q1, Tensor q2) {}

    public Values forward(Graph g, Tensor obs, Tensor action) {
        Tensor x = input.build(g, obs, action);
        return new Values(q1.forward(g, x), q2.forward(g, x));
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
