package org.dmerl.algo;

import java.util.List;

import org.dmerl.nn.HlGauss;
import org.dmerl.nn.Mlp;
import org.dmerl.nn.Module;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Tensor;

/**
 * PPO's state-value function V(s) (V(s, x_k, k) on the augmented MDP), in the form {@code value_head} picks:
 * {@link Scalar}, one network output trained by (clipped) squared error as in CleanRL, or {@link Categorical}, logits
 * over fixed bins read through HL-Gauss and trained by cross-entropy (spec §3, use_categorical_value). The trainer
 * only asks for values; {@link Ppo#loss} builds each form's loss.
 */
public sealed interface ValueFunction extends Module {

    /** The network: its one output is V, or its outputs are the logits over the bins. */
    Mlp net();

    /** V of every row of {@code obs}, [rows, 1]. */
    Tensor values(Graph g, Tensor obs);

    @Override
    default List<Tensor> parameters() {
        return net().parameters();
    }

    record Scalar(Mlp net) implements ValueFunction {
        public Scalar {
            if (net.out() != 1) {
                throw new IllegalArgumentException("a scalar value network has 1 output, got " + net.out());
            }
        }

        @Override
        public Tensor values(Graph g, Tensor obs) {
            return net.forward(g, obs);
        }
    }

    /** V = softmax(logits)·centres of {@code support}; trained towards HLGauss(R). */
    record Categorical(Mlp net, HlGauss support) implements ValueFunction {
        public Categorical {
            if (net.out() != support.bins()) {
                throw new IllegalArgumentException("a categorical value network needs " + support.bins()
                        + " outputs, one per bin, got " + net.out());
            }
        }

        @Override
        public Tensor values(Graph g, Tensor obs) {
            return support.expectation(g, net.forward(g, obs));
        }
    }
}
