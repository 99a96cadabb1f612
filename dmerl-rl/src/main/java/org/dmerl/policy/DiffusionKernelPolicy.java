package org.dmerl.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.dmerl.nn.Activation;
import org.dmerl.nn.Linear;
import org.dmerl.nn.Mlp;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Init;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;

/**
 * One step of a diffusion policy as a policy of the diffusion-augmented MDP (spec §1.2).
 *
 * <p>Observation rows are (s, x_k, onehot(k)) as {@link DiffusionAugmentedEnv} builds them; the action is
 * x_{k+1} ~ q_θ(·|x_k, s, k) = N(x_k + η_k(−x_k/σ0² + f_θ(x_k, s, k)), 2η_k I) with η_k = Δt_k / γ_f, Δt_k and the
 * per-dimension friction γ_f softplus-parameterised. Its log-density term is the one-step log ratio
 * l_k = log q_θ(x_{k+1}|x_k, s) − log p(x_k|x_{k+1}), where the reference kernel p is the uncontrolled Langevin step
 * N(x_{k+1} + η_k(−x_{k+1}/σ0²), 2η_k I) ("principled", spec variant i) or, behind a flag, the authors'-code variant
 * N(x_{k+1} + η_{k+1}(−x_k/σ0²), 2η_{k+1} I) (variant ii).
 */
public final class DiffusionKernelPolicy implements StochasticPolicy {

    /** Which reference (backward) kernel the log ratio uses. */
    public enum BackwardKernel { PRINCIPLED, CODE }

    /**
     * How {@link #deterministic} acts at evaluation: ODE = x + η(−x/σ0² + ½f) without noise (the authors' code);
     * SDE = the stochastic kernel; MEAN = the kernel's mean x + η(−x/σ0² + f), the analogue of SAC's mean action.
     */
    public enum Sampler { ODE, SDE, MEAN }

    /**
     * @param etaMin lower bound on every η = Δt/γ_f (η is clipped; 0: none). DiffWPO with learned Δt and friction
     *               drove η from 0.14–0.5 down to 0.002–0.004 (Δt ≈ 0.01, friction ≈ 2.4), so the chain barely moved
     * @param etaMax upper bound on every η (0: none). DiffSAC with learned Δt and friction drove η up to 4–10 (friction
     *               ≈ 0.03), and one seed's log ratios then blew up (docs/results.md)
     */
    public record Settings(int steps, double sigma0, double dt, DiffusionSchedule schedule, double dtMin,
                           double friction, boolean learnDt, boolean learnFriction, BackwardKernel backward,
                           Sampler evalSampler, int[] hidden, int timeEmbedding, double etaMin, double etaMax) {

        public Settings {
            List<String> problems = etaBoundProblems(etaMin, etaMax);
            if (!problems.isEmpty()) throw new IllegalArgumentException(String.join("; ", problems));
        }

        /** What is wrong with a pair of η bounds (empty when valid); {@code Config} reports the same before a run. */
        public static List<String> etaBoundProblems(double etaMin, double etaMax) {
            List<String> p = new ArrayList<>();
            if (!(etaMin >= 0)) p.add("eta_min must be ≥ 0 (0: no bound), got " + etaMin);
            if (!(etaMax >= 0)) p.add("eta_max must be ≥ 0 (0: no bound), got " + etaMax);
            if (etaMax > 0 && etaMin > etaMax) p.add("eta_min " + etaMin + " is above eta_max " + etaMax);
            return p;
        }

        /** Without a bound on η. */
        public Settings(int steps, double sigma0, double dt, DiffusionSchedule schedule, double dtMin, double friction,
                        boolean learnDt, boolean learnFriction, BackwardKernel backward, Sampler evalSampler,
                        int[] hidden, int timeEmbedding) {
            this(steps, sigma0, dt, schedule, dtMin, friction, learnDt, learnFriction, backward, evalSampler, hidden,
                    timeEmbedding, 0.0, 0.0);
        }
    }

    private static final float HALF_LOG_2PI = (float) (0.5 * Math.log(2 * Math.PI));
    private static final int FOURIER = 32;

