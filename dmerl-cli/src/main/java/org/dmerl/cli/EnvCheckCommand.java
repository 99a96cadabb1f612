package org.dmerl.cli;

import java.util.Locale;
import java.util.concurrent.Callable;

import org.dmerl.env.EnvCheck;
import org.dmerl.env.EnvRegistry;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dmerl env-check ENV}: spaces, random-policy return, speed and validation of one environment. */
@Command(name = "env-check", mixinStandardHelpOptions = true,
        description = "Validate an environment (shapes, finiteness, seeded determinism) and measure a random policy.")
public final class EnvCheckCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "environment id")
    String env;

    @Option(names = "--episodes", defaultValue = "10", description = "random-policy episodes (default: ${DEFAULT-VALUE})")
    int episodes;

    @Option(names = "--steps", description = "also time N random steps (resets included) for steps_per_second")
    Long steps;

    @Option(names = "--seed", defaultValue = "0")
    long seed;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    public Integer call() {
        EnvRegistry.spec(env);
        if (episodes <= 0) throw new UserError("--episodes must be positive, got " + episodes);
        if (steps != null && steps <= 0) throw new UserError("--steps must be positive, got " + steps);
        EnvCheck.Report r = EnvCheck.check(env, episodes, seed);
        if (steps != null && r.ok()) {
            r = new EnvCheck.Report(r.env(), r.obsDim(), r.actionDim(), r.randomReturnMean(), r.randomReturnStd(),
                    r.episodes(), EnvCheck.randomStepsPerSecond(env, steps, seed), r.problems());
        }
        if (json) {
            System.out.printf(Locale.ROOT, "{\"env\": \"%s\", \"obs_dim\": %d, \"action_dim\": %d, \"random_return_mean\": %s, "
                            + "\"random_return_std\": %s, \"episodes\": %d, \"steps_per_second\": %s, \"ok\": %s, \"problems\": [%s]}%n",
                    r.env(), r.obsDim(), r.actionDim(), num(r.randomReturnMean()), num(r.randomReturnStd()), r.episodes(),
                    num(r.stepsPerSecond()), r.ok(),
                    String.join(", ", r.problems().stream().map(p -> "\"" + p.replace("\\", "\\\\").replace("\"", "\\\"") + "\"").toList()));
        } else {
            System.out.println(r.summary());
        }
        return r.ok() ? 0 : 1;
    }

    private static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "null";
    }
}
