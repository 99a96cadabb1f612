package org.dmerl.algo;

import java.util.List;

import org.dmerl.nn.Module;
import org.dmerl.policy.StochasticPolicy;
import org.dmerl.tensor.Adam;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;

/**
 * Soft actor-critic (Haarnoja et al. 2018, v2: twin critics, target networks, learned temperature).
 *
 * <p>The same learner runs DiffSAC: on the diffusion-augmented MDP the policy is one diffusion kernel step, its
 * {@code logProb} is the one-step log ratio l_k, and the entropy estimate is scaled by K (spec §1.2). Nothing here
 * knows which policy it trains.
 */
public final class Sac {

    /**
     * How the actor learns from the critic. SAC: minimise α·log π(a|s) − Q(s, a) through a reparameterised a.
     * WPO (Pfau et al. 2025, spec §4): at a stop-gradient sample a, minimise Σ_dims sg(α∇ₐ log π − ∇ₐQ)·∇ₐ log π_θ,
     * whose gradient is E[(α∇ₐ log π − ∇ₐQ)ᵀ ∇_θ∇ₐ log π]. Critic and temperature learning are the same.
     */
    public enum ActorObjective { SAC, WPO }

    /** What one update measured. */
    public record Losses(float criticLoss, float actorLoss, float alpha, float alphaLoss, float entropy) {}

    private final StochasticPolicy actor;
    private final TwinCritic critic, criticTarget;
    private final Adam actorOpt, criticOpt, alphaOpt;
    private final Tensor logAlpha = Tensor.param("log_alpha", 1, 1);
    private final boolean autotune;
    private final float targetEntropy, entropyScale;
    private final float tau;
    private final Graph targetGraph = new Graph(), criticGraph = new Graph(), actorGraph = new Graph(),
            actionGradGraph = new Graph();
    private ActorObjective objective = ActorObjective.SAC;
    private Tensor actionLeaf;
    private final int batchSize;
    private Losses last = new Losses(Float.NaN, Float.NaN, Float.NaN, Float.NaN, Float.NaN);

    /**
     * @param targetEntropy H̄ in the temperature loss (−|A| for SAC)
     * @param entropyScale  factor turning the batch mean of logProb into a per-action entropy estimate (1 for SAC, K
     *                      for one-step diffusion log ratios)
     */
    public Sac(StochasticPolicy actor, TwinCritic critic, TwinCritic criticTarget, int batchSize, float actorLr,
               float criticLr, float alphaLr, float initialAlpha, boolean autotune, float targetEntropy,
               float entropyScale, float tau) {
        this.actor = actor;
        this.critic = critic;
        this.criticTarget = criticTarget;
        this.batchSize = batchSize;
        this.autotune = autotune;
        this.targetEntropy = targetEntropy;
        this.entropyScale = entropyScale;
        this.tau = tau;
        criticTarget.copyFrom(critic);
        criticTarget.setRequiresGrad(false);
        actorOpt = new Adam(actor.parameters(), actorLr);
        criticOpt = new Adam(critic.parameters(), criticLr);
        alphaOpt = new Adam(List.of(logAlpha), alphaLr);
        logAlpha.data[0] = (float) Math.log(initialAlpha);
        logAlpha.touch();
    }

    public Sac withObjective(ActorObjective value) {
        objective = value;
        return this;
    }

    public float alpha() {
        return (float) Math.exp(logAlpha.data[0]);
    }

    public Losses lastLosses() {
        return last;
    }