    private final int stateDim, actDim, steps;
    private final float invSigma0Sq;
    private final Settings settings;
    private final Mlp denoiser;
    private final Tensor fourierPhase, fourierFreq;
    private final Linear timeIn, timeOut;
    /** Δt_k = softplus(dtParam[k]), shape [K, 1]; friction γ_f = softplus(frictionParam), shape [1, d]. */
    private final Tensor dtParam, frictionParam;
    private final Tensor shiftNext;
    private final Rng evalRng;
    private Sampler evalSampler;
    private final Graph cacheGraph = new Graph();
    /** Batch-1 acting reads the time embedding and η of step k from these instead of recomputing them. */
    private final StepRows embeddingRows, etaRows;
    private final float[] rowInput, rowOutput;

    public DiffusionKernelPolicy(int stateDim, int actDim, Settings settings, Rng rng) {
        this.stateDim = stateDim;
        this.actDim = actDim;
        this.steps = settings.steps();
        this.settings = settings;
        this.invSigma0Sq = (float) (1 / (settings.sigma0() * settings.sigma0()));
        int temb = settings.timeEmbedding();
        fourierFreq = Tensor.zeros(1, FOURIER);
        for (int i = 0; i < FOURIER; i++) fourierFreq.data[i] = (float) (0.1 + (100 - 0.1) * i / (FOURIER - 1));
        fourierPhase = Tensor.param("temb.phase", 1, FOURIER);
        timeIn = new Linear("temb.in", 2 * FOURIER, 32, Linear.WeightInit.LECUN_NORMAL, rng);
        timeOut = new Linear("temb.out", 32, temb, Linear.WeightInit.LECUN_NORMAL, rng);
        denoiser = new Mlp("denoiser", actDim + stateDim + temb, settings.hidden(), actDim, Activation.GELU,
                Linear.WeightInit.LECUN_NORMAL, false, rng).scaleOutput(1e-8f)
                // acting: the state is the same for the K steps of one action, the time embedding one of K rows
                .recurringRowInput(actDim, actDim + stateDim, 1)
                .recurringRowInput(actDim + stateDim, actDim + stateDim + temb, steps);
        dtParam = Tensor.param("diffusion.dt", steps, 1);
        for (int k = 0; k < steps; k++) {
            dtParam.data[k] = inverseSoftplus(settings.dt() * settings.schedule().factor(k, steps, settings.dtMin()));
        }
        frictionParam = Tensor.param("diffusion.friction", 1, actDim);
        Init.constant(frictionParam, inverseSoftplus(settings.friction()));
        dtParam.setRequiresGrad(settings.learnDt());
        frictionParam.setRequiresGrad(settings.learnFriction());
        // onehot(k) · shiftNext = onehot(min(k + 1, K − 1)): the step index the code-variant backward kernel uses
        shiftNext = Tensor.zeros(steps, steps);
        for (int k = 0; k < steps; k++) shiftNext.set(k, Math.min(k + 1, steps - 1), 1f);
        evalRng = rng.split();
        evalSampler = settings.evalSampler();
        embeddingRows = new StepRows(new Tensor[] {fourierPhase, timeIn.weight, timeIn.bias, timeOut.weight, timeOut.bias},
                k -> {
                    Tensor kt = cacheGraph.input(1, 1);
                    kt.data[0] = k;
                    return embed(cacheGraph, kt);
                });
        etaRows = new StepRows(new Tensor[] {dtParam, frictionParam}, k -> {
            Tensor oneHot = cacheGraph.input(1, steps);
            java.util.Arrays.fill(oneHot.data, 0, steps, 0f);   // graph inputs come from a reused arena
            oneHot.data[k] = 1f;
            return eta(cacheGraph, oneHot);
        });
        rowInput = new float[denoiser.in()];
        rowOutput = new float[actDim];
    }

    /** Overrides the evaluation sampler of the settings (e.g. {@code dmerl eval --sampler ode}). */
    public void setEvalSampler(Sampler sampler) {
        evalSampler = sampler;
    }

    @Override
    public void resetEvalNoise(long seed) {
        evalRng.setState(new Rng(seed).state());
    }

    static float inverseSoftplus(double y) {
        return (float) (y > 20 ? y : Math.log(Math.expm1(y)));
    }

    public Settings settings() { return settings; }
    public int stateDim() { return stateDim; }
    public int steps() { return steps; }

    @Override public int observationDim() { return stateDim + actDim + steps; }
    @Override public int actionDim() { return actDim; }
    @Override public int noiseDim() { return actDim; }

