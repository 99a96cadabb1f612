package org.dmerl.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;

import org.dmerl.algo.Config;
import org.dmerl.algo.Agents;
import org.dmerl.algo.ReplayBuffer;
import org.dmerl.algo.Sac;
import org.dmerl.algo.TwinCritic;
import org.dmerl.policy.StochasticPolicy;
import org.dmerl.tensor.Gemm;
import org.dmerl.tensor.Parallel;
import org.dmerl.tensor.Rng;

/** Speed benchmarks: medians of timed repetitions after a warm-up. */
public final class Benchmarks {

    private Benchmarks() {}

    /** The benchmarks {@code dmerl bench --only} can pick. */
    public enum Kind { gemm, sac, sample, diffsac, ppo }

    public static int runAll(PrintStream out) {
        return run(out, java.util.EnumSet.allOf(Kind.class));
    }

    public static int run(PrintStream out, java.util.Set<Kind> kinds) {
        out.printf("dmerl bench  (%s, %d cores, Java %s)%n", System.getProperty("os.arch"),
                Runtime.getRuntime().availableProcessors(), Runtime.version());
        for (int threads = 1; threads <= 2 && kinds.contains(Kind.gemm); threads++) {
            Parallel.setThreads(threads);
            double us = gemm(256, 256, 256);
            out.printf(Locale.ROOT, "gemm 256x256x256        threads=%d  %8.1f us  %6.1f GFLOP/s%n", threads, us,
                    2.0 * 256 * 256 * 256 / us / 1e3);
        }
        for (int threads = 1; threads <= 2 && kinds.contains(Kind.sac); threads++) {
            Parallel.setThreads(threads);
            double us = sacUpdate(17, 6, 256);
            out.printf(Locale.ROOT, "sac update obs17 act6 B256 h256x256  threads=%d  %8.1f us%n", threads, us);
        }
        for (int threads = 1; threads <= 2 && kinds.contains(Kind.sample); threads++) {
            Parallel.setThreads(threads);
            out.printf(Locale.ROOT, "diffusion action sample K=8 batch 1 (obs 17, act 6, default net) threads=%d  %8.1f us%n",
                    threads, diffusionSample(17, 6, 8));
        }
        for (int threads = 1; threads <= 2 && kinds.contains(Kind.diffsac); threads++) {
            Parallel.setThreads(threads);
            out.printf(Locale.ROOT, "diffsac update obs17 act6 K8 B256 threads=%d  %8.1f us%n", threads, diffsacUpdate(17, 6, 8));
        }
        if (kinds.contains(Kind.ppo)) {
            for (String algo : new String[] {"ppo", "diffppo"}) {
                long steps = algo.equals("ppo") ? 16_384 : 2_048;
                out.printf(Locale.ROOT, "%s training on Hopper-v4, %d env steps, threads=2  %8.1f env steps/s%n", algo,
                        steps, onPolicyThroughput(algo, steps, 2));
            }
        }
        Parallel.setThreads(1);
        return 0;
    }

    /**
     * Whole-run env steps/s of on-policy training with the algorithm's preset (rollouts, updates, one final
     * one-episode evaluation), as {@code dmerl train} would run it.
     */
    static double onPolicyThroughput(String algo, long steps, int threads) {
        Config cfg = new Config().set("algo", algo).set("env", "Hopper-v4");
        Presets.apply(cfg, algo, "Hopper-v4");
        cfg.set("steps", steps).set("threads", threads).set("eval_every", steps).set("eval_episodes", 1)
                .set("rollout_steps", algo.equals("ppo") ? 2048 : 512);
        return org.dmerl.algo.Training.run(cfg, new org.dmerl.algo.TrainingListener() {}).stepsPerSecond();
    }

