package org.dmerl.algo;

import org.dmerl.env.Env;
import org.dmerl.env.RecordEpisodeStatistics;
import org.dmerl.env.StepResult;
import org.dmerl.env.SubStepEnv;
import org.dmerl.policy.StochasticPolicy;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;

/**
 * The off-policy loop: act, store, update, evaluate. It counts real environment steps; on the diffusion-augmented
 * MDP one real step spans K agent steps ({@link SubStepEnv}), and learning_starts, utd, eval_every and the
 * run length are all in real steps.
 */
public final class OffPolicyTrainer {

    private final Config cfg;
    private final Env env, evalEnv;
    private final StochasticPolicy policy;
    private final Sac sac;
    private final ReplayBuffer buffer;
    /** Held sub-steps of the real step in progress ({@code chain_target} real / real_entropy), or null. */
    private final Chain chain;
    private final Rng actRng, learnRng;
    private final boolean randomWarmup;
    private final float gammaPerAgentStep;
    private final boolean discountOnlyAtRealSteps;
    private final TrainingListener listener;
    private final Evaluator evaluator = new Evaluator();
    private final Graph actGraph = new Graph();

    private long envSteps, agentSteps, gradSteps;
    private double gradCredit;
    private double lastEvalMean = Double.NaN, lastEvalStd = Double.NaN;
    private double[] obs;

    public OffPolicyTrainer(Config cfg, Env env, Env evalEnv, StochasticPolicy policy, Sac sac, Rng rng,
                            boolean randomWarmup, float gammaPerAgentStep, boolean discountOnlyAtRealSteps,
                            TrainingListener listener) {
        this.cfg = cfg;
        this.env = env;
        this.evalEnv = evalEnv;
        this.policy = policy;
        this.sac = sac;
        this.randomWarmup = randomWarmup;
        this.gammaPerAgentStep = gammaPerAgentStep;
        this.discountOnlyAtRealSteps = discountOnlyAtRealSteps;
        this.listener = listener;
        this.actRng = rng.split();
        this.learnRng = rng.split();
        int capacity = (int) Math.min(cfg.getInt("buffer_size"), Math.max(1L, cfg.getLong("steps") * agentStepsPerEnvStep()));
        buffer = new ReplayBuffer(capacity, policy.observationDim(), policy.actionDim(), cfg.getInt("batch_size"));
        boolean subSteps = env.unwrap(SubStepEnv.class).isPresent();
        String chainTarget = cfg.getString("chain_target");
        chain = switch (chainTarget) {
            case "substep" -> null;
            case "real", "real_entropy" -> subSteps
                    ? new Chain(agentStepsPerEnvStep(), policy.observationDim(), policy.actionDim()) : null;
            default -> throw new IllegalArgumentException("chain_target must be substep, real or real_entropy, got '"
                    + chainTarget + "'");
        };
        if (chain != null && chainTarget.equals("real_entropy")) {
            buffer.withChains(agentStepsPerEnvStep(), cfg.getString("chain_entropy_estimate").equals("one"));
        }
    }

    private int agentStepsPerEnvStep() {
        return env.unwrap(SubStepEnv.class).map(SubStepEnv::subSteps).orElse(1);
    }

    private Checkpoints checkpoints;
    private double wallOffset;

    public OffPolicyTrainer withCheckpoints(Checkpoints c) {
        this.checkpoints = c;
        return this;
    }

