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

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Speed benchmarks: medians of timed repetitions after a warm-up. Each repetition is paired with a short probe of the
 * core's FMA throughput ({@link #fmaProbe}): on a VM whose core is at times shared on the host, the same loop runs at
 * about 60 % of its speed for seconds at a time, so a median mixes two machines. The report gives the median over all
 * repetitions and the median over those whose probe ran at full speed (≥ 95 % of the best probe; with two compute
 * threads, on both cores).
 */
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
        for (String w : JvmCheck.warnings()) out.println("warning: " + w);
        double[] probe = coreCheck();
        referencePeak = probe[0];
        out.printf(Locale.ROOT, "FMA probe, 200 runs of 80 us (GFLOP/s): one thread best %.1f median %.1f; "
                + "two threads at once (sum) best %.1f median %.1f%n", probe[0], probe[1], probe[2], probe[3]);
        for (int threads = 1; threads <= 2 && kinds.contains(Kind.gemm); threads++) {
            Parallel.setThreads(threads);
            Timing t = gemm(256, 256, 256);
            double flop = 2.0 * 256 * 256 * 256;
            out.printf(Locale.ROOT, "gemm 256x256x256        threads=%d  %8.1f us  %6.1f GFLOP/s%s%n", threads, t.median,
                    flop / t.median / 1e3, t.fullSpeed(us -> String.format(Locale.ROOT, "%.1f us  %.1f GFLOP/s", us, flop / us / 1e3)));
        }
        for (int threads = 1; threads <= 2 && kinds.contains(Kind.sac); threads++) {
            Parallel.setThreads(threads);
            Timing t = sacUpdate(17, 6, 256);
            out.printf(Locale.ROOT, "sac update obs17 act6 B256 h256x256  threads=%d  %8.1f us%s%n", threads, t.median, t.fullSpeed());
        }
        for (int threads = 1; threads <= 2 && kinds.contains(Kind.sample); threads++) {
            Parallel.setThreads(threads);
            Timing t = diffusionSample(17, 6, 8, DEFAULT_DENOISER);
            out.printf(Locale.ROOT, "diffusion action sample K=8 batch 1 (obs 17, act 6, default net) threads=%d  %8.1f us%s%n",
                    threads, t.median, t.fullSpeed());
        }
        if (kinds.contains(Kind.sample)) {
            // the shape of shared/spec/nn-backend.md's workload b (one 256×256 hidden product), for comparison
            Parallel.setThreads(1);
            Timing t = diffusionSample(17, 6, 8, "256,256");
            out.printf(Locale.ROOT, "diffusion action sample K=8 batch 1 (obs 17, act 6, denoiser 256x256) threads=1  %8.1f us%s%n",
                    t.median, t.fullSpeed());
        }
        for (int threads = 1; threads <= 2 && kinds.contains(Kind.diffsac); threads++) {
            Parallel.setThreads(threads);
            Timing t = diffsacUpdate(17, 6, 8, false, false);
            out.printf(Locale.ROOT, "diffsac update obs17 act6 K8 B256 threads=%d  %8.1f us%s%n", threads, t.median, t.fullSpeed());
        }
        for (int one = 0; one < 2 && kinds.contains(Kind.diffsac); one++) {
            Parallel.setThreads(1);
            Timing t = diffsacUpdate(17, 6, 8, true, one == 1);
            out.printf(Locale.ROOT, "diffsac update obs17 act6 K8 B256 chain_target=real_entropy chain_entropy_estimate=%s "
                    + "threads=1  %8.1f us%s%n", one == 1 ? "one" : "all", t.median, t.fullSpeed());
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

    private static final String DEFAULT_DENOISER = new Config().getString("denoiser_hidden");

    /** One action of the K-step diffusion chain at batch 1 (K kernel steps, no gradients), as acting does it. */
    static Timing diffusionSample(int obsDim, int actDim, int k, String denoiserHidden) {
        Config cfg = new Config().set("diffusion_steps", k).set("denoiser_hidden", denoiserHidden);
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

    /**
     * One DiffSAC update on augmented transitions (critic, actor, temperature, Polyak); with {@code chains}, each
     * transition is linked to the rest of its chain as {@code chain_target: real_entropy} stores them, so the target
     * also evaluates the later sub-steps' log ratios (on average (K − 1)/2 per sampled transition; with
     * {@code oneSuccessor}, one of them, as {@code chain_entropy_estimate: one} does).
     */
    static Timing diffsacUpdate(int obsDim, int actDim, int k, boolean chains, boolean oneSuccessor) {
        Config cfg = new Config().set("diffusion_steps", k);
        Rng rng = new Rng(9);
        var actor = Agents.diffusionPolicy(cfg, obsDim, actDim, rng);
        TwinCritic critic = Agents.diffusionCritic(cfg, "c", obsDim, actDim, rng);
        TwinCritic target = Agents.diffusionCritic(cfg, "t", obsDim, actDim, rng);
        Sac sac = new Sac(actor, critic, target, 256, 3e-4f, 1e-3f, 1e-3f, 0.01f, true, -5f * actDim, k, 0.02f);
        int width = obsDim + actDim + k;
        ReplayBuffer buffer = new ReplayBuffer(10_000 / k * k, width, actDim, 256);
        if (chains) buffer.withChains(k, oneSuccessor);
        float[] s = new float[width], a = new float[actDim];
        for (int i = 0; i < buffer.capacity(); i++) {
            for (int j = 0; j < obsDim + actDim; j++) s[j] = (float) rng.gaussian();
            for (int j = 0; j < k; j++) s[obsDim + actDim + j] = j == i % k ? 1f : 0f;
            for (int j = 0; j < actDim; j++) a[j] = (float) rng.gaussian();
            buffer.add(s, a, rng.gaussian(), s, 0.99f, k - 1 - i % k, 0.99f);
        }
        return median(50, 200, () -> sac.update(buffer.sample(rng), rng));
    }

    static Timing gemm(int m, int n, int k) {
        Rng rng = new Rng(1);
        float[] a = new float[m * k], b = new float[k * n], c = new float[m * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) rng.gaussian();
        for (int i = 0; i < b.length; i++) b[i] = (float) rng.gaussian();
        return median(2000, 3000, () -> Gemm.gemm(m, n, k, a, 0, k, 1, b, 0, n, c, 0, n));
    }

    /** One full SAC update (critic, actor, temperature, Polyak) at the given shape. */
    static Timing sacUpdate(int obsDim, int actDim, int batch) {
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

    /**
     * Medians of {@code reps} timings (µs) after {@code warmup} runs: over all repetitions, and over those whose paired
     * {@link #fmaProbe} reached 95 % of the best probe seen (in this run or in the core check).
     */
    record Timing(double median, double fullSpeedMedian, int fullSpeedCount, int reps, double probeBest,
                  double probeMedian) {

        String fullSpeed() {
            return fullSpeed(us -> String.format(Locale.ROOT, "%.1f us", us));
        }

        /** "  [full-speed core 412/3000: …; FMA probe best 103.5, median 64.1 GFLOP/s]" */
        String fullSpeed(java.util.function.DoubleFunction<String> format) {
            return String.format(Locale.ROOT, "  [full-speed core %d/%d: %s; FMA probe best %.1f, median %.1f GFLOP/s]",
                    fullSpeedCount, reps, fullSpeedCount == 0 ? "-" : format.apply(fullSpeedMedian), probeBest, probeMedian);
        }
    }

    /** The best single-thread probe of the core check: the core's speed when nothing else shares it. */
    private static double referencePeak;

    static Timing median(int warmup, int reps, Runnable r) {
        for (int i = 0; i < warmup; i++) {
            r.run();
            probeCores();
        }
        double[] t = new double[reps], probe = new double[reps];
        for (int i = 0; i < reps; i++) {
            probe[i] = probeCores();
            long t0 = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - t0) / 1e3;
        }
        double best = Arrays.stream(probe).max().orElseThrow();
        double fullSpeed = 0.95 * Math.max(best, referencePeak);
        double[] fast = java.util.stream.IntStream.range(0, reps).filter(i -> probe[i] >= fullSpeed)
                .mapToDouble(i -> t[i]).sorted().toArray();
        double[] sorted = t.clone(), probes = probe.clone();
        Arrays.sort(sorted);
        Arrays.sort(probes);
        double fastMedian = fast.length == 0 ? Double.NaN : fast[fast.length / 2];
        return new Timing(sorted[reps / 2], fastMedian, fast.length, reps, best, probes[reps / 2]);
    }

    /**
     * The core check printed first: {@link #fmaProbe} on one thread, then on both threads at once (GFLOP/s summed over
     * the two), each as {best, median} of 200 runs. On this project's 2-vCPU VM one thread's best was 103 and its median
     * 78–88; two threads at once summed to 160–170 (median) and 172–186 (best): the host shares the cores, so a second
     * compute thread adds 60–80 % rather than 100 %, and a single thread runs at full speed only part of the time.
     */
    static double[] coreCheck() {
        for (int i = 0; i < 5000; i++) fmaProbe();   // compiled before it is timed
        double[] single = new double[200], both = new double[200], pair = new double[2];
        for (int i = 0; i < single.length; i++) single[i] = probeRun();
        Runnable onWorker = () -> pair[0] = probeRun(), onCaller = () -> pair[1] = probeRun();
        int saved = Parallel.threads();
        Parallel.setThreads(2);
        try {
            for (int i = 0; i < both.length; i++) {
                Parallel.run(onWorker, onCaller);
                both[i] = pair[0] + pair[1];
            }
        } finally {
            Parallel.setThreads(saved);
        }
        Arrays.sort(single);
        Arrays.sort(both);
        return new double[] {single[199], single[100], both[199], both[100]};
    }

    /** Mean of 20 back-to-back probes (about 80 µs), long enough that two threads started together overlap. */
    private static double probeRun() {
        double sum = 0;
        for (int i = 0; i < 20; i++) sum += fmaProbe();
        return sum / 20;
    }

    private static final double[] CORE_PROBES = new double[2];
    private static final Runnable PROBE_WORKER = () -> CORE_PROBES[0] = fmaProbe();
    private static final Runnable PROBE_CALLER = () -> CORE_PROBES[1] = fmaProbe();

    /** {@link #fmaProbe} on the calling thread, or with two compute threads on both at once, the slower of the two. */
    private static double probeCores() {
        if (Parallel.threads() == 1) return fmaProbe();
        Parallel.run(PROBE_WORKER, PROBE_CALLER);
        return Math.min(CORE_PROBES[0], CORE_PROBES[1]);
    }

    private static final int PROBE_STEPS = 2048;
    private static final float[] PROBE_B = new float[16 * 16], PROBE_A = new float[6 * 16];
    private static final float[] PROBE_OUT = new float[FloatVector.SPECIES_PREFERRED.length()];

    static {
        for (int i = 0; i < PROBE_B.length; i++) PROBE_B[i] = 1e-3f * i;
        for (int i = 0; i < PROBE_A.length; i++) PROBE_A[i] = 1e-3f * i;
    }

    /**
     * The core's FMA throughput right now in GFLOP/s (a few µs): twelve independent multiply-add chains on operands in
     * L1, the shape of the GEMM kernel without its memory traffic.
     */
    static double fmaProbe() {
        VectorSpecies<Float> s = FloatVector.SPECIES_PREFERRED;
        int l = s.length();
        long t0 = System.nanoTime();
        FloatVector c00 = FloatVector.zero(s), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        for (int k = 0; k < PROBE_STEPS; k++) {
            int j = k & 15;
            FloatVector b0 = FloatVector.fromArray(s, PROBE_B, 16 * j), b1 = FloatVector.fromArray(s, PROBE_B, 16 * j + 16 - l);
            FloatVector x = FloatVector.broadcast(s, PROBE_A[j]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(s, PROBE_A[j + 16]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(s, PROBE_A[j + 32]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(s, PROBE_A[j + 48]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(s, PROBE_A[j + 64]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(s, PROBE_A[j + 80]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51);
        }
        c00.add(c01).add(c10).add(c11).add(c20).add(c21).add(c30).add(c31).add(c40).add(c41).add(c50).add(c51)
                .intoArray(PROBE_OUT, 0);
        return 2.0 * 12 * l * PROBE_STEPS / (System.nanoTime() - t0);
    }
}
