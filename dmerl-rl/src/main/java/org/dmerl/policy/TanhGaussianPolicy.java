package org.dmerl.policy;

import java.util.List;

import org.dmerl.nn.Activation;
import org.dmerl.nn.Linear;
import org.dmerl.nn.Mlp;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;

/**
 * The SAC actor: a = tanh(μ(s) + σ(s)·ε), with log σ squashed into [logStdMin, logStdMax] by tanh (CleanRL's
 * parameterisation). log π(a|s) includes the tanh Jacobian, computed stably as
 * log(1 − tanh²(u)) = 2(log 2 − u − softplus(−2u)).
 */
public final class TanhGaussianPolicy implements StochasticPolicy {

    private static final float HALF_LOG_2PI = (float) (0.5 * Math.log(2 * Math.PI));
    private static final float LOG_2 = (float) Math.log(2);

    private final Mlp net;
    private final int obsDim, actDim;
    private final float logStdMin, logStdMax;

    public TanhGaussianPolicy(int obsDim, int actDim, int[] hidden, Activation activation,
                              float logStdMin, float logStdMax, Rng rng) {
        this.obsDim = obsDim;
        this.actDim = actDim;
        this.logStdMin = logStdMin;
        this.logStdMax = logStdMax;
        net = new Mlp("actor", obsDim, hidden, 2 * actDim, activation, Linear.WeightInit.TORCH_DEFAULT, false, rng);
    }

    @Override public int observationDim() { return obsDim; }
    @Override public int actionDim() { return actDim; }
    @Override public int noiseDim() { return actDim; }

    /** The Gaussian over u before tanh squashing. */
    private record Gaussian(Tensor mean, Tensor logStd) {}

    private Gaussian preSquash(Graph g, Tensor obs) {
        Tensor out = net.forward(g, obs);
        // log σ = min + ½(max − min)(tanh(raw) + 1)
        Tensor logStd = g.addScalar(g.mulScalar(g.tanh(g.slice(out, actDim, 2 * actDim)), 0.5f * (logStdMax - logStdMin)),
                logStdMin + 0.5f * (logStdMax - logStdMin));
        return new Gaussian(g.slice(out, 0, actDim), logStd);
    }

    @Override
    public Sample sample(Graph g, Tensor obs, Tensor noise) {
        Gaussian pre = preSquash(g, obs);
        Tensor mean = pre.mean(), logStd = pre.logStd();
        Tensor u = g.add(mean, g.mul(g.exp(logStd), noise));
        Tensor action = g.tanh(u);
        // log N(u; μ, σ) = −½ε² − log σ − ½ log 2π, with ε the given noise
        Tensor gaussLogProb = g.sub(g.addScalar(g.mulScalar(g.square(noise), -0.5f), -HALF_LOG_2PI), logStd);
        Tensor logJacobian = g.mulScalar(g.sub(g.addScalar(g.neg(u), LOG_2), g.softplus(g.mulScalar(u, -2f))), 2f);
        Tensor logProb = g.sumCols(g.sub(gaussLogProb, logJacobian));
        return new Sample(action, logProb);
    }

    /**
     * The score in pre-squash space, ∇_u log N(u; μ, σ) = −(u − μ)/σ² with u = atanh(a) fixed; θ enters through μ
     * and σ. In action space the score carries 1/(1 − a²), which explodes for saturated samples and drives a WPO
     * actor to bang-bang actions (measured on Pendulum: −1547 after 5k steps); the learner converts ∇ₐQ to u-space.
     */
    @Override
    public Tensor actionScore(Graph g, Tensor obs, Tensor action) {
        Gaussian pre = preSquash(g, obs);
        Tensor mean = pre.mean(), logStd = pre.logStd();
        Tensor u = preSquashAction(g, action);
        return g.neg(g.mul(g.sub(u, mean), g.exp(g.mulScalar(logStd, -2f))));
    }

    /**
     * log N(u; μ, σ) at u = atanh(a): the pre-squash density. The tanh Jacobian depends only on a, so it cancels in
     * every difference of log-densities at the same action (the KL estimate of the trust region).
     */
    @Override
    public Densities densities(Graph g, Tensor obs, Tensor action) {
        Gaussian pre = preSquash(g, obs);
        Tensor u = preSquashAction(g, action);
        Tensor z = g.mul(g.sub(u, pre.mean()), g.exp(g.neg(pre.logStd())));
        return new Densities(g.sumCols(g.sub(g.addScalar(g.mulScalar(g.square(z), -0.5f), -HALF_LOG_2PI), pre.logStd())), null);
    }

    @Override
    public boolean scoresPreSquash() {
        return true;
    }

    /** u = atanh(a), with a kept inside ±0.999999. */
    private Tensor preSquashAction(Graph g, Tensor action) {
        Tensor u = g.input(action.rows(), actDim);
        for (int i = 0; i < action.rows() * actDim; i++) {
            double a = Math.max(-0.999999, Math.min(0.999999, action.data[i]));
            u.data[i] = (float) (0.5 * Math.log((1 + a) / (1 - a)));
        }
        return u;
    }

    @Override
    public Tensor deterministic(Graph g, Tensor obs) {
        return g.tanh(g.slice(net.forward(g, obs), 0, actDim));
    }

    @Override
    public List<Tensor> parameters() {
        return net.parameters();
    }
}
