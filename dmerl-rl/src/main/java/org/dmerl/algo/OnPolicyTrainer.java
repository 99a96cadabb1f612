package org.dmerl.algo;

import java.util.Optional;

import org.dmerl.env.Env;
import org.dmerl.env.NormalizeObservation;
import org.dmerl.env.NormalizeReward;
import org.dmerl.env.RecordEpisodeStatistics;
import org.dmerl.env.RunningMeanStd;
import org.dmerl.env.SubStepEnv;
import org.dmerl.env.VectorEnv;
import org.dmerl.env.VectorStep;
import org.dmerl.policy.StochasticPolicy;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;

/**
 * The on-policy loop: collect a rollout from N copies, compute GAE, run PPO's epochs, evaluate. It counts real
 * environment steps; on the diffusion-augmented MDP every copy takes K agent steps per real step (in lockstep, since
 * episodes end only at real steps), and with {@code k_scaled_rollouts} a rollout has K× the agent steps so it spans
 * the same real steps as plain PPO's.
 */
public final class OnPolicyTrainer {

    private final Config cfg;
    private final VectorEnv envs;
    private final Env evalEnv;
    private final StochasticPolicy policy;
    private final ValueFunction value;
    private final Ppo ppo;
    private final Rng actRng, learnRng;
    private final float gammaPerStep, lambdaPerStep;
    private final boolean discountOnlyAtRealSteps, softRewards;
    private final TrainingListener listener;
    private final Evaluator evaluator = new Evaluator();
    private final Graph actGraph = new Graph();
    private long envSteps, agentSteps, gradSteps, iteration;
    private double lastEvalMean = Double.NaN, lastEvalStd = Double.NaN;
    private Checkpoints checkpoints;
    private double wallOffset;

    public OnPolicyTrainer(Config cfg, VectorEnv envs, Env evalEnv, StochasticPolicy policy, ValueFunction value,
                           Ppo ppo, Rng rng, float gammaPerStep, float lambdaPerStep, boolean discountOnlyAtRealSteps,
                           boolean softRewards, TrainingListener listener) {
        this.cfg = cfg;
        this.envs = envs;
        this.evalEnv = evalEnv;
        this.policy = policy;
        this.value = value;
        this.ppo = ppo;
        this.actRng = rng.split();
        this.learnRng = rng.split();
        this.gammaPerStep = gammaPerStep;
        this.lambdaPerStep = lambdaPerStep;
        this.discountOnlyAtRealSteps = discountOnlyAtRealSteps;
        this.softRewards = softRewards;
        this.listener = listener;
    }

    public OnPolicyTrainer withCheckpoints(Checkpoints c) {
        this.checkpoints = c;
        return this;
    }

    /** Agent steps per copy in one rollout. */
    public static int rolloutLength(Config cfg, int subSteps) {
        return cfg.getInt("rollout_steps") * (cfg.getBool("k_scaled_rollouts") ? subSteps : 1);
    }