    /** The quantities of one kernel step for a batch of augmented observations. */
    private record Step(Tensor x, Tensor eta, Tensor drift, Tensor oneHot) {}

    private Step prepare(Graph g, Tensor obs, boolean odeHalfControl) {
        if (obs.cols() != observationDim()) {
            throw new IllegalArgumentException("diffusion policy expects observations of width " + observationDim()
                    + " (state " + stateDim + " + x " + actDim + " + onehot " + steps + "), got " + obs.shape());
        }
        Tensor s = g.slice(obs, 0, stateDim);
        Tensor x = g.slice(obs, stateDim, stateDim + actDim);
        Tensor oneHot = g.slice(obs, stateDim + actDim, observationDim());
        Tensor eta = eta(g, oneHot);
        Tensor f = g.clamp(denoiser.forward(g, g.concat(x, s, timeEmbedding(g, oneHot))), -1e4f, 1e4f);
        if (odeHalfControl) f = g.mulScalar(f, 0.5f);
        Tensor drift = g.add(g.mulScalar(x, -invSigma0Sq), f);
        return new Step(x, eta, drift, oneHot);
    }

    /** The forward kernel's mean x_k + η(−x_k/σ0² + f) (with ½f when the step was prepared for the ODE). */
    private static Tensor kernelMean(Graph g, Step st) {
        return g.add(st.x(), g.mul(st.eta(), st.drift()));
    }

    /** η = Δt_k / γ_f per row and dimension: [B, d]. */
    private Tensor eta(Graph g, Tensor oneHot) {
        Tensor dt = g.matmul(oneHot, g.softplus(dtParam));
        Tensor eta = g.div(dt, g.softplus(frictionParam));
        if (settings.etaMin() == 0 && settings.etaMax() == 0) return eta;
        float hi = settings.etaMax() > 0 ? (float) settings.etaMax() : Float.MAX_VALUE;
        return g.clamp(eta, (float) settings.etaMin(), hi);
    }

    /**
     * Fourier features of the integer step k with learned phase, then Linear → GELU → Linear (spec §1.2). Acting at
     * batch 1 without gradients reads the K possible rows from a cache kept until a parameter changes; each row is
     * computed by the batch-1 pass acting would run, so cached and fresh values agree bit for bit.
     */
    private Tensor timeEmbedding(Graph g, Tensor oneHot) {
        if (!g.gradEnabled() && oneHot.rows() == 1) {
            Tensor out = g.input(oneHot.rows(), settings.timeEmbedding());
            for (int r = 0; r < oneHot.rows(); r++) {
                float[] row = embeddingRows.get(stepIndex(oneHot.data, r * steps));
                System.arraycopy(row, 0, out.data, r * row.length, row.length);
            }
            return out;
        }
        Tensor k = g.input(oneHot.rows(), 1);
        for (int r = 0; r < oneHot.rows(); r++) k.data[r] = stepIndex(oneHot.data, r * steps);
        return embed(g, k);
    }

    /** The step k of the one-hot block {@code data[offset .. offset + K)}. */
    private int stepIndex(float[] data, int offset) {
        int idx = 0;
        for (int j = 0; j < steps; j++) if (data[offset + j] > 0.5f) idx = j;
        return idx;
    }

    /**
     * One row per diffusion step k, computed by the graph path's batch-1 pass on first use, so cached and fresh values
     * agree bit for bit, and dropped when one of the parameters it was computed from changes version.
     */
    private final class StepRows {
        private final Tensor[] params;
        private final long[] versions;
        private final java.util.function.IntFunction<Tensor> compute;
        private final float[][] rows = new float[steps][];

        StepRows(Tensor[] params, java.util.function.IntFunction<Tensor> compute) {
            this.params = params;
            this.versions = new long[params.length];
            java.util.Arrays.fill(versions, -1);
            this.compute = compute;
        }

        float[] get(int k) {
            boolean stale = false;
            for (int i = 0; i < params.length; i++) {
                stale |= params[i].version() != versions[i];
                versions[i] = params[i].version();
            }
            if (stale) java.util.Arrays.fill(rows, null);
            if (rows[k] == null) {
                cacheGraph.reset();
                cacheGraph.setGradEnabled(false);
                rows[k] = compute.apply(k).toArray();
            }
            return rows[k];
        }
    }

