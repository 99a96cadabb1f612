package org.dmerl.algo;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A run's settings: a fixed set of documented keys with typed defaults. Unknown keys and unparsable values are
 * rejected with a message that names the key and lists the valid ones. The resolved map is what {@code config.yaml}
 * records.
 */
public final class Config {

    /** One setting: its default and a one-line doc saying where the default comes from. */
    public record Key(String name, Object defaultValue, String doc) {}

    private static final Map<String, Key> KEYS = new LinkedHashMap<>();

    private static void key(String name, Object def, String doc) {
        KEYS.put(name, new Key(name, def, doc));
    }

    static {
        // Run
        key("algo", "diffsac", "sac | ppo | wpo | diffsac | diffppo | diffwpo (diff* = the same learner on the diffusion-augmented MDP)");
        key("env", "Pendulum-v1", "environment id (see `dmerl envs`)");
        key("seed", 1L, "seed of everything random in the run");
        key("steps", 20_000L, "real environment steps (never augmented diffusion sub-steps)");
        key("threads", 1, "compute threads of the learner (1 or 2)");
        key("eval_every", 1_000L, "env steps between deterministic evaluations");
        key("eval_episodes", 10, "episodes per evaluation");
        key("log_every", 0L, "env steps between console progress lines (0: about 20 lines per run)");
        key("log_format", "text", "console lines: text, or json (one JSON object per line, for log collectors)");
        key("checkpoint_every", 0L, "env steps between checkpoints (0: a tenth of the run)");
        // Off-policy learner (SAC; defaults as CleanRL's sac_continuous_action / Haarnoja et al. 2018)
        key("gamma", 0.99, "discount per real environment step");
        key("tau", 0.005, "Polyak rate of target critics");
        key("batch_size", 256, "minibatch size");
        key("buffer_size", 1_000_000, "replay capacity in transitions");
        key("learning_starts", 5_000L, "env steps of uniformly random actions before learning");
        key("actor_lr", 3e-4, "actor Adam learning rate");
        key("critic_lr", 1e-3, "critic Adam learning rate (CleanRL q_lr)");
        key("alpha_lr", 1e-3, "temperature Adam learning rate");
        key("alpha", 0.2, "initial (or fixed) entropy temperature");
        key("autotune", true, "learn the temperature against the target entropy");
        key("target_entropy_scale", 1.0, "target entropy = -scale·|A| (times K for diffusion: spec §1.2)");
        key("hidden", "256,256", "hidden layer widths of actor and critics");
        key("activation", "relu", "hidden activation of actor and critics");
        key("utd", 1.0, "gradient steps per real environment step after learning_starts");
        key("log_std_min", -5.0, "lower bound of the Gaussian policy's log-std (CleanRL)");
        key("log_std_max", 2.0, "upper bound of the Gaussian policy's log-std (CleanRL)");
        key("normalize_obs", false, "running mean/var observation normalisation (frozen at evaluation)");
        // Actor trust region (spec §2.1/§4.2: REPPO's KL Lagrangian; DA-MDP WPO uses kl_bound 0.02)
        key("kl_bound", 0.0, "SAC/WPO actor: KL trust-region bound (0: off; spec WPO 0.02)");
        key("kl_start", 0.3, "initial KL Lagrange multiplier λ (spec kl_start)");
        key("lagrangian_lr", 6e-4, "Adam learning rate of log λ (spec WPO 6e-4)");
        key("kl_samples", 4, "actions per state in the KL estimate (spec kl_action_rep 16)");
        key("kl_refresh", 500, "gradient steps between refreshes of the old policy π_old");
        key("fisher_precondition", false, "WPO actor: divide the gradient by a diagonal empirical Fisher (spec §4.1; off in its final configs)");
        key("fisher_decay", 0.99, "WPO: decay of the Fisher's exponential average");
        key("fisher_damping", 1e-3, "WPO: damping added to the Fisher diagonal before dividing");
        // On-policy learner (PPO; defaults as CleanRL's ppo_continuous_action, whose preset configs/algo-ppo.yaml also
        // sets its network shape and normalisation)
        key("num_envs", 1, "PPO: parallel environment copies");
        key("env_threads", 1, "PPO: threads stepping the num_envs copies (same results for any count)");
        key("rollout_steps", 2048, "PPO: real env steps per copy per rollout (CleanRL num_steps)");
        key("num_minibatches", 32, "PPO: minibatches per epoch (CleanRL)");
        key("update_epochs", 10, "PPO: passes over each rollout (CleanRL)");
        key("gae_lambda", 0.95, "PPO: GAE λ per real env step (CleanRL)");
        key("clip_coef", 0.2, "PPO: surrogate clipping ε (CleanRL; spec §3 clip_ratio)");
        key("clip_vloss", true, "PPO: clip the value loss around the rollout values (CleanRL)");
        key("norm_adv", true, "PPO: divide advantages by their minibatch std (always centred; spec §3 DiffPPO: false)");
        key("ent_coef", 0.0, "PPO: entropy coefficient (Gaussian: bonus on H; diffusion: soft reward r − c·l_k, spec §3)");
        key("vf_coef", 0.5, "PPO: value loss weight (CleanRL; spec §3)");
        key("value_head", "mlp", "PPO: mlp (one output, (clipped) squared error; CleanRL) | hlgauss (categorical V, HL-Gauss cross-entropy, never clipped; spec §3)");
        key("value_bins", 151, "PPO hlgauss: bins of the categorical value (spec §3)");
        key("value_min", -100.0, "PPO hlgauss: lowest bin centre; returns (scaled if normalize_reward) are clipped to [value_min, value_max] (spec §3)");
        key("value_max", 200.0, "PPO hlgauss: highest bin centre (spec §3)");
        key("value_sigma_ratio", 0.75, "PPO hlgauss: σ of the Gaussian around each return, in bin widths (spec §3)");
        key("max_grad_norm", 0.5, "PPO: global gradient-norm clip (CleanRL; spec §3)");
        key("lr", 3e-4, "PPO: learning rate of the one Adam over policy and value (CleanRL learning_rate)");
        key("anneal_lr", true, "PPO: decay the learning rate linearly to 0 over the run (CleanRL)");
        key("log_std_init", 0.0, "PPO: initial state-independent log σ of the Gaussian policy (CleanRL)");
        key("action_bound", "clip", "PPO: clip | tanh, how the unbounded Gaussian action reaches the env (CleanRL: clip)");
        key("normalize_reward", false, "scale rewards by the running std of the discounted return (Gymnasium NormalizeReward)");
        key("k_scaled_rollouts", true, "DiffPPO: an augmented rollout has K× the steps and K× the minibatches (spec §3/§6)");
        // Diffusion policy (spec §1.2 and §6)
        key("diffusion_steps", 8, "K, denoising steps per action (spec §6: 8)");
        key("sigma0", 3.0, "prior std σ0 (spec §6: init_std 3.0)");
        key("dt", 0.125, "base step size Δt (spec §6)");
        key("dt_schedule", "linear", "linear | cosine | constant (spec §6: linear, min 0.17)");
        key("dt_min", 0.17, "minimum of the linear/cosine schedule");
        key("friction", 0.25, "initial per-dimension friction γ_f (σ² = 1/γ_f)");
        key("learn_dt", true, "learn the per-step Δt");
        key("learn_friction", true, "learn the per-dimension friction");
        key("eta_min", 0.0, "lower bound on every kernel step size η = Δt/friction when they are learned (0: no bound)");
        key("eta_max", 0.0, "upper bound on every kernel step size η = Δt/friction when they are learned (0: no bound)");
        key("backward_kernel", "principled", "principled | code (spec §1.2 variant ii, the authors' code)");
        key("eval_sampler", "ode", "ode | sde | mean: the diffusion sampler used for evaluation (spec: ode)");
        key("action_clip", 0.999, "a = clip(tanh(x_K), ±c)");
        key("denoiser_hidden", "256,256,256", "hidden widths of f_θ (spec §1.2: 4 layers of 256)");
        key("time_embedding", 16, "output width of the Fourier time embedding of k");
        key("squash_critic_latents", true, "critic sees tanh of the latents x_k, x_{k+1} (raw latents let it extrapolate)");
        key("env_time_discounting", false, "discount only at real env steps instead of every diffusion step");
        key("chain_target", "substep", "diffsac/diffwpo: each sub-step's critic target bootstraps from the next sub-step "
                + "(substep) or from the next real step's state, the chain's remaining sub-steps as taken (real: "
                + "without their log-ratio terms; real_entropy: with their log ratios under the current parameters, times α)");
        key("chain_entropy_estimate", "all", "real_entropy: evaluate the log ratios of all the chain's remaining sub-steps "
                + "(all) or of one drawn uniformly, weighted by their count (one: unbiased, fewer rows)");
    }

