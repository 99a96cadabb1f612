package org.dmerl.algo;

import org.dmerl.env.ClipAction;
import org.dmerl.env.Env;
import org.dmerl.env.EnvRegistry;
import org.dmerl.env.NormalizeObservation;
import org.dmerl.env.RecordEpisodeStatistics;
import org.dmerl.env.NormalizeReward;
import org.dmerl.env.RescaleAction;
import org.dmerl.env.SyncVectorEnv;
import org.dmerl.env.TanhAction;
import org.dmerl.env.VectorEnv;
import org.dmerl.env.mujoco.ThreadedVectorEnv;
import org.dmerl.policy.DiffusionAugmentedEnv;
import org.dmerl.policy.StochasticPolicy;
import org.dmerl.tensor.Parallel;
import org.dmerl.tensor.Rng;

/** Assembles a training run from a config: environments, policy, learner, loop. */
public final class Training {

    private Training() {}

    /** Validates the config; throws IllegalArgumentException naming every problem. */
    public static void validate(Config cfg) {
        Agents.checkAlgorithm(cfg.getString("algo"));
        EnvRegistry.spec(cfg.getString("env"));
        var problems = cfg.problems();
        if (!problems.isEmpty()) throw new IllegalArgumentException(String.join("; ", problems));
    }

    /** The training or evaluation env: registry env, actions rescaled to [−1, 1], optional obs normalisation. */
    public static Env makeEnv(Config cfg) {
        Env env = new RescaleAction(EnvRegistry.make(cfg.getString("env")));
        if (cfg.getBool("normalize_obs")) env = new NormalizeObservation(env);
        return env;
    }

    /** Wraps an env (actions in [−1, 1]) into the diffusion-augmented MDP of the config. */
    public static Env augment(Config cfg, Env env) {
        return new DiffusionAugmentedEnv(env, cfg.getInt("diffusion_steps"), cfg.getDouble("sigma0"),
                cfg.getDouble("action_clip"));
    }

    public static TrainingResult run(Config cfg, TrainingListener listener) {
        return run(cfg, listener, null);
    }

    /** Runs with checkpoints in {@code checkpoints.dir()} (null: none), resuming from the latest if asked. */
    public static TrainingResult run(Config cfg, TrainingListener listener, Checkpoints checkpoints) {
        validate(cfg);
        Parallel.setThreads(cfg.getInt("threads"));
        if (Agents.isOnPolicy(cfg.getString("algo"))) return runOnPolicy(cfg, listener, checkpoints);
        Rng root = new Rng(cfg.getLong("seed"));
        Rng initRng = root.split();
        String algo = cfg.getString("algo");
        boolean diffusion = algo.startsWith("diff");
        Env env = new RecordEpisodeStatistics(makeEnv(cfg));
        Env evalEnv = makeEnv(cfg);
        int realActDim = env.actionSpace().dim();
        if (diffusion) {
            env = augment(cfg, env);
            evalEnv = augment(cfg, evalEnv);
        }
        try (Env trainEnv = env; Env testEnv = evalEnv) {
            int obsDim = env.observationSpace().dim(), actDim = env.actionSpace().dim();
            StochasticPolicy policy;
            float targetEntropy = (float) (-cfg.getDouble("target_entropy_scale") * realActDim);
            float entropyScale, gammaPerStep;
            boolean randomWarmup;
            switch (algo) {
                case "sac", "wpo" -> {
                    policy = Agents.gaussianPolicy(cfg, obsDim, actDim, initRng);
                    entropyScale = 1f;
                    gammaPerStep = cfg.getFloat("gamma");
                    randomWarmup = true;
                }
                case "diffsac", "diffwpo" -> {
                    int k = cfg.getInt("diffusion_steps");
                    policy = Agents.diffusionPolicy(cfg, obsDim - actDim - k, actDim, initRng);
                    entropyScale = k;
                    // gamma is per real step: spread it over the K sub-steps unless only real steps discount
                    gammaPerStep = cfg.getBool("env_time_discounting") ? cfg.getFloat("gamma")
                            : (float) Math.pow(cfg.getDouble("gamma"), 1.0 / k);
                    randomWarmup = false;
                }
                default -> throw new IllegalArgumentException("algorithm '" + algo + "' is not available yet");
            }
            TwinCritic critic, target;
            if (diffusion) {
                int stateDim = obsDim - actDim - cfg.getInt("diffusion_steps");
                critic = Agents.diffusionCritic(cfg, "critic", stateDim, actDim, initRng);
                target = Agents.diffusionCritic(cfg, "critic_target", stateDim, actDim, initRng);
            } else {
                critic = Agents.critic(cfg, "critic", obsDim, actDim, initRng);
                target = Agents.critic(cfg, "critic_target", obsDim, actDim, initRng);
            }
            Sac sac = new Sac(policy, critic, target, cfg.getInt("batch_size"), cfg.getFloat("actor_lr"),
                    cfg.getFloat("critic_lr"), cfg.getFloat("alpha_lr"), cfg.getFloat("alpha"), cfg.getBool("autotune"),
                    targetEntropy, entropyScale, cfg.getFloat("tau"))
                    .withObjective(algo.endsWith("wpo") ? Sac.ActorObjective.WPO : Sac.ActorObjective.SAC);
            if (cfg.getBool("fisher_precondition")) {
                if (!algo.endsWith("wpo")) throw new IllegalArgumentException("fisher_precondition applies to wpo and diffwpo only");
                sac.withFisherPreconditioning(cfg.getFloat("fisher_decay"), cfg.getFloat("fisher_damping"));
            }
            if (cfg.getDouble("kl_bound") > 0) {
                sac.withTrustRegion(Agents.policyFor(cfg, obsDim, actDim, new Rng(0)), cfg.getFloat("kl_bound"),
                        cfg.getFloat("kl_start"), cfg.getFloat("lagrangian_lr"), cfg.getInt("kl_samples"),
                        cfg.getInt("kl_refresh"));
            }
            OffPolicyTrainer trainer = new OffPolicyTrainer(cfg, env, evalEnv, policy, sac, root, randomWarmup,
                    gammaPerStep, cfg.getBool("env_time_discounting"), listener);
            return trainer.withCheckpoints(checkpoints).run();
        }
    }

