package org.dmerl.policy;

import java.util.ArrayList;
import java.util.List;

import org.dmerl.nn.Activation;
import org.dmerl.nn.Mlp;
import org.dmerl.nn.Linear;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Init;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;

/**
 * PPO's Gaussian policy: a ~ N(μ(s), diag σ²) with a state-independent learned log σ and unbounded actions (the
 * environment clips or squashes them). Orthogonal initialisation with gain √2, output layer gain 0.01, as CleanRL's
 * ppo_continuous_action.
 */
public final class DiagGaussianPolicy implements StochasticPolicy {

    private static final float HALF_LOG_2PI = (float) (0.5 * Math.log(2 * Math.PI));
    private static final float HALF_LOG_2PI_E = (float) (0.5 * Math.log(2 * Math.PI * Math.E));

    private final Mlp net;
    private final Tensor logStd;
    private final int obsDim, actDim;

    public DiagGaussianPolicy(int obsDim, int actDim, int[] hidden, Activation activation, float logStdInit, Rng rng) {
        this.obsDim = obsDim;
        this.actDim = actDim;
        net = new Mlp("actor", obsDim, hidden, actDim, activation, Linear.WeightInit.ORTHOGONAL, false, rng);
        Init.orthogonal(net.outputLayer().weight, 0.01, rng);
        logStd = Tensor.param("actor.log_std", 1, actDim);
        Init.constant(logStd, logStdInit);
    }

    @Override public int observationDim() { return obsDim; }
    @Override public int actionDim() { return actDim; }
    @Override public int noiseDim() { return actDim; }

    @Override
    public Sample sample(Graph g, Tensor obs, Tensor noise) {
        Tensor mean = net.forward(g, obs);
        Tensor action = g.add(mean, g.mul(g.exp(logStd), noise));
        // log N(a; μ, σ) with (a − μ)/σ = ε, the given noise
        Tensor logProb = g.sumCols(g.sub(g.addScalar(g.mulScalar(g.square(noise), -0.5f), -HALF_LOG_2PI), logStd));
        return new Sample(action, logProb);
    }

    @Override
    public Densities densities(Graph g, Tensor obs, Tensor action) {
        Tensor mean = net.forward(g, obs);
        Tensor z = g.mul(g.sub(action, mean), g.exp(g.neg(logStd)));
        Tensor logProb = g.sumCols(g.sub(g.addScalar(g.mulScalar(g.square(z), -0.5f), -HALF_LOG_2PI), logStd));
        return new Densities(logProb, null);
    }

    /** H = Σ (log σ + ½ log 2πe), the same for every state. */
    @Override
    public Tensor meanEntropy(Graph g, Tensor obs) {
        return g.addScalar(g.sumCols(logStd), actDim * HALF_LOG_2PI_E);
    }

    @Override
    public Tensor deterministic(Graph g, Tensor obs) {
        return net.forward(g, obs);
    }

    /** Current σ per action dimension. */
    public double[] std() {
        double[] out = new double[actDim];
        for (int i = 0; i < actDim; i++) out[i] = Math.exp(logStd.data[i]);
        return out;
    }

    @Override
    public List<Tensor> parameters() {
        List<Tensor> ps = new ArrayList<>(net.parameters());
        ps.add(logStd);
        return ps;
    }
}
