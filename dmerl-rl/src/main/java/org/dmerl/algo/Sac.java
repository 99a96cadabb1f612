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

    private final StochasticPolicy actor;
    private final TwinCritic critic, criticTarget;
    private final List<Tensor> criticTargetParameters;
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
    private Losses last = Losses.NONE;
    private TrustRegion trust;
    private FisherPreconditioner fisher;

    /**
     * WPO's optional diagonal Fisher preconditioning (spec §4.1: Δθ ∝ F⁻¹·E[…]; off in the spec's final configs).
     * F is the diagonal empirical Fisher E[(∇_θ log π(a|s))²] at the stop-gradient samples, estimated without
     * per-sample gradients: for random signs ξ_i, E[(Σ_i ξ_i ∇_θ log π_i)²] = Σ_i (∇_θ log π_i)², one extra backward
     * pass. An exponential average of it divides the actor gradient (plus damping) before the Adam step.
     */
    private final class FisherPreconditioner {
        final float decay, damping;
        final List<Tensor> params = actor.parameters();
        final float[][] diag = new float[params.size()][], saved = new float[params.size()][];
        final Graph graph = new Graph();
        long updates;

        FisherPreconditioner(float decay, float damping) {
            this.decay = decay;
            this.damping = damping;
            for (int i = 0; i < params.size(); i++) {
                diag[i] = new float[params.get(i).size()];
                saved[i] = new float[params.get(i).size()];
            }
        }

        void precondition(Tensor obs, Tensor action, Rng rng) {
            for (int i = 0; i < params.size(); i++) {
                System.arraycopy(params.get(i).grad, 0, saved[i], 0, saved[i].length);
                params.get(i).zeroGrad();
            }
            float[] signs = new float[obs.rows()];
            for (int r = 0; r < signs.length; r++) signs[r] = rng.nextDouble() < 0.5 ? -1f : 1f;
            signedScoreGradient(actor, graph, obs, action, signs);
            // bias-corrected average, so the first updates are not divided by a near-zero F
            updates++;
            float correction = (float) (1 - Math.pow(decay, updates));
            for (int i = 0; i < params.size(); i++) {
                float[] g = params.get(i).grad, f = diag[i], keep = saved[i];
                for (int j = 0; j < f.length; j++) {
                    f[j] = decay * f[j] + (1 - decay) * g[j] * g[j] / obs.rows();
                    g[j] = keep[j] / (f[j] / correction + damping);
                }
            }
        }
    }

    /** Accumulates ∇_θ Σ_i ξ_i log π(a_i|s_i) into the actor's gradients. */
    static void signedScoreGradient(StochasticPolicy actor, Graph g, Tensor obs, Tensor action, float[] signs) {
        g.reset();
        Tensor xi = g.input(obs.rows(), 1);
        System.arraycopy(signs, 0, xi.data, 0, signs.length);
        Tensor o = g.input(obs.rows(), obs.cols()), a = g.input(action.rows(), action.cols());
        System.arraycopy(obs.data, 0, o.data, 0, obs.size());
        System.arraycopy(action.data, 0, a.data, 0, action.size());
        g.backward(g.sum(g.mul(actor.densities(g, o, a).logProb(), xi)));
    }

    /** Turns on WPO's diagonal Fisher preconditioning (see {@link FisherPreconditioner}). */
    public Sac withFisherPreconditioning(float decay, float damping) {
        fisher = new FisherPreconditioner(decay, damping);
        return this;
    }

    /**
     * The KL trust region of spec §2.1/§4.2: per sample, KL = scale·mean_j[log π_old(a_j|s) − log π_θ(a_j|s)] with
     * a_j ~ π_old; rows with KL ≥ bound replace their actor loss by sg(λ)·KL, and λ = exp(log λ) follows
     * −λ·sg(mean KL − bound). π_old is the actor as it was {@code refreshEvery} updates ago (the off-policy stand-in for
     * "the parameters at the start of an iteration's update phase").
     */
    private static final class TrustRegion {
        final StochasticPolicy old;
        final float bound;
        final int samples, refreshEvery;
        final Tensor logLambda = Tensor.param("log_kl_lambda", 1, 1);
        final Adam optimizer;
        long updates;
        float lastKl = Float.NaN;

        TrustRegion(StochasticPolicy old, float bound, float lambdaStart, float lr, int samples, int refreshEvery) {
            this.old = old;
            this.bound = bound;
            this.samples = samples;
            this.refreshEvery = refreshEvery;
            logLambda.data[0] = (float) Math.log(lambdaStart);
            optimizer = new Adam(List.of(logLambda), lr);
            for (Tensor t : old.stateTensors()) t.setRequiresGrad(false);
        }
    }

    /** Turns the trust region on; {@code old} must have the actor's architecture (its values are overwritten). */
    public Sac withTrustRegion(StochasticPolicy old, float bound, float lambdaStart, float lagrangianLr, int samples,
                               int refreshEvery) {
        trust = new TrustRegion(old, bound, lambdaStart, lagrangianLr, samples, refreshEvery);
        return this;
    }

    /** The mean KL to π_old of the last update (NaN without a trust region). */
    public float lastKl() {
        return trust == null ? Float.NaN : trust.lastKl;
    }

    /** mean(rowLoss), or with the trust region mean(KL < bound ? rowLoss : sg(λ)·KL), updating λ. */
    private Tensor trustRegion(Graph g, Tensor obs, Tensor rowLoss, Rng rng) {
        if (trust == null) return g.mean(rowLoss);
        // the untrained tensors (fixed Δt, friction) start equal: both policies come from the same config
        if (trust.updates++ % trust.refreshEvery == 0) trust.old.copyFrom(actor);
        Tensor sum = null;
        for (int j = 0; j < trust.samples; j++) {
            Tensor noise = noise(g, rng);
            boolean saved = g.gradEnabled();
            g.setGradEnabled(false);
            Tensor a = trust.old.act(g, obs, noise);
            Tensor logOld = trust.old.densities(g, obs, a).logProb();
            g.setGradEnabled(saved);
            Tensor diff = g.sub(logOld, actor.densities(g, obs, a).logProb());
            sum = sum == null ? diff : g.add(sum, diff);
        }
        Tensor kl = g.mulScalar(sum, entropyScale / trust.samples);
        float lambda = (float) Math.exp(trust.logLambda.data[0]);
        Tensor inside = g.input(rowLoss.rows(), 1), outside = g.input(rowLoss.rows(), 1);
        double meanKl = 0;
        for (int i = 0; i < rowLoss.rows(); i++) {
            boolean ok = kl.data[i] < trust.bound;
            inside.data[i] = ok ? 1f : 0f;
            outside.data[i] = ok ? 0f : lambda;
            meanKl += kl.data[i] / rowLoss.rows();
        }
        trust.lastKl = (float) meanKl;
        trust.logLambda.grad[0] = (float) (-lambda * (meanKl - trust.bound));
        trust.optimizer.step();
        return g.mean(g.add(g.mul(rowLoss, inside), g.mul(kl, outside)));
    }

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
        criticTargetParameters = criticTarget.parameters();
        // each step leaves its gradients zero for the next backward pass
        actorOpt = new Adam(actor.parameters(), actorLr).zeroGradientsInStep();
        criticOpt = new Adam(critic.parameters(), criticLr).zeroGradientsInStep();
        actorOpt.zeroGrad();
        criticOpt.zeroGrad();
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

    /**
     * Per batch row, Σ weight·logProb over the steps the row's transition jumps over, with logProb (the log ratio
     * l_k for kernel steps) evaluated under the current parameters at the stored actions.
     */
    private Tensor skippedLogProb(Graph g, ReplayBuffer.Successors steps) {
        int obsDim = actor.observationDim(), actDim = actor.actionDim();
        Tensor o = g.input(steps.rows, obsDim), a = g.input(steps.rows, actDim);
        System.arraycopy(steps.obs, 0, o.data, 0, steps.rows * obsDim);
        System.arraycopy(steps.actions, 0, a.data, 0, steps.rows * actDim);
        StochasticPolicy.Densities d = actor.densities(g, o, a);
        float[] logProb = d.logProb().data, logRef = d.logReference() == null ? null : d.logReference().data;
        Tensor out = g.input(steps.count.length, 1);
        for (int b = 0, row = 0; b < steps.count.length; b++) {
            float sum = 0f;
            for (int m = 0; m < steps.count[b]; m++, row++) {
                sum += steps.weight[row] * (logProb[row] - (logRef == null ? 0f : logRef[row]));
            }
            out.data[b] = sum;
        }
        return out;
    }

    /** One gradient step of critics, actor, temperature and targets on a replay batch. */
    public Losses update(ReplayBuffer.Batch batch, Rng rng) {
        float alpha = alpha();

        // Soft Bellman target: y = r − α·skipped + discount·(min Q'(s', a') − α log π(a'|s')), a' ~ π(·|s'), where
        // skipped sums the log π terms of the stored steps a multi-step transition jumps over (none for one step)
        Graph tg = targetGraph;
        tg.reset();
        tg.setGradEnabled(false);
        Tensor nextNoise = noise(tg, rng);
        StochasticPolicy.Sample next = actor.sample(tg, batch.nextObs(), nextNoise);
        Tensor minQNext = criticTarget.min(tg, batch.nextObs(), next.action());
        Tensor softNext = tg.sub(minQNext, tg.mulScalar(next.logProb(), alpha));
        Tensor reward = batch.successors() == null || batch.successors().rows == 0 ? batch.rewards()
                : tg.sub(batch.rewards(), tg.mulScalar(skippedLogProb(tg, batch.successors()), alpha));
        Tensor qTarget = tg.add(reward, tg.mul(batch.discount(), softNext));

        // Critic: MSE of both heads to the target
        Graph cg = criticGraph;
        cg.reset();
        TwinCritic.Values q = critic.forward(cg, batch.obs(), batch.actions());
        Tensor criticLoss = cg.add(cg.mean(cg.square(cg.sub(q.q1(), qTarget))),
                cg.mean(cg.square(cg.sub(q.q2(), qTarget))));
        cg.backward(criticLoss);
        // the targets' Polyak step rides along: nothing below changes the critics
        criticOpt.step(criticTargetParameters, tau);

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
            actorLoss = trustRegion(ag, batch.obs(), ag.sub(ag.mulScalar(pi.logProb(), alpha), minQ), rng);
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
            // In u-space (a = tanh u) the soft objective is Q(tanh u) − α log N(u) + α log(1 − tanh²u): ∇_u Q picks
            // up the factor 1 − a², and the tanh Jacobian adds ∇_u(−log(1 − tanh²u)) = 2a to α's score (θ-free).
            for (int i = 0; i < coef.size(); i++) {
                float a = actionLeaf.data[i];
                float gradQ = preSquash ? actionLeaf.grad[i] * (1 - a * a) : actionLeaf.grad[i];
                float logScore = preSquash ? score.data[i] + 2 * a : score.data[i];
                coef.data[i] = alpha * logScore - gradQ;
            }
            actorLoss = trustRegion(ag, batch.obs(), ag.sumCols(ag.mul(coef, score)), rng);
            ag.backward(actorLoss);
            if (fisher != null) fisher.precondition(batch.obs(), pi.action(), rng);
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
        for (int i = 0; i < opts.size(); i++) opts.get(i).writeTo(a, "opt" + i);
        a.putDoubles("last_losses", new double[] {last.criticLoss(), last.actorLoss(), last.alpha(), last.alphaLoss(), last.entropy()});
        if (fisher != null) {
            a.putLongs("fisher/updates", new long[] {fisher.updates});
            for (int i = 0; i < fisher.diag.length; i++) a.putTensor("fisher/d" + i, Tensor.of(1, fisher.diag[i].length, fisher.diag[i]));
        }
        if (trust != null) {
            a.putTensors("trust/old", trust.old.stateTensors());
            a.putTensor("trust/log_lambda", trust.logLambda);
            a.putLongs("trust/updates", new long[] {trust.updates});
            trust.optimizer.writeTo(a, "trust/opt");
        }
    }

    void restore(org.dmerl.tensor.TensorArchive a) {
        a.readTensors("actor", actor.stateTensors());
        a.readTensors("critic", critic.parameters());
        a.readTensors("critic_target", criticTarget.parameters());
        a.readTensor("log_alpha", logAlpha);
        List<Adam> opts = optimizers();
        for (int i = 0; i < opts.size(); i++) opts.get(i).readFrom(a, "opt" + i);
        double[] l = a.getDoubles("last_losses");
        last = new Losses((float) l[0], (float) l[1], (float) l[2], (float) l[3], (float) l[4]);
        if (fisher != null) {
            fisher.updates = a.getLongs("fisher/updates")[0];
            for (int i = 0; i < fisher.diag.length; i++) {
                Tensor t = Tensor.zeros(1, fisher.diag[i].length);
                a.readTensor("fisher/d" + i, t);
                System.arraycopy(t.data, 0, fisher.diag[i], 0, fisher.diag[i].length);
            }
        }
        if (trust != null) {
            a.readTensors("trust/old", trust.old.stateTensors());
            a.readTensor("trust/log_lambda", trust.logLambda);
            trust.updates = a.getLongs("trust/updates")[0];
            trust.optimizer.readFrom(a, "trust/opt");
        }
    }

    public List<Module> modules() {
        return List.of(actor, critic, criticTarget);
    }
}