    public TrainingResult run() {
        long totalSteps = cfg.getLong("steps");
        long evalEvery = cfg.getLong("eval_every");
        long learningStarts = cfg.getLong("learning_starts");
        long checkpointEvery = cfg.getLong("checkpoint_every") > 0 ? cfg.getLong("checkpoint_every")
                : Math.max(1, totalSteps / 10);
        double utd = cfg.getDouble("utd");
        long seed = cfg.getLong("seed");
        int evalEpisodes = cfg.getInt("eval_episodes");
        var counter = env.unwrap(SubStepEnv.class);
        var stats = env.unwrap(RecordEpisodeStatistics.class).orElseThrow(
                () -> new IllegalStateException("training env needs RecordEpisodeStatistics"));

        long start = System.nanoTime();
        long learningStartNanos = 0, learningStartSteps = 0;
        float[] s = new float[policy.observationDim()], a = new float[policy.actionDim()];
        float[] s2 = new float[policy.observationDim()];
        double[] action = new double[policy.actionDim()];
        obs = env.reset(seed);
        boolean needsReset = false;
        if (checkpoints != null && checkpoints.resumeFrom() != null) {
            restore(checkpoints.resumeFrom());
            needsReset = true;
        }
        long nextCheckpoint = (envSteps / checkpointEvery + 1) * checkpointEvery;
        while (envSteps < totalSteps) {
            if (needsReset) {
                // Between episodes the whole run state is on hand: the natural place for an exact checkpoint.
                if (checkpoints != null && envSteps >= nextCheckpoint) {
                    saveCheckpoint(wallOffset + (System.nanoTime() - start) / 1e9);
                    listener.onPolicy(envSteps, policy, cfg, observationStatistics());
                    nextCheckpoint = (envSteps / checkpointEvery + 1) * checkpointEvery;
                }
                obs = env.reset();
                needsReset = false;
            }
            boolean warmup = envSteps < learningStarts;
            if (warmup && randomWarmup) {
                for (int i = 0; i < action.length; i++) action[i] = actRng.uniform(-1, 1);
            } else {
                sampleAction(obs, action);
            }
            StepResult r = env.step(action);
            agentSteps++;
            boolean real = counter.map(SubStepEnv::lastStepWasReal).orElse(true);
            toFloat(obs, s);
            toFloat(action, a);
            toFloat(r.observation(), s2);
            float discount = r.terminated() ? 0f
                    : (discountOnlyAtRealSteps && !real) ? 1f : gammaPerAgentStep;
            if (chain != null) {
                chain.add(s, a, (float) r.reward(), discount);
                if (real || r.done()) chain.flushTo(buffer, s2);
            } else {
                buffer.add(s, a, r.reward(), s2, discount);
            }
            obs = r.observation();
            needsReset = r.done();
            if (!real) continue;

            envSteps++;
            if (envSteps >= learningStarts && buffer.size() >= cfg.getInt("batch_size")) {
                if (learningStartNanos == 0) {
                    learningStartNanos = System.nanoTime();
                    learningStartSteps = envSteps;
                }
                gradCredit += utd;
                while (gradCredit >= 1) {
                    Losses l = sac.update(buffer.sample(learnRng), learnRng);
                    gradCredit -= 1;
                    gradSteps++;
                    if (!Float.isFinite(l.criticLoss()) || !Float.isFinite(l.actorLoss())) {
                        throw new TrainingDivergedException("non-finite loss at env step " + envSteps + " (critic "
                                + l.criticLoss() + ", actor " + l.actorLoss() + ", alpha " + l.alpha() + ")");
                    }
                }
            }
            double wall = wallOffset + (System.nanoTime() - start) / 1e9;
            if (r.done()) {
                listener.onEpisode(new TrainingListener.Episode(envSteps, wall, stats.lastEpisodeReturn(),
                        stats.lastEpisodeLength(), sac.lastLosses(),
                        envSteps / Math.max(wall, 1e-9)));
            }
            if (envSteps % evalEvery == 0 || envSteps == totalSteps) {
                Evaluator.Stats e = evaluator.evaluate(evalEnv, policy, evalEpisodes, seed + 1_000_003L);
                lastEvalMean = e.mean();
                lastEvalStd = e.std();
                listener.onEvaluation(new TrainingListener.Evaluation(envSteps, wall, e.mean(), e.std(), e.episodes()));
            }
            if ((envSteps & 63) == 0 || envSteps == totalSteps) {
                listener.onProgress(envSteps, totalSteps, wall, lastEvalMean);
            }
        }
        double wall = wallOffset + (System.nanoTime() - start) / 1e9;
        if (checkpoints != null) saveCheckpoint(wall);
        listener.onPolicy(envSteps, policy, cfg, observationStatistics());
        double learnSps = learningStartNanos == 0 ? Double.NaN
                : (envSteps - learningStartSteps) / Math.max(1e-9, (System.nanoTime() - learningStartNanos) / 1e9);
        return new TrainingResult(cfg.getString("algo"), cfg.getString("env"), seed, envSteps, agentSteps, gradSteps,
                wall, envSteps / wall, learnSps, lastEvalMean, lastEvalStd, cfg.getInt("threads"));
    }

