package org.dmerl.algo;

import org.dmerl.nn.Activation;
import org.dmerl.policy.DiffusionKernelPolicy;
import org.dmerl.policy.DiffusionSchedule;
import org.dmerl.policy.StochasticPolicy;
import org.dmerl.policy.TanhGaussianPolicy;
import org.dmerl.tensor.Rng;

/** Builds the learner parts that a config names. */
public final class Agents {

    private Agents() {}

    public static final java.util.List<String> ALGORITHMS = java.util.List.of("sac", "diffsac", "wpo", "diffwpo");

    public static void checkAlgorithm(String algo) {
        if (!ALGORITHMS.contains(algo)) {
            throw new IllegalArgumentException("unknown algorithm '" + algo + "'; known: " + String.join(", ", ALGORITHMS));
        }
    }

    public static StochasticPolicy gaussianPolicy(Config cfg, int obsDim, int actDim, Rng rng) {
        return new TanhGaussianPolicy(obsDim, actDim, cfg.getInts("hidden"), Activation.parse(cfg.getString("activation")),
                cfg.getFloat("log_std_min"), cfg.getFloat("log_std_max"), rng);
    }

    public static DiffusionKernelPolicy diffusionPolicy(Config cfg, int stateDim, int actDim, Rng rng) {
        var settings = new DiffusionKernelPolicy.Settings(cfg.getInt("diffusion_steps"), cfg.getDouble("sigma0"),
                cfg.getDouble("dt"), DiffusionSchedule.parse(cfg.getString("dt_schedule")), cfg.getDouble("dt_min"),
                cfg.getDouble("friction"), cfg.getBool("learn_dt"), cfg.getBool("learn_friction"),
                DiffusionKernelPolicy.BackwardKernel.valueOf(cfg.getString("backward_kernel").toUpperCase(java.util.Locale.ROOT)
),
                DiffusionKernelPolicy.Sampler.valueOf(cfg.getString("eval_sampler").toUpperCase(java.util.Locale.ROOT)),
                cfg.getInts("denoiser_hidden"), cfg.getInt("time_embedding"));
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
