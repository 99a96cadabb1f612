package org.dmerl.algo;

import java.nio.file.Files;
import java.nio.file.Path;

import org.dmerl.env.BoxSpace;
import org.dmerl.env.Env;
import org.dmerl.env.EnvRegistry;
import org.dmerl.policy.DiffusionKernelPolicy;
import org.dmerl.policy.StochasticPolicy;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;
import org.dmerl.tensor.TensorArchive;

/**
 * A trained policy loaded from a run directory, for use in an application: environment observation in, environment
 * action out (already scaled to the env's action box).
 *
 * <pre>{@code
 * TrainedPolicy pi = TrainedPolicy.load(Path.of("runs/diffsac-Pendulum-v1-1"));
 * double[] action = pi.act(observation, rng);     // evaluation action (the configured eval sampler)
 * double[] sample = pi.sample(observation, rng);  // a draw from the stochastic policy
 * }</pre>
 */
public final class TrainedPolicy {

    public static final String FILE = "policy.ckpt";

    private final Config cfg;
    private final StochasticPolicy policy;
    private final boolean diffusion;
    private final int steps;
    private final double sigma0, clip;
    private final BoxSpace actionBox;
    private final int obsDim;
    private final Graph graph = new Graph();
    private final org.dmerl.env.RunningMeanStd obsStatistics;

    private TrainedPolicy(Config cfg, StochasticPolicy policy, BoxSpace actionBox, int obsDim,
                          org.dmerl.env.RunningMeanStd obsStatistics) {
        this.obsStatistics = obsStatistics;
        this.cfg = cfg;
        this.policy = policy;
        this.diffusion = policy instanceof DiffusionKernelPolicy;
        this.steps = cfg.getInt("diffusion_steps");
        this.sigma0 = cfg.getDouble("sigma0");
        this.clip = cfg.getDouble("action_clip");
        this.actionBox = actionBox;
        this.obsDim = obsDim;
    }

    /** Saves {@code policy} with its config and the observation normalisation it acts under (null: none). */
    public static void save(Path file, StochasticPolicy policy, Config cfg, org.dmerl.env.RunningMeanStd obsStatistics) {
        TensorArchive a = new TensorArchive();
        cfg.writeTo(a);
        a.putTensors("policy", policy.stateTensors());
        if (obsStatistics != null) obsStatistics.writeTo(a, "obs_norm");
        a.write(file);
    }

    /** Loads {@code dir/policy.ckpt} (or the file itself). */
    public static TrainedPolicy load(Path dirOrFile) {
        Path file = Files.isDirectory(dirOrFile) ? dirOrFile.resolve(FILE) : dirOrFile;
        if (!Files.exists(file)) {
            throw new IllegalArgumentException("no saved policy at " + file + " (did the run finish?)");
        }
        TensorArchive a = TensorArchive.read(file);
        Config cfg = Config.readFrom(a);
        Env env = Training.makeEnv(cfg);
        BoxSpace envActions;
        int obsDim = env.observationSpace().dim(), actDim = env.actionSpace().dim();
        try (env; Env raw = EnvRegistry.make(cfg.getString("env"))) {
            envActions = raw.actionSpace();
        }
        Rng rng = new Rng(0);
        int policyObsDim = cfg.getString("algo").startsWith("diff") ? obsDim + actDim + cfg.getInt("diffusion_steps") : obsDim;
        StochasticPolicy policy = Agents.policyFor(cfg, policyObsDim, actDim, rng);
        a.readTensors("policy", policy.stateTensors());
        var stats = org.dmerl.env.RunningMeanStd.readFrom(a, "obs_norm");
        if (cfg.getBool("normalize_obs") && stats == null) {
            throw new IllegalArgumentException(file + " was trained with normalize_obs but holds no normalisation statistics");
        }
        return new TrainedPolicy(cfg, policy, envActions, obsDim, stats);
    }

    /**
     * Sets how {@link #act} runs a diffusion chain: ode, sde or mean (spec §1.2; ignored by Gaussian policies, whose
     * evaluation action is the mean).
     */
    public TrainedPolicy withEvalSampler(String sampler) {
        DiffusionKernelPolicy.Sampler s;
        try {
            s = DiffusionKernelPolicy.Sampler.valueOf(sampler.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown sampler '" + sampler + "'; known: ode, sde, mean");
        }
        if (policy instanceof DiffusionKernelPolicy d) d.setEvalSampler(s);
        return this;
    }

    public Config config() { return cfg; }
    public int observationDim() { return obsDim; }
    public int actionDim() { return actionBox.dim(); }

    /** A draw from the stochastic policy (for diffusion: the K-step SDE chain from x_0 ~ N(0, σ0²)). */
    public double[] sample(double[] obs, Rng rng) {
        return run(obs, rng, true);
    }

    /** The evaluation action: SAC's mean action, or the diffusion chain with the configured eval sampler. */
    public double[] act(double[] obs, Rng rng) {
        return run(obs, rng, false);
    }

    private double[] run(double[] obs, Rng rng, boolean stochastic) {
        if (obs.length != obsDim) {
            throw new IllegalArgumentException("observation has length " + obs.length + ", expected " + obsDim);
        }
        if (obsStatistics != null) {
            obs = obsStatistics.normalize(obs, org.dmerl.env.NormalizeObservation.DEFAULT_EPSILON,
                    org.dmerl.env.NormalizeObservation.DEFAULT_CLIP);
        }
        int d = actionBox.dim();
        double[] unit = new double[d];
        if (!diffusion) {
            Tensor a = step(obs, rng, stochastic);
            // SAC's actions are already squashed; PPO's unbounded ones reach the env through a clip or a tanh
            boolean tanh = cfg.getString("action_bound").equals("tanh");
            boolean ppo = cfg.getString("algo").equals("ppo");
            for (int i = 0; i < d; i++) {
                unit[i] = !ppo ? a.data[i] : tanh ? Math.tanh(a.data[i]) : Math.clamp(a.data[i], -1.0, 1.0);
            }
        } else {
            double[] x = new double[d];
            for (int i = 0; i < d; i++) x[i] = sigma0 * rng.gaussian();
            double[] aug = new double[obsDim + d + steps];
            for (int k = 0; k < steps; k++) {
                System.arraycopy(obs, 0, aug, 0, obsDim);
                System.arraycopy(x, 0, aug, obsDim, d);
                java.util.Arrays.fill(aug, obsDim + d, aug.length, 0);
                aug[obsDim + d + k] = 1;
                Tensor next = step(aug, rng, stochastic);
                for (int i = 0; i < d; i++) x[i] = next.data[i];
            }
            for (int i = 0; i < d; i++) unit[i] = Math.max(-clip, Math.min(clip, Math.tanh(x[i])));
        }
        double[] out = new double[d];
        for (int i = 0; i < d; i++) {
            double lo = actionBox.low()[i], hi = actionBox.high()[i];
            out[i] = lo + (unit[i] + 1) * 0.5 * (hi - lo);
        }
        return out;
    }

    private Tensor step(double[] obs, Rng rng, boolean stochastic) {
        graph.reset();
        graph.setGradEnabled(false);
        Tensor o = graph.inputRow(obs);
        if (!stochastic) return policy.deterministic(graph, o);
        Tensor noise = graph.input(1, policy.noiseDim());
        rng.fillGaussian(noise.data, 0, noise.size());
        return policy.act(graph, o, noise);
    }
}
