package org.dmerl.algo;

import org.dmerl.nn.Activation;
import org.dmerl.policy.StochasticPolicy;
import org.dmerl.policy.TanhGaussianPolicy;
import org.dmerl.tensor.Rng;

/** Builds the learner parts that a config names. */
public final class Agents {

    private Agents() {}

    public static final java.util.List<String> ALGORITHMS = java.util.List.of("sac", "diffsac");

    public static void checkAlgorithm(String algo) {
        if (!ALGORITHMS.contains(algo)) {
            throw new IllegalArgumentException("unknown algorithm '" + algo + "'; known: " + String.join(", ", ALGORITHMS));
        }
    }

    public static StochasticPolicy gaussianPolicy(Config cfg, int obsDim, int actDim, Rng rng) {
        return new TanhGaussianPolicy(obsDim, actDim, cfg.getInts("hidden"), Activation.parse(cfg.getString("activation")),
                cfg.getFloat("log_std_min"), cfg.getFloat("log_std_max"), rng);
    }

    public static TwinCritic critic(Config cfg, String name, int obsDim, int actDim, Rng rng) {
        return new TwinCritic(name, obsDim, actDim, cfg.getInts("hidden"), Activation.parse(cfg.getString("activation")), rng);
    }
}