    private Tensor embed(Graph g, Tensor k) {
        Tensor angle = g.add(g.mul(k, fourierFreq), fourierPhase);
        Tensor features = g.concat(g.sin(angle), g.cos(angle));
        return timeOut.forward(g, g.gelu(timeIn.forward(g, features)));
    }

    @Override
    public Sample sample(Graph g, Tensor obs, Tensor noise) {
        Step st = prepare(g, obs, false);
        Tensor mean = kernelMean(g, st);
        Tensor std = g.sqrt(g.mulScalar(st.eta(), 2f));
        Tensor next = g.add(mean, g.mul(std, noise));
        // log q(x'|x): (x' − mean)/std is the noise itself
        Tensor logQ = g.sumCols(g.sub(g.addScalar(g.mulScalar(g.square(noise), -0.5f), -HALF_LOG_2PI), g.log(std)));
        Tensor logP = backwardLogProb(g, st, next);
        return new Sample(next, g.sub(logQ, logP), logQ);
    }

    /** The sampled x_{k+1} alone: the same values as {@link #sample}, without the log-densities acting never reads. */
    @Override
    public Tensor act(Graph g, Tensor obs, Tensor noise) {
        if (rowActing(g, obs)) return rowStep(g, obs, false, noise);
        Step st = prepare(g, obs, false);
        return g.add(kernelMean(g, st), g.mul(g.sqrt(g.mulScalar(st.eta(), 2f)), noise));
    }

    /** Acting at batch 1 without gradients skips the tape (K network passes per environment step). */
    private boolean rowActing(Graph g, Tensor obs) {
        return !g.gradEnabled() && obs.rows() == 1 && obs.cols() == observationDim();
    }

    /**
     * One kernel step for one row computed on plain arrays, with the operations of {@link #prepare},
     * {@link #kernelMean} and {@link #act} in the same order, so the values equal the graph path's bit for bit
     * (DiffusionActingTest): the kernel mean, or with {@code noise} the sampled x_{k+1}.
     */
    private Tensor rowStep(Graph g, Tensor obs, boolean odeHalfControl, Tensor noise) {
        float[] o = obs.data, in = rowInput, f = rowOutput;
        int k = stepIndex(o, stateDim + actDim);
        System.arraycopy(o, stateDim, in, 0, actDim);
        System.arraycopy(o, 0, in, actDim, stateDim);
        float[] temb = embeddingRows.get(k);
        System.arraycopy(temb, 0, in, actDim + stateDim, temb.length);
        denoiser.forwardRow(in, f);
        float[] eta = etaRows.get(k);
        Tensor out = g.input(1, actDim);
        for (int i = 0; i < actDim; i++) {
            float fi = Math.max(-1e4f, Math.min(1e4f, f[i]));
            if (odeHalfControl) fi = fi * 0.5f;
            float x = o[stateDim + i];
            float mean = x + eta[i] * (x * -invSigma0Sq + fi);
            out.data[i] = noise == null ? mean : mean + (float) Math.sqrt(eta[i] * 2f) * noise.data[i];
        }
        return out;
    }

    /** log p(x_k | x_{k+1}) under the reference kernel. */
    private Tensor backwardLogProb(Graph g, Step st, Tensor next) {
        Tensor eta = settings.backward() == BackwardKernel.PRINCIPLED ? st.eta()
                : eta(g, g.matmul(st.oneHot(), shiftNext));
        Tensor driftAt = settings.backward() == BackwardKernel.PRINCIPLED ? next : st.x();
        Tensor meanB = g.add(next, g.mul(eta, g.mulScalar(driftAt, -invSigma0Sq)));
        return gaussianLogProb(g, st.x(), meanB, g.mulScalar(eta, 2f));
    }

    /** log q_θ(x'|x_k, s) for given x' (used by the PPO ratio and the WPO gradient). */
    public Tensor logProb(Graph g, Tensor obs, Tensor next) {
        Step st = prepare(g, obs, false);
        return forwardLogProb(g, st, next);
    }

    /** log q_θ(x'|x_k, s) and log p(x_k|x') from one pass of the denoiser (DiffPPO's ratio and destination term). */
    @Override
    public Densities densities(Graph g, Tensor obs, Tensor next) {
        Step st = prepare(g, obs, false);
        return new Densities(forwardLogProb(g, st, next), backwardLogProb(g, st, next));
    }