    /**
     * PPO's {@code num_envs} copies, stepped on {@code env_threads} threads. Each copy is stepped by one fixed thread and
     * its wrappers keep their own statistics, so the values do not depend on the thread count.
     */
    static VectorEnv onPolicyEnvs(Config cfg) {
        int copies = cfg.getInt("num_envs"), threads = cfg.getInt("env_threads");
        java.util.function.Supplier<Env> copy = () -> onPolicyEnv(cfg, true);
        return threads > 1 && copies > 1 ? new ThreadedVectorEnv(copies, copy, threads) : new SyncVectorEnv(copies, copy);
    }

    /**
     * One copy of PPO's environment: actions clipped (or tanh-squashed) into the env's box, observations optionally
     * normalised, episode statistics on real rewards, then reward scaling, then (DiffPPO) the augmented MDP.
     */
    static Env onPolicyEnv(Config cfg, boolean training) {
        boolean diffusion = cfg.getString("algo").startsWith("diff");
        Env env = makeEnv(cfg);
        if (!diffusion) env = cfg.getString("action_bound").equals("tanh") ? new TanhAction(env) : new ClipAction(env);
        if (training) {
            env = new RecordEpisodeStatistics(env);
            if (cfg.getBool("normalize_reward")) env = new NormalizeReward(env, cfg.getDouble("gamma"));
        }
        return diffusion ? augment(cfg, env) : env;
    }

    private static TrainingResult runOnPolicy(Config cfg, TrainingListener listener, Checkpoints checkpoints) {
        String algo = cfg.getString("algo");
        Rng root = new Rng(cfg.getLong("seed"));
        Rng initRng = root.split();
        boolean diffusion = algo.startsWith("diff");
        int k = diffusion ? cfg.getInt("diffusion_steps") : 1;
        try (VectorEnv envs = onPolicyEnvs(cfg);
             Env evalEnv = onPolicyEnv(cfg, false)) {
            int obsDim = envs.singleObservationSpace().dim(), actDim = envs.singleActionSpace().dim();
            StochasticPolicy policy = Agents.policyFor(cfg, obsDim, actDim, initRng);
            var value = Agents.valueFunction(cfg, obsDim, initRng);
            boolean onlyReal = cfg.getBool("env_time_discounting");
            // γ and λ are per real step: spread them over the K sub-steps unless only real steps discount
            float gamma = onlyReal ? cfg.getFloat("gamma") : (float) Math.pow(cfg.getDouble("gamma"), 1.0 / k);
            float lambda = onlyReal ? cfg.getFloat("gae_lambda") : (float) Math.pow(cfg.getDouble("gae_lambda"), 1.0 / k);
            var settings = new Ppo.Settings(cfg.getFloat("clip_coef"), cfg.getBool("clip_vloss"), cfg.getBool("norm_adv"),
                    cfg.getFloat("ent_coef"), cfg.getFloat("vf_coef"), cfg.getFloat("max_grad_norm"),
                    cfg.getInt("update_epochs"), OnPolicyTrainer.minibatches(cfg, k), k);
            Ppo ppo = new Ppo(policy, value, settings, cfg.getFloat("lr"));
            return new OnPolicyTrainer(cfg, envs, evalEnv, policy, value, ppo, root, gamma, lambda, onlyReal, diffusion,
                    listener).withCheckpoints(checkpoints).run();
        }
    }
}
