package org.dmerl.algo;

import java.util.ArrayList;
import java.util.List;

import org.dmerl.nn.HlGauss;
import org.dmerl.policy.StochasticPolicy;
import org.dmerl.tensor.Adam;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;

/**
 * Proximal policy optimisation (Schulman et al. 2017) as CleanRL's ppo_continuous_action runs it: several epochs
 * of shuffled minibatches over a rollout, clipped surrogate, optionally clipped value loss, one Adam over policy and
 * value with global-norm clipping. A categorical value function (HL-Gauss, spec §3) is trained by cross-entropy to
 * HLGauss(R) instead of squared error, and never clipped.
 *
 * <p>The same learner runs DiffPPO (spec §3): on the diffusion-augmented MDP the policy is one kernel step, the
 * ratio is exp(log q_θ − log q_old) of that step, the rollout's rewards are soft rewards r − c·l_old, and the
 * surrogate's advantage swaps the rollout's entropy term for the current one, Â = A − r_soft + r − c·l_θ (held
 * fixed). A reference kernel that depends on parameters (learned Δt or friction) adds the destination term
 * −sg(ρ)·c·log p_θ(x_k|x_{k+1}) where the surrogate is not clipped. Which case applies follows from the policy: one
 * with a reference kernel gets the soft-reward treatment, one with a closed-form entropy gets an entropy bonus.
 */
public final class Ppo {

    public record Settings(float clipCoef, boolean clipValueLoss, boolean normalizeAdvantages, float entropyCoef,
                           float valueCoef, float maxGradNorm, int epochs, int minibatches, float entropyScale) {}

    /**
     * The stop-gradient coefficients of one minibatch's loss: per row the surrogate's weight on ρ (−Â/m where the
     * surrogate is not clipped, else 0), the destination term's weight on log p_θ, and the value loss's mask (all 1
     * for a categorical value function).
     * Computed from the current parameters in {@link #loss}; a test can pass them in to hold them fixed while it
     * differentiates numerically.
     */
    public record Frozen(float[] ratioWeights, float[] referenceWeights, float[] valueMask) {}

    private final StochasticPolicy policy;
    private final ValueFunction value;
    private final Settings s;
    private final Adam optimizer;
    private final Graph graph = new Graph();
    private Losses last = Losses.NONE;
    private double approxKl, clipFraction;

    public Ppo(StochasticPolicy policy, ValueFunction value, Settings settings, float lr) {
        this.policy = policy;
        this.value = value;
        this.s = settings;
        List<Tensor> params = new ArrayList<>(policy.parameters());
        params.addAll(value.parameters());
        optimizer = new Adam(params, lr, 0.9f, 0.999f, 1e-5f);
    }

    public Adam optimizer() { return optimizer; }
    public Losses lastLosses() { return last; }
    /** Mean approximate KL(old ‖ new) of the last update ((ρ − 1) − log ρ, Schulman's k3 estimator). */
    public double approxKl() { return approxKl; }
    /** Fraction of samples whose ratio left [1 − ε, 1 + ε] in the last update. */
    public double clipFraction() { return clipFraction; }

    /**
     * A categorical value's targets HLGauss(R) depend only on the rollout's returns: built once per update instead of
     * once per epoch (the same values; {@link #loss} called on its own builds them itself).
     */
    private void cacheTargets(Rollout r) {
        if (!(value instanceof ValueFunction.Categorical categorical)) return;
        HlGauss support = categorical.support();
        int n = r.size(), bins = support.bins();
        if (rolloutTargets == null || rolloutTargets.length != n * bins) rolloutTargets = new float[n * bins];
        for (int j = 0; j < n; j++) support.targetDistribution(r.returns[j], rolloutTargets, j * bins);
        targetsOf = r;
    }

    private float[] rolloutTargets;
    private Rollout targetsOf;

    /** Policy, value function, optimiser and the last update's losses, for checkpoints. */
    void save(org.dmerl.tensor.TensorArchive a) {
        a.putTensors("policy", policy.stateTensors());
        a.putTensors("value", value.net().parameters());
        optimizer.writeTo(a, "opt");
        a.putDoubles("last_losses", new double[] {last.criticLoss(), last.actorLoss(), last.alpha(), last.alphaLoss(),
                last.entropy(), approxKl, clipFraction});
    }