    private final Map<String, Object> values = new LinkedHashMap<>();

    public Config() {
        for (Key k : KEYS.values()) values.put(k.name(), k.defaultValue());
    }

    public static Map<String, Key> keys() {
        return Collections.unmodifiableMap(KEYS);
    }

    /** Sets {@code name} from a value (a string from the command line, or a YAML scalar). */
    public Config set(String name, Object raw) {
        Key key = KEYS.get(name);
        if (key == null) {
            throw new IllegalArgumentException("unknown config key '" + name + "'; valid keys: "
                    + String.join(", ", KEYS.keySet()));
        }
        values.put(name, convert(key, raw));
        return this;
    }

    private static Object convert(Key key, Object raw) {
        Object def = key.defaultValue();
        String s = String.valueOf(raw).trim();
        try {
            if (def instanceof Boolean) {
                if (raw instanceof Boolean b) return b;
                if (s.equalsIgnoreCase("true")) return true;
                if (s.equalsIgnoreCase("false")) return false;
                throw new NumberFormatException();
            }
            if (def instanceof Integer) {
                if (raw instanceof Number n && n.doubleValue() == n.intValue()) return n.intValue();
                return Integer.parseInt(s.replace("_", ""));
            }
            if (def instanceof Long) {
                if (raw instanceof Number n && n.doubleValue() == n.longValue()) return n.longValue();
                double d = Double.parseDouble(s.replace("_", ""));
                if (d != Math.rint(d)) throw new NumberFormatException();
                return (long) d;
            }
            if (def instanceof Double) {
                if (raw instanceof Number n) return n.doubleValue();
                return Double.parseDouble(s);
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("config key '" + key.name() + "': cannot read '" + s + "' as "
                    + def.getClass().getSimpleName().toLowerCase().replace("integer", "int"));
        }
        return s;
    }

    public long getLong(String name) { return ((Number) get(name)).longValue(); }
    public int getInt(String name) { return ((Number) get(name)).intValue(); }
    public double getDouble(String name) { return ((Number) get(name)).doubleValue(); }
    public float getFloat(String name) { return (float) getDouble(name); }
    public boolean getBool(String name) { return (Boolean) get(name); }
    public String getString(String name) { return String.valueOf(get(name)); }

    public int[] getInts(String name) {
        String s = getString(name).trim();
        if (s.isEmpty()) return new int[0];
        String[] parts = s.split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("config key '" + name + "': '" + s + "' is not a comma-separated list of ints");
            }
            if (out[i] <= 0) throw new IllegalArgumentException("config key '" + name + "': widths must be positive: " + s);
        }
        return out;
    }

    public Object get(String name) {
        if (!values.containsKey(name)) throw new IllegalArgumentException("unknown config key '" + name + "'");
        return values.get(name);
    }

    /** Resolved values in key order. */
    public Map<String, Object> asMap() {
        return Collections.unmodifiableMap(values);
    }

    /** Checks ranges that no single key can check alone; returns problems (empty when valid). */
    public List<String> problems() {
        List<String> p = new ArrayList<>();
        if (getLong("steps") <= 0) p.add("steps must be positive, got " + getLong("steps"));
        if (getInt("threads") < 1 || getInt("threads") > 2) p.add("threads must be 1 or 2, got " + getInt("threads"));
        if (getInt("batch_size") <= 0) p.add("batch_size must be positive");
        if (getInt("buffer_size") <= 0) p.add("buffer_size must be positive");
        if (getLong("learning_starts") < 0) p.add("learning_starts must be ≥ 0");
        if (getLong("eval_every") <= 0) p.add("eval_every must be positive");
        if (getInt("eval_episodes") <= 0) p.add("eval_episodes must be positive");
        if (getDouble("gamma") <= 0 || getDouble("gamma") > 1) p.add("gamma must be in (0, 1]");
        if (getDouble("tau") <= 0 || getDouble("tau") > 1) p.add("tau must be in (0, 1]");
        if (getInt("diffusion_steps") < 1) p.add("diffusion_steps must be ≥ 1");
        p.addAll(org.dmerl.policy.DiffusionKernelPolicy.Settings.etaBoundProblems(getDouble("eta_min"), getDouble("eta_max")));
        if (getInt("num_envs") < 1) p.add("num_envs must be ≥ 1");
        if (getInt("env_threads") < 1) p.add("env_threads must be ≥ 1");
        if (getDouble("kl_bound") < 0) p.add("kl_bound must be ≥ 0");
        if (!(getDouble("fisher_decay") > 0 && getDouble("fisher_decay") < 1)) p.add("fisher_decay must be in (0, 1)");
        if (!(getDouble("fisher_damping") > 0)) p.add("fisher_damping must be positive");
        if (getInt("kl_samples") < 1) p.add("kl_samples must be ≥ 1");
        if (getInt("kl_refresh") < 1) p.add("kl_refresh must be ≥ 1");
        if (!(getDouble("kl_start") > 0)) p.add("kl_start must be positive");
        if (getInt("rollout_steps") < 1) p.add("rollout_steps must be ≥ 1");
        if (getInt("num_minibatches") < 1) p.add("num_minibatches must be ≥ 1");
        if ((long) getInt("num_envs") * getInt("rollout_steps") < getInt("num_minibatches")) {
            p.add("num_envs·rollout_steps must be ≥ num_minibatches");
        }
        if (getInt("update_epochs") < 1) p.add("update_epochs must be ≥ 1");
        if (getDouble("gae_lambda") < 0 || getDouble("gae_lambda") > 1) p.add("gae_lambda must be in [0, 1]");
        if (!(getDouble("clip_coef") > 0)) p.add("clip_coef must be positive");
        if (!(getDouble("lr") > 0)) p.add("lr must be positive");
        if (!List.of("clip", "tanh").contains(getString("action_bound"))) {
            p.add("action_bound must be clip or tanh, got '" + getString("action_bound") + "'");
        }
        if (!List.of("mlp", "hlgauss").contains(getString("value_head"))) {
            p.add("value_head must be mlp or hlgauss, got '" + getString("value_head") + "'");
        }
        if (getInt("value_bins") < 2) p.add("value_bins must be ≥ 2");
        if (!(getDouble("value_max") > getDouble("value_min"))) p.add("value_max must be greater than value_min");
        if (!(getDouble("value_sigma_ratio") > 0)) p.add("value_sigma_ratio must be positive");
        if (getDouble("utd") <= 0) p.add("utd must be positive");
        if (!List.of("text", "json").contains(getString("log_format"))) {
            p.add("log_format must be text or json, got '" + getString("log_format") + "'");
        }
        if (!List.of("substep", "real", "real_entropy").contains(getString("chain_target"))) {
            p.add("chain_target must be substep, real or real_entropy, got '" + getString("chain_target") + "'");
        }
        if (!List.of("all", "one").contains(getString("chain_entropy_estimate"))) {
            p.add("chain_entropy_estimate must be all or one, got '" + getString("chain_entropy_estimate") + "'");
        }
        if (!List.of("linear", "cosine", "constant").contains(getString("dt_schedule"))) {
            p.add("dt_schedule must be linear, cosine or constant, got '" + getString("dt_schedule") + "'");
        }
        if (!List.of("principled", "code").contains(getString("backward_kernel"))) {
            p.add("backward_kernel must be principled or code, got '" + getString("backward_kernel") + "'");
        }
        if (!List.of("ode", "sde", "mean").contains(getString("eval_sampler"))) {
            p.add("eval_sampler must be ode, sde or mean, got '" + getString("eval_sampler") + "'");
        }
        return p;
    }

    /** Stores every resolved value as a string entry {@code config/<key>} (checkpoints, saved policies). */
    public void writeTo(org.dmerl.tensor.TensorArchive a) {
        for (var e : values.entrySet()) a.putString("config/" + e.getKey(), String.valueOf(e.getValue()));
    }

    /** The config {@link #writeTo} stored; keys the archive lacks keep their defaults. */
    public static Config readFrom(org.dmerl.tensor.TensorArchive a) {
        Config cfg = new Config();
        for (String key : KEYS.keySet()) {
            if (a.contains("config/" + key)) cfg.set(key, a.getString("config/" + key));
        }
        return cfg;
    }

    public Config copy() {
        Config c = new Config();
        c.values.putAll(values);
        return c;
    }
}