    public TrainingResult run() {
        long totalSteps = cfg.getLong("steps"), seed = cfg.getLong("seed");
        int n = envs.numEnvs();
        Optional<SubStepEnv> sub = envs.env(0).unwrap(SubStepEnv.class);
        int subSteps = sub.map(SubStepEnv::subSteps).orElse(1);
        int t = rolloutLength(cfg, subSteps);
        long realPerRollout = Math.max(1, (long) t * n / subSteps);
        long iterations = (totalSteps + realPerRollout - 1) / realPerRollout;
        float lr0 = cfg.getFloat("lr"), c = cfg.getFloat("ent_coef");
        long evalEvery = cfg.getLong("eval_every");
        long policyEvery = cfg.getLong("checkpoint_every") > 0 ? cfg.getLong("checkpoint_every") : Math.max(1, totalSteps / 10);
        RecordEpisodeStatistics[] stats = new RecordEpisodeStatistics[n];
        for (int i = 0; i < n; i++) {
            stats[i] = envs.env(i).unwrap(RecordEpisodeStatistics.class).orElseThrow(
                    () -> new IllegalStateException("training env needs RecordEpisodeStatistics"));
        }
        Rollout r = new Rollout(t, n, policy.observationDim(), policy.actionDim());
        float[] lastValues = new float[n];
        double[][] actions = new double[n][policy.actionDim()];
        long start = System.nanoTime();
        double[][] obs = envs.reset(seed);
        if (checkpoints != null && checkpoints.resumeFrom() != null) {
            restore(checkpoints.resumeFrom());
            // Episodes in flight at the checkpoint are not in it: every copy starts a new one from its restored RNG
            // (only if there are steps left: a reset also feeds the observation statistics).
            if (envSteps < totalSteps) obs = envs.reset();
        }
        long nextEval = (envSteps / evalEvery + 1) * evalEvery, nextPolicy = (envSteps / policyEvery + 1) * policyEvery;
        // rollouts may span a fractional number of real steps (K ∤ T): run until the budget is met, not a fixed count
        for (; envSteps < totalSteps; iteration++) {
            if (cfg.getBool("anneal_lr")) {
                ppo.optimizer().setLearningRate(lr0 * Math.max(1f / iterations, 1f - (float) iteration / iterations));
            }
            for (int step = 0; step < t; step++) {
                int row = step * n;
                act(obs, r, row, actions);
                VectorStep vs = envs.step(actions);
                agentSteps += n;
                boolean real = sub.map(SubStepEnv::lastStepWasReal).orElse(true);
                if (real) envSteps += n;
                double wall = wallOffset + (System.nanoTime() - start) / 1e9;
                for (int i = 0; i < n; i++) {
                    int j = row + i;
                    r.rewards[j] = (float) vs.rewards()[i];
                    r.learnRewards[j] = softRewards ? r.rewards[j] - c * r.learnRewards[j] : r.rewards[j];
                    r.terminated[j] = vs.terminated()[i];
                    r.truncated[j] = vs.truncated()[i] && !vs.terminated()[i];
                    boolean discountHere = real || !discountOnlyAtRealSteps;
                    r.discounts[j] = discountHere ? gammaPerStep : 1f;
                    r.lambdas[j] = discountHere ? lambdaPerStep : 1f;
                    if (r.truncated[j]) r.bootstrapValues[j] = valueOf(vs.finalObservations()[i]);
                    if (vs.done(i)) {
                        listener.onEpisode(new TrainingListener.Episode(envSteps, wall, stats[i].lastEpisodeReturn(),
                                stats[i].lastEpisodeLength(), ppo.lastLosses(), envSteps / Math.max(wall, 1e-9)));
                    }
                }
                obs = vs.observations();
                if ((agentSteps / n & 63) == 0) listener.onProgress(Math.min(envSteps, totalSteps), totalSteps, wall, lastEvalMean);
            }
            values(obs, lastValues);
            r.computeAdvantages(lastValues);
            ppo.update(r, learnRng);
            gradSteps += (long) cfg.getInt("update_epochs") * minibatches(cfg, subSteps);
            double wall = wallOffset + (System.nanoTime() - start) / 1e9;
            boolean last = envSteps >= totalSteps;
            if (envSteps >= nextEval || last) {
                evaluate(wall, seed);
                nextEval = (envSteps / evalEvery + 1) * evalEvery;
            }
            if (envSteps >= nextPolicy && !last) {
                if (checkpoints != null) saveCheckpoint(wall);
                listener.onPolicy(envSteps, policy, cfg, observationStatistics());
                nextPolicy = (envSteps / policyEvery + 1) * policyEvery;
            }
            listener.onProgress(Math.min(envSteps, totalSteps), totalSteps, wall, lastEvalMean);
        }
        double wall = wallOffset + (System.nanoTime() - start) / 1e9;
        if (checkpoints != null) saveCheckpoint(wall);
        listener.onPolicy(envSteps, policy, cfg, observationStatistics());
        return new TrainingResult(cfg.getString("algo"), cfg.getString("env"), seed, envSteps, agentSteps, gradSteps,
                wall, envSteps / wall, envSteps / wall, lastEvalMean, lastEvalStd, cfg.getInt("threads"));
    }

    /**
     * Writes the learner's whole state at a rollout boundary: networks, optimiser, counters, the learning-rate
     * schedule's position, learner and env RNG states, and every copy's observation and reward statistics. The
     * episodes in flight are not saved (a MuJoCo state mid-episode would need the simulator's full state), so a
     * resumed run starts new episodes: it continues the learning exactly but is not bit-identical to a run that was
     * never stopped, unlike an off-policy resume, which checkpoints between episodes.
     */
    private void saveCheckpoint(double wall) {
        org.dmerl.tensor.TensorArchive a = new org.dmerl.tensor.TensorArchive();
        a.putString("kind", "dmerl-onpolicy-checkpoint");
        cfg.writeTo(a);
        a.putLongs("counters", new long[] {envSteps, agentSteps, gradSteps, iteration + 1});
        a.putDoubles("scalars", new double[] {lastEvalMean, lastEvalStd, wall});
        a.putLongs("rng/act", actRng.state());
        a.putLongs("rng/learn", learnRng.state());
        for (int i = 0; i < envs.numEnvs(); i++) {
            Env e = envs.env(i);
            String copy = "/" + i;
            Checkpoints.writeEnvRngs(a, "rng/env" + copy + "/", e);
            e.unwrap(NormalizeObservation.class).ifPresent(w -> w.statistics().writeTo(a, "obs_norm" + copy));
            e.unwrap(NormalizeReward.class).ifPresent(w -> w.statistics().writeTo(a, "reward_norm" + copy));
        }
        ppo.save(a);
        checkpoints.write(a);
    }

