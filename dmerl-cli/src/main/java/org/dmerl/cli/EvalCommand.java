package org.dmerl.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.dmerl.algo.TrainedPolicy;
import org.dmerl.env.Env;
import org.dmerl.env.EnvRegistry;
import org.dmerl.env.StepResult;
import org.dmerl.tensor.Rng;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dmerl eval}: episodes of a trained policy on its environment. */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Evaluate a trained policy.")
public final class EvalCommand implements Callable<Integer> {

    @Option(names = "--run", required = true, description = "run directory (holds policy.ckpt)")
    Path run;

    @Option(names = "--episodes", defaultValue = "10", description = "episodes (default: ${DEFAULT-VALUE})")
    int episodes;

    @Option(names = "--sampler", description = "diffusion policies: ode, sde or mean (default: the run's eval_sampler); "
            + "'stochastic' draws from any policy, 'deterministic' is the run's evaluation action")
    String sampler = "deterministic";

    @Option(names = "--seed", defaultValue = "12345", description = "seed of the episodes (default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() {
        if (episodes <= 0) throw new UserError("--episodes must be positive, got " + episodes);
        boolean stochastic = switch (sampler) {
            case "deterministic", "ode", "mean", "sde" -> false;
            case "stochastic" -> true;
            default -> throw new UserError("unknown sampler '" + sampler + "'; use ode, sde, mean, deterministic or stochastic");
        };
        TrainedPolicy policy = TrainedPolicy.load(run);
        if (!sampler.equals("deterministic") && !stochastic) policy.withEvalSampler(sampler);
        Rng rng = new Rng(seed);
        double sum = 0, sumSq = 0;
        try (Env env = EnvRegistry.make(policy.config().getString("env"))) {
            double[] obs = env.reset(seed);
            for (int e = 0; e < episodes; e++) {
                if (e > 0) obs = env.reset();
                double ret = 0;
                StepResult r;
                do {
                    r = env.step(stochastic ? policy.sample(obs, rng) : policy.act(obs, rng));
                    ret += r.reward();
                    obs = r.observation();
                } while (!r.done());
                sum += ret;
                sumSq += ret * ret;
                System.out.printf(Locale.ROOT, "episode %d  return %.3f%n", e + 1, ret);
            }
        }
        double mean = sum / episodes;
        System.out.printf(Locale.ROOT, "mean return %.3f ± %.3f over %d episodes%n", mean,
                Math.sqrt(Math.max(0, sumSq / episodes - mean * mean)), episodes);
        return 0;
    }
}
