package org.dmerl.algo;

import org.dmerl.nn.Activation;
import org.dmerl.nn.HlGauss;
import org.dmerl.policy.DiffusionKernelPolicy;
import org.dmerl.policy.DiffusionSchedule;
import org.dmerl.policy.StochasticPolicy;
import org.dmerl.policy.TanhGaussianPolicy;
import org.dmerl.tensor.Rng;

/** Builds the learner parts that a config names. */
public final class Agents {

    private Agents() {}

    public static final java.util.List<String> ALGORITHMS = java.util.List.of("sac", "ppo", "wpo", "diffsac", "diffppo", "diffwpo");

    public static void checkAlgorithm(String algo) {
        if (!ALGORITHMS.contains(algo)) {
            throw new IllegalArgumentException("unknown algorithm '" + algo + "'; known: " + String.join(", ", ALGORITHMS));
        }
    }

    public static StochasticPolicy gaussianPolicy(Config cfg, int obsDim, int actDim, Rng rng) {
        return new TanhGaussianPolicy(obsDim, actDim, cfg.getInts("hidden"), Activation.parse(cfg.getString("activation")),
                cfg.getFloat("log_std_min"), cfg.getFloat("log_std_max"), rng);
    }

    /** PPO's state-independent-σ Gaussian policy (unbounded actions). */
    public static StochasticPolicy onPolicyGaussian(Config cfg, int obsDim, int actDim, Rng rng) {
        return new org.dmerl.policy.DiagGaussianPolicy(obsDim, actDim, cfg.getInts("hidden"),
                Activation.parse(cfg.getString("activation")), cfg.getFloat("log_std_init"), rng);
    }

    /** The policy an algorithm acts with, for observations of {@code obsDim} (augmented ones for diff*). */
    public static StochasticPolicy policyFor(Config cfg, int obsDim, int actDim, Rng rng) {
        String algo = cfg.getString("algo");
        if (algo.startsWith("diff")) return diffusionPolicy(cfg, obsDim - actDim - cfg.getInt("diffusion_steps"), actDim, rng);
        return algo.equals("ppo") ? onPolicyGaussian(cfg, obsDim, actDim, rng) : gaussianPolicy(cfg, obsDim, actDim, rng);
    }

    public static boolean isOnPolicy(String algo) {
        return algo.equals("ppo") || algo.equals("diffppo");
    }

    /**
     * PPO's state-value function V(s) (or V(s, x_k, k) on the augmented MDP), orthogonal init. value_head mlp: one
     * output, output gain 1 (CleanRL). hlgauss: value_bins logits, output gain 0.01, so that every state starts near
     * the uniform distribution, which prefers no bin, with the same V ≈ the middle of [value_min, value_max]; at gain
     * 1 the O(1) logits would give each state an arbitrary distribution, whose V differs between states by a fair
     * part of the support, and that noise would go straight into the first rollouts' advantages.
     */
    public static ValueFunction valueFunction(Config cfg, int obsDim, Rng rng) {
        String head = cfg.getString("value_head");
        boolean categorical = switch (head) {
            case "mlp" -> false;
            case "hlgauss" -> true;
            default -> throw new IllegalArgumentException("value_head must be mlp or hlgauss, got '" + head + "'");
        };
        int bins = cfg.getInt("value_bins");
        var net = new org.dmerl.nn.Mlp("value", obsDim, cfg.getInts("hidden"), categorical ? bins : 1,
                Activation.parse(cfg.getString("activation")), org.dmerl.nn.Linear.WeightInit.ORTHOGONAL, false, rng);
        if (!categorical) {
            org.dmerl.tensor.Init.orthogonal(net.outputLayer().weight, 1.0, rng);
            return new ValueFunction.Scalar(net);
        }
        org.dmerl.tensor.Init.orthogonal(net.outputLayer().weight, 0.01, rng);
        return new ValueFunction.Categorical(net, HlGauss.withSigmaRatio(bins, cfg.getDouble("value_min"),
                cfg.getDouble("value_max"), cfg.getDouble("value_sigma_ratio")));
    }

    public static DiffusionKernelPolicy diffusionPolicy(Config cfg, int stateDim, int actDim, Rng rng) {
        var settings = new DiffusionKernelPolicy.Settings(cfg.getInt("diffusion_steps"), cfg.getDouble("sigma0"),
                cfg.getDouble("dt"), DiffusionSchedule.parse(cfg.getString("dt_schedule")), cfg.getDouble("dt_min"),
                cfg.getDouble("friction"), cfg.getBool("learn_dt"), cfg.getBool("learn_friction"),
                DiffusionKernelPolicy.BackwardKernel.valueOf(cfg.getString("backward_kernel").toUpperCase(java.util.Locale.ROOT)
),
                DiffusionKernelPolicy.Sampler.valueOf(cfg.getString("eval_sampler").toUpperCase(java.util.Locale.ROOT)),
                cfg.getInts("denoiser_hidden"), cfg.getInt("time_embedding"), cfg.getDouble("eta_min"), cfg.getDouble("eta_max"));
        return new DiffusionKernelPolicy(stateDim, actDim, settings, rng);
    }

    public static TwinCritic critic(Config cfg, String name, int obsDim, int actDim, Rng rng) {
        return new TwinCritic(name, obsDim, actDim, cfg.getInts("hidden"), Activation.parse(cfg.getString("activation")), rng);
    }

    /** A critic over (s, tanh x_k, onehot(k), tanh x_{k+1}) for the diffusion-augmented MDP. */
    public static TwinCritic diffusionCritic(Config cfg, String name, int stateDim, int latentDim, Rng rng) {
        int obsDim = stateDim + latentDim + cfg.getInt("diffusion_steps");
        TwinCritic.Input input = cfg.getBool("squash_critic_latents")
                ? TwinCritic.Input.squashedLatents(stateDim, latentDim) : TwinCritic.Input.CONCAT;
        return new TwinCritic(name, obsDim, latentDim, cfg.getInts("hidden"), Activation.parse(cfg.getString("activation")),
                input, rng);
    }
}