    /**
     * Writes everything the run needs to continue exactly: networks, optimisers, temperature, replay buffer, RNG
     * states of learner and envs, counters.
     */
    private void saveCheckpoint(double wall) {
        org.dmerl.tensor.TensorArchive a = new org.dmerl.tensor.TensorArchive();
        a.putString("kind", "dmerl-offpolicy-checkpoint");
        cfg.writeTo(a);
        a.putLongs("counters", new long[] {envSteps, agentSteps, gradSteps});
        a.putDoubles("scalars", new double[] {gradCredit, lastEvalMean, lastEvalStd, wall});
        a.putLongs("rng/act", actRng.state());
        a.putLongs("rng/learn", learnRng.state());
        Checkpoints.writeEnvRngs(a, "rng/env", env);
        var obsStats = observationStatistics();
        if (obsStats != null) obsStats.writeTo(a, "obs_norm");
        sac.save(a);
        buffer.save(a);
        checkpoints.write(a);
    }

    private void restore(org.dmerl.tensor.TensorArchive a) {
        long[] c = a.getLongs("counters");
        envSteps = c[0];
        agentSteps = c[1];
        gradSteps = c[2];
        double[] sc = a.getDoubles("scalars");
        gradCredit = sc[0];
        lastEvalMean = sc[1];
        lastEvalStd = sc[2];
        wallOffset = sc[3];
        actRng.setState(a.getLongs("rng/act"));
        learnRng.setState(a.getLongs("rng/learn"));
        Checkpoints.readEnvRngs(a, "rng/env", env);
        env.unwrap(org.dmerl.env.NormalizeObservation.class).ifPresent(n -> n.setStatistics(
                Checkpoints.readStatistics(a, "obs_norm")));
        sac.restore(a);
        buffer.restore(a);
    }

    private org.dmerl.env.RunningMeanStd observationStatistics() {
        return env.unwrap(org.dmerl.env.NormalizeObservation.class).map(org.dmerl.env.NormalizeObservation::statistics)
                .orElse(null);
    }

    private void sampleAction(double[] o, double[] out) {
        actGraph.reset();
        actGraph.setGradEnabled(false);
        Tensor ot = actGraph.inputRow(o);
        Tensor noise = actGraph.input(1, policy.noiseDim());
        actRng.fillGaussian(noise.data, 0, noise.size());
        Tensor act = policy.act(actGraph, ot, noise);
        for (int i = 0; i < out.length; i++) out[i] = act.data[i];
    }

    private static void toFloat(double[] src, float[] dst) {
        for (int i = 0; i < dst.length; i++) dst[i] = (float) src[i];
    }

    public long envSteps() { return envSteps; }
    public long gradSteps() { return gradSteps; }

    /**
     * {@code chain_target: real}: the sub-steps of one real step, held back until the real step is taken and then
     * stored with that step's next state, so that every sub-step bootstraps from the next real state (the return of
     * the chain's remaining sub-steps, as the behaviour took them, folded into its reward and discount) instead of from
     * the next sub-step: values then need one bootstrap per real step to reach the chain's first sub-step, not K.
     * With {@code real} the remaining sub-steps' log-ratio terms are left out of the target, so each chain's entropy
     * enters the values only through its first sub-step. With {@code real_entropy} the buffer links each sub-step to
     * the ones after it, and the learner subtracts their log ratios under its current parameters (times α).
     */
    static final class Chain {
        final float[][] obs, actions;
        final float[] rewards, discounts, ownDiscounts;
        int length;

        Chain(int subSteps, int obsDim, int actDim) {
            obs = new float[subSteps][obsDim];
            actions = new float[subSteps][actDim];
            rewards = new float[subSteps];
            discounts = new float[subSteps];
            ownDiscounts = new float[subSteps];
        }

        void add(float[] s, float[] a, float reward, float discount) {
            System.arraycopy(s, 0, obs[length], 0, s.length);
            System.arraycopy(a, 0, actions[length], 0, a.length);
            rewards[length] = reward;
            discounts[length] = discount;
            ownDiscounts[length] = discount;
            length++;
        }

        /**
         * y_j = Σ_{i≥j} (Π_{j≤l<i} d_l) r_i [− α Σ_{i>j} (Π_{j≤l<i} d_l) l_i] + (Π_{l≥j} d_l)·V(next): stored as the
         * first sum and the product with {@code next}, and for the bracket the count of later sub-steps (stored next)
         * and d_j.
         */
        void flushTo(ReplayBuffer buffer, float[] next) {
            float reward = 0f, discount = 1f;
            for (int j = length - 1; j >= 0; j--) {
                reward = rewards[j] + discounts[j] * reward;
                discount = discounts[j] * discount;
                rewards[j] = reward;
                discounts[j] = discount;
            }
            for (int j = 0; j < length; j++) {
                buffer.add(obs[j], actions[j], rewards[j], next, discounts[j], length - 1 - j, ownDiscounts[j]);
            }
            length = 0;
        }
    }
}