    void restore(org.dmerl.tensor.TensorArchive a) {
        a.readTensors("policy", policy.stateTensors());
        a.readTensors("value", value.net().parameters());
        optimizer.readFrom(a, "opt");
        double[] l = a.getDoubles("last_losses");
        last = new Losses((float) l[0], (float) l[1], (float) l[2], (float) l[3], (float) l[4]);
        approxKl = l[5];
        clipFraction = l[6];
    }

    /** Epochs of shuffled minibatches over {@code r} (whose advantages must be computed). */
    public Losses update(Rollout r, Rng rng) {
        int n = r.size();
        cacheTargets(r);
        int mb = n / s.minibatches();
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        double pg = 0, vf = 0, ent = 0, kl = 0, clipped = 0;
        int count = 0;
        for (int epoch = 0; epoch < s.epochs(); epoch++) {
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
            }
            for (int start = 0; start + mb <= n; start += mb) {
                graph.reset();
                Step st = loss(graph, r, perm, start, start + mb, null);
                if (!Float.isFinite(st.loss().item())) {
                    throw new TrainingDivergedException("non-finite PPO loss (policy " + st.policyLoss() + ", value "
                            + st.valueLoss() + ")");
                }
                optimizer.zeroGrad();
                graph.backward(st.loss());
                optimizer.clipGradNorm(s.maxGradNorm());
                optimizer.step();
                pg += st.policyLoss();
                vf += st.valueLoss();
                ent += st.entropy();
                kl += st.approxKl();
                clipped += st.clipFraction();
                count++;
            }
        }
        targetsOf = null;
        approxKl = kl / count;
        clipFraction = clipped / count;
        last = new Losses((float) (vf / count), (float) (pg / count), s.entropyCoef(), (float) approxKl,
                (float) (ent / count));
        return last;
    }

    /**
     * One minibatch's loss and what it measured. {@code loss} has PPO's gradient but leaves out the constant terms
     * (clip(ρ)·Â on clipped rows, the clipped value branch where it wins); {@code policyLoss} and {@code valueLoss}
     * are the full textbook values.
     */
    public record Step(Tensor loss, float policyLoss, float valueLoss, float entropy, float approxKl,
                       float clipFraction, Frozen frozen) {}

    /** Builds the loss of rows {@code idx[from..to)} of {@code r}; {@code frozen} null: computed here. */
    public Step loss(Graph g, Rollout r, int[] idx, int from, int to, Frozen frozen) {
        int m = to - from, od = r.obsDim, ad = r.actDim;
        Tensor obs = g.input(m, od), act = g.input(m, ad), oldLogP = g.input(m, 1);
        for (int b = 0; b < m; b++) {
            int j = idx[from + b];
            System.arraycopy(r.obs, j * od, obs.data, b * od, od);
            System.arraycopy(r.actions, j * ad, act.data, b * ad, ad);
            oldLogP.data[b] = r.logProbs[j];
        }
        StochasticPolicy.Densities d = policy.densities(g, obs, act);
        Tensor logRatio = g.sub(d.logProb(), oldLogP);
        Tensor ratio = g.exp(logRatio);
        boolean soft = d.logReference() != null;
        float c = s.entropyCoef(), eps = s.clipCoef();

        // Advantages, held fixed: Â = A, or for soft rewards A − r_soft + r − c·l_θ; centred, optionally scaled
        double[] adv = new double[m];
        double mean = 0, meanL = 0;
        for (int b = 0; b < m; b++) {
            int j = idx[from + b];
            adv[b] = r.advantages[j];
            if (soft) {
                double l = d.logProb().data[b] - d.logReference().data[b];
                meanL += l / m;
                adv[b] += r.rewards[j] - r.learnRewards[j] - c * l;
            }
            mean += adv[b] / m;
        }
        double var = 0;
        for (int b = 0; b < m; b++) var += (adv[b] - mean) * (adv[b] - mean) / Math.max(1, m - 1);
        double scale = s.normalizeAdvantages() ? 1 / (Math.sqrt(var) + 1e-8) : 1;
        for (int b = 0; b < m; b++) adv[b] = (adv[b] - mean) * scale;

        double pgLoss = 0, kl = 0;
        int clippedCount = 0;
        float[] ratioW = new float[m], refW = new float[m];
        for (int b = 0; b < m; b++) {
            double rho = ratio.data[b], lr = logRatio.data[b];
            boolean clipped = (adv[b] > 0 && rho > 1 + eps) || (adv[b] < 0 && rho < 1 - eps);
            if (rho > 1 + eps || rho < 1 - eps) clippedCount++;
            pgLoss += Math.max(-adv[b] * rho, -adv[b] * Math.clamp(rho, 1 - eps, 1 + eps)) / m;
            kl += ((rho - 1) - lr) / m;
            ratioW[b] = clipped ? 0f : (float) (-adv[b] / m);
            refW[b] = clipped ? 0f : (float) (-rho * c * scale / m);
        }
        if (frozen != null) {
            ratioW = frozen.ratioWeights();
            refW = frozen.referenceWeights();
        }
        Tensor loss = g.sum(g.mul(ratio, column(g, ratioW)));
        if (soft && c != 0) loss = g.add(loss, g.sum(g.mul(d.logReference(), column(g, refW))));
        float entropy;
        Tensor h = policy.meanEntropy(g, obs);
        if (h != null) {
            entropy = h.item();
            if (c != 0) loss = g.sub(loss, g.mulScalar(h, c));
        } else {
            entropy = (float) (-s.entropyScale() * meanL);
        }

        Tensor vTerm;
        float[] mask = new float[m];
        double vLoss = 0;
        if (value instanceof ValueFunction.Categorical categorical) {
            // Value loss mean(CE(logits, HLGauss(R))): the returns are clipped into the support, the loss is not
            HlGauss support = categorical.support();
            int bins = support.bins();
            float[] targets = new float[m * bins];
            boolean cached = r == targetsOf && rolloutTargets != null;
            for (int b = 0; b < m; b++) {
                int j = idx[from + b];
                if (cached) System.arraycopy(rolloutTargets, j * bins, targets, b * bins, bins);
                else support.targetDistribution(r.returns[j], targets, b * bins);
                mask[b] = 1f;
            }
            if (frozen != null) mask = frozen.valueMask();
            float[] rowWeights = new float[m];
            for (int b = 0; b < m; b++) rowWeights[b] = mask[b] / m;
            Tensor crossEntropy = support.crossEntropy(g, categorical.net().forward(g, obs), targets, rowWeights);
            vLoss = crossEntropy.item();
            vTerm = g.mulScalar(crossEntropy, s.valueCoef());
        } else {
            // Value loss ½·mean(max((V − R)², (V_old + clip(V − V_old, ±ε) − R)²)): the clipped branch has no
            // gradient unless it equals the unclipped one, so the loss is ½·mean over a mask of (V − R)².
            Tensor v = value.values(g, obs);
            Tensor ret = g.input(m, 1);
            for (int b = 0; b < m; b++) {
                int j = idx[from + b];
                ret.data[b] = r.returns[j];
                double diff = v.data[b] - r.returns[j];
                if (!s.clipValueLoss()) {
                    mask[b] = 1f;
                    vLoss += 0.5 * diff * diff / m;
                    continue;
                }
                double vClipped = r.values[j] + Math.clamp(v.data[b] - r.values[j], -eps, eps);
                double diffC = vClipped - r.returns[j];
                mask[b] = diff * diff >= diffC * diffC || Math.abs(v.data[b] - r.values[j]) <= eps ? 1f : 0f;
                vLoss += 0.5 * Math.max(diff * diff, diffC * diffC) / m;
            }
            if (frozen != null) mask = frozen.valueMask();
            vTerm = g.mulScalar(g.sum(g.mul(g.square(g.sub(v, ret)), column(g, mask))), 0.5f * s.valueCoef() / m);
        }
        loss = g.add(loss, vTerm);
        return new Step(loss, (float) pgLoss, (float) vLoss, entropy, (float) kl, clippedCount / (float) m,
                new Frozen(ratioW, refW, mask));
    }

    private static Tensor column(Graph g, float[] values) {
        Tensor t = g.input(values.length, 1);
        System.arraycopy(values, 0, t.data, 0, values.length);
        return t;
    }
}