    /** The one-step log ratio l_k for a given x'. */
    public Tensor logRatio(Graph g, Tensor obs, Tensor next) {
        Step st = prepare(g, obs, false);
        return g.sub(forwardLogProb(g, st, next), backwardLogProb(g, st, next));
    }

    private Tensor forwardLogProb(Graph g, Step st, Tensor next) {
        return gaussianLogProb(g, next, kernelMean(g, st), g.mulScalar(st.eta(), 2f));
    }

    /** Σ_dims log N(value; mean, var) per row. */
    private static Tensor gaussianLogProb(Graph g, Tensor value, Tensor mean, Tensor var) {
        Tensor z2 = g.div(g.square(g.sub(value, mean)), var);
        return g.sumCols(g.addScalar(g.add(g.mulScalar(z2, -0.5f), g.mulScalar(g.log(var), -0.5f)), -HALF_LOG_2PI));
    }

    /**
     * ∇_{x'} l_θ(x') at a fixed x' = x_{k+1}: −(x' − μ_θ)/(2η) − c·(x_k − μ_b)/(2η_b), where μ_b is the reference
     * kernel's mean and c = ∂μ_b/∂x' (1 − η/σ0² for the principled kernel, 1 for the code variant). θ enters only
     * through the forward mean μ_θ and through η (learned Δt and friction), so first-order autodiff of this tensor
     * yields DiffWPO's ∇_θ∇ₓ l_θ.
     */
    @Override
    public Tensor actionScore(Graph g, Tensor obs, Tensor next) {
        Step st = prepare(g, obs, false);
        Tensor mean = kernelMean(g, st);
        Tensor forward = g.neg(g.div(g.sub(next, mean), g.mulScalar(st.eta(), 2f)));
        boolean principled = settings.backward() == BackwardKernel.PRINCIPLED;
        Tensor etaB = principled ? st.eta() : eta(g, g.matmul(st.oneHot(), shiftNext));
        Tensor driftAt = principled ? next : st.x();
        Tensor meanB = g.add(next, g.mul(etaB, g.mulScalar(driftAt, -invSigma0Sq)));
        Tensor backward = g.div(g.sub(st.x(), meanB), g.mulScalar(etaB, 2f));
        if (principled) backward = g.mul(backward, g.addScalar(g.mulScalar(etaB, -invSigma0Sq), 1f));
        return g.sub(forward, backward);
    }

    @Override
    public Tensor deterministic(Graph g, Tensor obs) {
        if (evalSampler == Sampler.SDE) {
            Tensor noise = g.input(obs.rows(), actDim);
            evalRng.fillGaussian(noise.data, 0, noise.size());
            return act(g, obs, noise);
        }
        // ODE: probability-flow style step x + η(−x/σ0² + ½ f), no noise (spec: ode_coeff 0.5); MEAN: full f
        if (rowActing(g, obs)) return rowStep(g, obs, evalSampler == Sampler.ODE, null);
        Step st = prepare(g, obs, evalSampler == Sampler.ODE);
        return kernelMean(g, st);
    }

    /** Current Δt_k values. */
    public double[] stepSizes() {
        double[] out = new double[steps];
        for (int k = 0; k < steps; k++) out[k] = Math.log1p(Math.exp(dtParam.data[k]));
        return out;
    }

    /** η at step k per action dimension (the kernel's variance is 2η), as the kernel currently uses it. */
    public double[] stepEta(int k) {
        Objects.checkIndex(k, steps);
        float[] eta = etaRows.get(k);
        double[] out = new double[actDim];
        for (int i = 0; i < actDim; i++) out[i] = eta[i];
        return out;
    }

    public Mlp denoiser() { return denoiser; }

    @Override
    public List<Tensor> parameters() {
        List<Tensor> ps = new ArrayList<>(denoiser.parameters());
        ps.add(fourierPhase);
        ps.addAll(timeIn.parameters());
        ps.addAll(timeOut.parameters());
        if (settings.learnDt()) ps.add(dtParam);
        if (settings.learnFriction()) ps.add(frictionParam);
        return ps;
    }

    /** All state, learned or not, for checkpoints. */
    @Override
    public List<Tensor> stateTensors() {
        List<Tensor> ps = new ArrayList<>(denoiser.parameters());
        ps.add(fourierPhase);
        ps.addAll(timeIn.parameters());
        ps.addAll(timeOut.parameters());
        ps.add(dtParam);
        ps.add(frictionParam);
        return ps;
    }
}