    private void restore(org.dmerl.tensor.TensorArchive a) {
        if (!"dmerl-onpolicy-checkpoint".equals(a.getString("kind"))) {
            throw new IllegalArgumentException("not an on-policy checkpoint: " + a.getString("kind"));
        }
        long[] c = a.getLongs("counters");
        envSteps = c[0];
        agentSteps = c[1];
        gradSteps = c[2];
        iteration = c[3];
        double[] sc = a.getDoubles("scalars");
        lastEvalMean = sc[0];
        lastEvalStd = sc[1];
        wallOffset = sc[2];
        actRng.setState(a.getLongs("rng/act"));
        learnRng.setState(a.getLongs("rng/learn"));
        for (int i = 0; i < envs.numEnvs(); i++) {
            Env e = envs.env(i);
            String copy = "/" + i;
            Checkpoints.readEnvRngs(a, "rng/env" + copy + "/", e);
            e.unwrap(NormalizeObservation.class).ifPresent(w -> w.setStatistics(Checkpoints.readStatistics(a, "obs_norm" + copy)));
            e.unwrap(NormalizeReward.class).ifPresent(w -> w.setStatistics(Checkpoints.readStatistics(a, "reward_norm" + copy)));
        }
        ppo.restore(a);
    }

    /** Minibatches per epoch: num_minibatches, K× on the augmented MDP with k_scaled_rollouts. */
    public static int minibatches(Config cfg, int subSteps) {
        return cfg.getInt("num_minibatches") * (cfg.getBool("k_scaled_rollouts") ? subSteps : 1);
    }

    private RunningMeanStd observationStatistics() {
        return envs.env(0).unwrap(NormalizeObservation.class).map(NormalizeObservation::statistics).orElse(null);
    }

    private void evaluate(double wall, long seed) {
        RunningMeanStd st = observationStatistics();
        if (st != null) {
            NormalizeObservation norm = evalEnv.unwrap(NormalizeObservation.class).orElseThrow();
            norm.setStatistics(st);
            norm.freeze(true);
        }
        Evaluator.Stats e = evaluator.evaluate(evalEnv, policy, cfg.getInt("eval_episodes"), seed + 1_000_003L);
        lastEvalMean = e.mean();
        lastEvalStd = e.std();
        listener.onEvaluation(new TrainingListener.Evaluation(envSteps, wall, e.mean(), e.std(), e.episodes()));
    }

    /** Samples actions for every copy and records obs, action, log-density, value (and l_k for soft rewards). */
    private void act(double[][] obs, Rollout r, int row, double[][] out) {
        int n = obs.length, od = r.obsDim, ad = r.actDim;
        Graph g = actGraph;
        g.reset();
        g.setGradEnabled(false);
        Tensor o = g.input(n, od);
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < od; k++) o.data[i * od + k] = (float) obs[i][k];
        }
        Tensor noise = g.input(n, policy.noiseDim());
        actRng.fillGaussian(noise.data, 0, noise.size());
        StochasticPolicy.Sample s = policy.sample(g, o, noise);
        Tensor v = value.values(g, o);
        System.arraycopy(o.data, 0, r.obs, row * od, n * od);
        System.arraycopy(s.action().data, 0, r.actions, row * ad, n * ad);
        for (int i = 0; i < n; i++) {
            r.logProbs[row + i] = s.drawLogProb().data[i];
            r.values[row + i] = v.data[i];
            // the entropy term l_k of the step, turned into the soft reward once the reward is known
            r.learnRewards[row + i] = s.logProb().data[i];
            for (int k = 0; k < ad; k++) out[i][k] = s.action().data[i * ad + k];
        }
    }

    private float valueOf(double[] o) {
        actGraph.reset();
        actGraph.setGradEnabled(false);
        return value.values(actGraph, actGraph.inputRow(o)).data[0];
    }

    private void values(double[][] obs, float[] out) {
        for (int i = 0; i < obs.length; i++) out[i] = valueOf(obs[i]);
    }

    public long envSteps() { return envSteps; }
}