    /** One gradient step of critics, actor, temperature and targets on a replay batch. */
    public Losses update(ReplayBuffer.Batch batch, Rng rng) {
        float alpha = alpha();

        // Soft Bellman target: y = r + discount·(min Q'(s', a') − α log π(a'|s')), a' ~ π(·|s')
        Graph tg = targetGraph;
        tg.reset();
        tg.setGradEnabled(false);
        Tensor nextNoise = noise(tg, rng);
        StochasticPolicy.Sample next = actor.sample(tg, batch.nextObs(), nextNoise);
        Tensor minQNext = criticTarget.min(tg, batch.nextObs(), next.action());
        Tensor softNext = tg.sub(minQNext, tg.mulScalar(next.logProb(), alpha));
        Tensor qTarget = tg.add(batch.rewards(), tg.mul(batch.discount(), softNext));

        // Critic: MSE of both heads to the target
        Graph cg = criticGraph;
        cg.reset();
        TwinCritic.Values q = critic.forward(cg, batch.obs(), batch.actions());
        Tensor criticLoss = cg.add(cg.mean(cg.square(cg.sub(q.q1(), qTarget))),
                cg.mean(cg.square(cg.sub(q.q2(), qTarget))));
        criticOpt.zeroGrad();
        cg.backward(criticLoss);
        criticOpt.step();

        critic.setRequiresGrad(false);
        Tensor logProb;
        Tensor actorLoss;
        if (objective == ActorObjective.SAC) {
            // Actor: minimise α log π(a|s) − min Q(s, a) with the critics frozen
            Graph ag = actorGraph;
            ag.reset();
            Tensor noise = noise(ag, rng);
            StochasticPolicy.Sample pi = actor.sample(ag, batch.obs(), noise);
            Tensor minQ = critic.min(ag, batch.obs(), pi.action());
            actorLoss = ag.mean(ag.sub(ag.mulScalar(pi.logProb(), alpha), minQ));
            actorOpt.zeroGrad();
            ag.backward(actorLoss);
            actorOpt.step();
            logProb = pi.logProb();
        } else {
            Graph ag = actorGraph;
            ag.reset();
            // a stop-gradient sample and its log-density term
            ag.setGradEnabled(false);
            StochasticPolicy.Sample pi = actor.sample(ag, batch.obs(), noise(ag, rng));
            ag.setGradEnabled(true);
            logProb = pi.logProb();
            // ∇ₐ min Q(s, a) at the sample (critics frozen: only the action leaf collects gradient)
            if (actionLeaf == null || actionLeaf.rows() != batchSize) {
                actionLeaf = Tensor.param("wpo.action", batchSize, actor.actionDim());
            }
            System.arraycopy(pi.action().data, 0, actionLeaf.data, 0, actionLeaf.size());
            actionLeaf.zeroGrad();
            Graph qg = actionGradGraph;
            qg.reset();
            qg.backward(qg.sum(critic.min(qg, batch.obs(), actionLeaf)));
            // L = mean_rows Σ_dims sg(α g_l − g_Q) · g_l(θ)
            Tensor score = actor.actionScore(ag, batch.obs(), pi.action());
            Tensor coef = ag.input(batchSize, actor.actionDim());
            boolean preSquash = actor.scoresPreSquash();
            for (int i = 0; i < coef.size(); i++) {
                float a = actionLeaf.data[i];
                float gradQ = preSquash ? actionLeaf.grad[i] * (1 - a * a) : actionLeaf.grad[i];
                coef.data[i] = alpha * score.data[i] - gradQ;
            }
            actorLoss = ag.mean(ag.sumCols(ag.mul(coef, score)));
            actorOpt.zeroGrad();
            ag.backward(actorLoss);
            actorOpt.step();
        }
        critic.setRequiresGrad(true);

        // Temperature: d/d(log α) of −log α·(Ĥ_target − Ĥ) with Ĥ = −scale·mean(log π)
        float meanLogProb = mean(logProb);
        float entropy = -entropyScale * meanLogProb;
        float alphaLoss = logAlpha.data[0] * (entropy - targetEntropy);
        if (autotune) {
            logAlpha.grad[0] = entropy - targetEntropy;
            alphaOpt.step();
        }

        criticTarget.polyakFrom(critic, tau);

        last = new Losses(criticLoss.item(), actorLoss.item(), alpha, alphaLoss, entropy);
        return last;
    }

    private Tensor noise(Graph g, Rng rng) {
        Tensor eps = g.input(batchSize, actor.noiseDim());
        rng.fillGaussian(eps.data, 0, eps.size());
        return eps;
    }

    private static float mean(Tensor t) {
        double s = 0;
        for (int i = 0; i < t.size(); i++) s += t.data[i];
        return (float) (s / t.size());
    }

    public StochasticPolicy actor() { return actor; }
    public TwinCritic critic() { return critic; }
    public TwinCritic criticTarget() { return criticTarget; }
    public Tensor logAlpha() { return logAlpha; }
    public List<Adam> optimizers() { return List.of(actorOpt, criticOpt, alphaOpt); }

    void save(org.dmerl.tensor.TensorArchive a) {
        a.putTensors("actor", actor.stateTensors());
        a.putTensors("critic", critic.parameters());
        a.putTensors("critic_target", criticTarget.parameters());
        a.putTensor("log_alpha", logAlpha);
        List<Adam> opts = optimizers();
        for (int i = 0; i < opts.size(); i++) {
            a.putLongs("opt" + i + "/step", new long[] {opts.get(i).stepCount()});
            float[][] mom = opts.get(i).moments();
            for (int j = 0; j < mom.length; j++) a.putTensor("opt" + i + "/m" + j, Tensor.of(1, mom[j].length, mom[j]));
        }
        a.putDoubles("last_losses", new double[] {last.criticLoss(), last.actorLoss(), last.alpha(), last.alphaLoss(), last.entropy()});
    }

    void restore(org.dmerl.tensor.TensorArchive a) {
        a.readTensors("actor", actor.stateTensors());
        a.readTensors("critic", critic.parameters());
        a.readTensors("critic_target", criticTarget.parameters());
        a.readTensor("log_alpha", logAlpha);
        List<Adam> opts = optimizers();
        for (int i = 0; i < opts.size(); i++) {
            opts.get(i).setStepCount(a.getLongs("opt" + i + "/step")[0]);
            float[][] mom = opts.get(i).moments();
            for (int j = 0; j < mom.length; j++) {
                Tensor t = Tensor.zeros(1, mom[j].length);
                a.readTensor("opt" + i + "/m" + j, t);
                System.arraycopy(t.data, 0, mom[j], 0, mom[j].length);
            }
        }
        double[] l = a.getDoubles("last_losses");
        last = new Losses((float) l[0], (float) l[1], (float) l[2], (float) l[3], (float) l[4]);
    }

    public List<Module> modules() {
        return List.of(actor, critic, criticTarget);
    }
}
