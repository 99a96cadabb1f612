package org.dmerl.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.dmerl.algo.TrainedPolicy;
import org.dmerl.env.Env;
import org.dmerl.env.EnvRegistry;
import org.dmerl.tensor.Rng;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dmerl sample}: actions drawn from a trained policy, one per line. */
@Command(name = "sample", mixinStandardHelpOptions = true,
        description = "Print actions sampled from a trained policy, one action per line (dimensions separated by spaces).")
public final class SampleCommand implements Callable<Integer> {

    @Option(names = "--run", required = true, description = "run directory (holds policy.ckpt)")
    Path run;

    @Option(names = "--n", defaultValue = "1000", description = "number of actions (default: ${DEFAULT-VALUE})")
    int n;

    @Option(names = "--obs", split = ",", description = "observation (comma-separated); default: the env's first observation under --seed")
    double[] obs;

    @Option(names = "--seed", defaultValue = "0", description = "sampling seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--deterministic", description = "use the evaluation action instead of a stochastic draw")
    boolean deterministic;

    @Override
    public Integer call() {
        if (n <= 0) throw new UserError("--n must be positive, got " + n);
        TrainedPolicy policy = TrainedPolicy.load(run);
        double[] o = obs;
        if (o == null) {
            try (Env env = EnvRegistry.make(policy.config().getString("env"))) {
                o = env.reset(seed);
            }
        }
        Rng rng = new Rng(seed);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            double[] a = deterministic ? policy.act(o, rng) : policy.sample(o, rng);
            for (int j = 0; j < a.length; j++) sb.append(j == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.6f", a[j]));
            sb.append('\n');
        }
        System.out.print(sb);
        return 0;
    }
}