    /** One action of the K-step diffusion chain at batch 1 (K kernel steps, no gradients), as acting does it. */
    static double diffusionSample(int obsDim, int actDim, int k) {
        Config cfg = new Config().set("diffusion_steps", k);
        Rng rng = new Rng(3);
        var policy = Agents.diffusionPolicy(cfg, obsDim, actDim, rng);
        org.dmerl.tensor.Graph g = new org.dmerl.tensor.Graph();
        float[] state = new float[obsDim];
        for (int i = 0; i < obsDim; i++) state[i] = (float) rng.gaussian();
        float[] x = new float[actDim];
        return median(2000, 5000, () -> {
            for (int i = 0; i < actDim; i++) x[i] = (float) (3 * rng.gaussian());
            for (int step = 0; step < k; step++) {
                g.reset();
                g.setGradEnabled(false);
                var o = g.input(1, obsDim + actDim + k);
                System.arraycopy(state, 0, o.data, 0, obsDim);
                System.arraycopy(x, 0, o.data, obsDim, actDim);
                for (int j = 0; j < k; j++) o.data[obsDim + actDim + j] = j == step ? 1f : 0f;
                var noise = g.input(1, actDim);
                rng.fillGaussian(noise.data, 0, actDim);
                var next = policy.act(g, o, noise);
                System.arraycopy(next.data, 0, x, 0, actDim);
            }
        });
    }

    /** One DiffSAC update on augmented transitions (critic, actor, temperature, Polyak). */
    static double diffsacUpdate(int obsDim, int actDim, int k) {
        Config cfg = new Config().set("diffusion_steps", k);
        Rng rng = new Rng(9);
        var actor = Agents.diffusionPolicy(cfg, obsDim, actDim, rng);
        TwinCritic critic = Agents.diffusionCritic(cfg, "c", obsDim, actDim, rng);
        TwinCritic target = Agents.diffusionCritic(cfg, "t", obsDim, actDim, rng);
        Sac sac = new Sac(actor, critic, target, 256, 3e-4f, 1e-3f, 1e-3f, 0.01f, true, -5f * actDim, k, 0.02f);
        int width = obsDim + actDim + k;
        ReplayBuffer buffer = new ReplayBuffer(10_000, width, actDim, 256);
        float[] s = new float[width], a = new float[actDim];
        for (int i = 0; i < 10_000; i++) {
            for (int j = 0; j < obsDim + actDim; j++) s[j] = (float) rng.gaussian();
            for (int j = 0; j < k; j++) s[obsDim + actDim + j] = j == i % k ? 1f : 0f;
            for (int j = 0; j < actDim; j++) a[j] = (float) rng.gaussian();
            buffer.add(s, a, rng.gaussian(), s, 0.99f);
        }
        return median(50, 200, () -> sac.update(buffer.sample(rng), rng));
    }

    static double gemm(int m, int n, int k) {
        Rng rng = new Rng(1);
        float[] a = new float[m * k], b = new float[k * n], c = new float[m * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) rng.gaussian();
        for (int i = 0; i < b.length; i++) b[i] = (float) rng.gaussian();
        return median(2000, 3000, () -> Gemm.gemm(m, n, k, a, 0, k, 1, b, 0, n, c, 0, n));
    }

    /** One full SAC update (critic, actor, temperature, Polyak) at the given shape. */
    static double sacUpdate(int obsDim, int actDim, int batch) {
        Config cfg = new Config();
        Rng rng = new Rng(7);
        StochasticPolicy actor = Agents.gaussianPolicy(cfg, obsDim, actDim, rng);
        TwinCritic critic = Agents.critic(cfg, "c", obsDim, actDim, rng);
        TwinCritic target = Agents.critic(cfg, "t", obsDim, actDim, rng);
        Sac sac = new Sac(actor, critic, target, batch, 3e-4f, 1e-3f, 1e-3f, 0.2f, true, -actDim, 1f, 0.005f);
        ReplayBuffer buffer = new ReplayBuffer(10_000, obsDim, actDim, batch);
        float[] s = new float[obsDim], a = new float[actDim];
        for (int i = 0; i < 10_000; i++) {
            for (int j = 0; j < obsDim; j++) s[j] = (float) rng.gaussian();
            for (int j = 0; j < actDim; j++) a[j] = (float) rng.uniform(-1, 1);
            buffer.add(s, a, rng.gaussian(), s, 0.99f);
        }
        return median(200, 600, () -> sac.update(buffer.sample(rng), rng));
    }

    static double median(int warmup, int reps, Runnable r) {
        for (int i = 0; i < warmup; i++) r.run();
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - t0) / 1e3;
        }
        Arrays.sort(t);
        return t[reps / 2];
    }
}
