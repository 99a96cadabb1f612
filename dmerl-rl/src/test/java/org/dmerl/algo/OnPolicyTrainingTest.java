package org.dmerl.algo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.dmerl.env.ClipAction;
import org.dmerl.env.Env;
import org.dmerl.env.NormalizeObservation;
import org.dmerl.env.NormalizeReward;
import org.dmerl.env.RecordEpisodeStatistics;
import org.dmerl.env.RunningMeanStd;
import org.dmerl.env.SyncVectorEnv;
import org.dmerl.env.TanhAction;
import org.dmerl.env.mujoco.ThreadedVectorEnv;
import org.dmerl.nn.Mlp;
import org.dmerl.policy.DiagGaussianPolicy;
import org.dmerl.policy.DiffusionAugmentedEnv;
import org.dmerl.policy.DiffusionKernelPolicy;
import org.dmerl.policy.StochasticPolicy;
import org.dmerl.policy.TanhGaussianPolicy;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End-to-end runs of the on-policy learner (PPO and DiffPPO on Pendulum-v1, small networks): runs are deterministic
 * given the config, count real and agent steps as documented, report finite losses, and hand out a policy that,
 * saved with its observation statistics and loaded again, acts as the trained policy does on normalised observations.
 */
class OnPolicyTrainingTest {

    static Config config(Map<String, Object> values) {
        Config cfg = new Config();
        values.forEach(cfg::set);
        return cfg;
    }

    static Config ppoConfig() {
        return config(Map.ofEntries(Map.entry("algo", "ppo"), Map.entry("env", "Pendulum-v1"), Map.entry("seed", 3),
                Map.entry("steps", 1024), Map.entry("rollout_steps", 256), Map.entry("num_minibatches", 4),
                Map.entry("update_epochs", 2), Map.entry("eval_every", 512), Map.entry("eval_episodes", 1),
                Map.entry("hidden", "16,16"), Map.entry("activation", "tanh"), Map.entry("normalize_obs", true),
                Map.entry("normalize_reward", true)));
    }

    static Config diffPpoConfig() {
        return ppoConfig().set("algo", "diffppo").set("diffusion_steps", 2).set("denoiser_hidden", "16,16")
                .set("rollout_steps", 64).set("steps", 512).set("eval_every", 256).set("ent_coef", 0.01)
                .set("norm_adv", false);
    }

    /** What a run reports, minus wall-clock times, and the policy it handed out last. */
    record Trace(List<String> evaluations, List<String> episodes, List<TrainingListener.Episode> rawEpisodes,
                 TrainingResult result, StochasticPolicy policy, RunningMeanStd obsStatistics, long policyStep,
                 int policyCalls) {}

    /** Runs {@code cfg}; every onPolicy saves the policy into {@code saveTo} (null: not saved). */
    static Trace run(Config cfg, Path saveTo) {
        List<String> evaluations = new ArrayList<>(), episodes = new ArrayList<>();
        List<TrainingListener.Episode> raw = new ArrayList<>();
        Object[] last = new Object[3];
        int[] calls = {0};
        TrainingResult r = Training.run(cfg, new TrainingListener() {
            @Override
            public void onEvaluation(Evaluation e) {
                evaluations.add(e.envStep() + " " + e.returnMean() + " " + e.returnStd() + " " + e.episodes());
            }

            @Override
            public void onEpisode(Episode e) {
                raw.add(e);
                episodes.add(e.envStep() + " " + e.episodeReturn() + " " + e.episodeLength() + " " + e.losses());
            }

            @Override
            public void onPolicy(long envStep, StochasticPolicy policy, Config c, RunningMeanStd obsStatistics) {
                calls[0]++;
                last[0] = policy;
                last[1] = obsStatistics;
                last[2] = envStep;
                if (saveTo != null) TrainedPolicy.save(saveTo.resolve(TrainedPolicy.FILE), policy, c, obsStatistics);
            }
        });
        return new Trace(evaluations, episodes, raw, r, (StochasticPolicy) last[0], (RunningMeanStd) last[1],
                last[2] == null ? -1 : (Long) last[2], calls[0]);
    }

    static void assertSameRun(Trace a, Trace b) {
        assertEquals(a.evaluations(), b.evaluations());
        assertEquals(a.episodes(), b.episodes());
        assertEquals(a.result().evalReturnMean(), b.result().evalReturnMean());
        assertEquals(a.result().evalReturnStd(), b.result().evalReturnStd());
        assertEquals(a.result().envSteps(), b.result().envSteps());
        assertEquals(a.result().agentSteps(), b.result().agentSteps());
        assertEquals(a.result().gradSteps(), b.result().gradSteps());
        assertEquals(a.obsStatistics(), b.obsStatistics());
        List<Tensor> pa = a.policy().stateTensors(), pb = b.policy().stateTensors();
        for (int i = 0; i < pa.size(); i++) assertArrayEquals(pa.get(i).toArray(), pb.get(i).toArray(), pa.get(i).name());
    }

    /** Episodes report real (not normalised) Pendulum returns, and finite losses once the first update has run. */
    static void checkEpisodes(Trace t, long firstUpdateAt) {
        assertFalse(t.rawEpisodes().isEmpty());
        for (TrainingListener.Episode e : t.rawEpisodes()) {
            assertEquals(200, e.episodeLength(), "Pendulum episodes are 200 real steps");
            // normalised rewards would sum to O(10); Pendulum's real returns of an untrained policy are far below −100
            assertTrue(e.episodeReturn() < -100, "episode return " + e.episodeReturn() + " looks normalised");
            if (e.envStep() > firstUpdateAt) {
                Losses l = e.losses();
                assertTrue(Float.isFinite(l.actorLoss()) && Float.isFinite(l.criticLoss()) && Float.isFinite(l.entropy()),
                        "losses at " + e.envStep() + ": " + l);
            }
        }
    }

    @Test
    void ppoIsDeterministicAndCountsSteps(@TempDir Path dir) {
        Trace a = run(ppoConfig(), dir), b = run(ppoConfig(), null);
        assertSameRun(a, b);
        TrainingResult r = a.result();
        assertTrue(r.envSteps() >= 1024, "env steps " + r.envSteps());
        assertEquals(1024, r.envSteps(), "4 rollouts of 256");
        assertEquals(r.envSteps(), r.agentSteps());
        assertEquals(4L * 2 * 4, r.gradSteps(), "iterations × epochs × minibatches");
        assertEquals(List.of("512", "1024"), a.evaluations().stream().map(s -> s.split(" ")[0]).toList());
        assertTrue(Double.isFinite(r.evalReturnMean()));
        assertEquals("ppo", r.algo());
        checkEpisodes(a, 256);
        assertEquals(r.envSteps(), a.policyStep(), "the last onPolicy is the final policy");
        assertTrue(a.policyCalls() >= 2, "policies at checkpoints and at the end: " + a.policyCalls());
        assertInstanceOf(DiagGaussianPolicy.class, a.policy());
        assertNotNull(a.obsStatistics(), "normalize_obs hands out its statistics");
        // every observation the training copy saw: the first reset, every step, and the reset after each episode
        assertEquals(r.envSteps() + 1 + a.rawEpisodes().size(), a.obsStatistics().count(), 1e-9);
        checkSavedPpoPolicy(a, dir);
        assertEquals(r.evalReturnMean(), replayFinalEvaluation(dir, ppoConfig()), 1e-6);
    }

    /**
     * The final evaluation again, outside the trainer: the loaded policy on the raw registry env, reset with the
     * evaluation seed. It must see the same observations (normalised with the saved statistics) and send the same
     * torques (clipped or squashed, rescaled) as the trainer's evaluation env did.
     */
    static double replayFinalEvaluation(Path dir, Config cfg) {
        TrainedPolicy p = TrainedPolicy.load(dir);
        try (Env env = org.dmerl.env.EnvRegistry.make("Pendulum-v1")) {
            double[] obs = env.reset(cfg.getLong("seed") + 1_000_003L);
            double ret = 0;
            while (true) {
                org.dmerl.env.StepResult r = env.step(p.act(obs, new Rng(0)));
                ret += r.reward();
                obs = r.observation();
                if (r.done()) return ret;
            }
        }
    }

    /** The loaded policy acts as clip(μ(normalise(obs)), ±1) rescaled onto Pendulum's [−2, 2] torque. */
    static void checkSavedPpoPolicy(Trace t, Path dir) {
        TrainedPolicy loaded = TrainedPolicy.load(dir);
        assertEquals(3, loaded.observationDim());
        assertEquals(1, loaded.actionDim());
        RunningMeanStd st = t.obsStatistics();
        boolean tanh = loaded.config().getString("action_bound").equals("tanh");
        Graph g = new Graph();
        Rng rng = new Rng(21);
        double maxDiffFromUnnormalised = 0;
        for (int i = 0; i < 50; i++) {
            double theta = rng.uniform(-Math.PI, Math.PI);
            double[] obs = {Math.cos(theta), Math.sin(theta), rng.uniform(-8, 8)};
            double[] act = loaded.act(obs, new Rng(i));
            assertEquals(1, act.length);
            assertTrue(act[0] >= -2 && act[0] <= 2, "action " + act[0] + " outside Pendulum's box");
            double[] sample = loaded.sample(obs, new Rng(i));
            assertTrue(sample[0] >= -2 && sample[0] <= 2, "sampled action " + sample[0] + " outside Pendulum's box");
            double expected = 2 * squash(mean(t.policy(), g, st.normalize(obs, 1e-8, 10)), tanh);
            assertEquals(expected, act[0], 1e-6, "observation " + java.util.Arrays.toString(obs));
            double unnormalised = 2 * squash(mean(t.policy(), g, obs), tanh);
            maxDiffFromUnnormalised = Math.max(maxDiffFromUnnormalised, Math.abs(unnormalised - act[0]));
        }
        System.out.printf("[OnPolicyTrainingTest] max |act without normalisation - act| = %.4g%n", maxDiffFromUnnormalised);
        assertTrue(maxDiffFromUnnormalised > 1e-3, "act() does not seem to normalise observations");
    }

    private static double squash(double u, boolean tanh) {
        return tanh ? Math.tanh(u) : Math.clamp(u, -1.0, 1.0);
    }

    private static double mean(StochasticPolicy p, Graph g, double[] obs) {
        g.reset();
        g.setGradEnabled(false);
        return p.deterministic(g, g.inputRow(obs)).data[0];
    }

    @Test
    void ppoWithTwoEnvsAndTanhActionsIsDeterministic(@TempDir Path dir) {
        Config cfg = ppoConfig().set("num_envs", 2).set("rollout_steps", 128).set("action_bound", "tanh");
        // the copies stepped on two threads give the same run
        Trace a = run(cfg, dir), b = run(cfg.copy().set("env_threads", 2), null);
        assertSameRun(a, b);
        assertEquals(1024, a.result().envSteps(), "4 rollouts of 2 × 128");
        assertEquals(4L * 2 * 4, a.result().gradSteps());
        assertEquals(2 * 2, a.rawEpisodes().size(), "each copy runs 512 steps: two 200-step episodes");
        checkEpisodes(a, 256);
        checkSavedPpoPolicy(a, dir);
        assertEquals(a.result().evalReturnMean(), replayFinalEvaluation(dir, cfg), 1e-6);
        // a different seed is a different run
        Trace c = run(cfg.copy().set("seed", 4), null);
        assertFalse(a.evaluations().equals(c.evaluations()), "seed had no effect");
    }

    @Test
    void diffPpoIsDeterministicAndCountsRealAndAgentSteps(@TempDir Path dir) {
        Trace a = run(diffPpoConfig(), dir), b = run(diffPpoConfig(), null);
        assertSameRun(a, b);
        TrainingResult r = a.result();
        assertEquals(512, r.envSteps(), "rollouts of 64 real steps");
        assertEquals(2 * r.envSteps(), r.agentSteps(), "K agent steps per real step");
        // k_scaled_rollouts: 2·64 agent steps per rollout, 2·4 minibatches per epoch
        assertEquals(8L * 2 * 8, r.gradSteps(), "iterations × epochs × K·minibatches");
        assertEquals(List.of("256", "512"), a.evaluations().stream().map(s -> s.split(" ")[0]).toList());
        assertTrue(Double.isFinite(r.evalReturnMean()));
        checkEpisodes(a, 64);
        assertInstanceOf(DiffusionKernelPolicy.class, a.policy());
        assertEquals(r.envSteps(), a.policyStep());

        // the loaded policy: K ODE steps from x_0 ~ N(0, σ0²) on normalised observations, tanh, clip, rescale
        TrainedPolicy loaded = TrainedPolicy.load(dir);
        DiffusionKernelPolicy p = (DiffusionKernelPolicy) a.policy();
        RunningMeanStd st = a.obsStatistics();
        double sigma0 = loaded.config().getDouble("sigma0"), clip = loaded.config().getDouble("action_clip");
        Graph g = new Graph();
        Rng rng = new Rng(31);
        for (int i = 0; i < 20; i++) {
            double theta = rng.uniform(-Math.PI, Math.PI);
            double[] obs = {Math.cos(theta), Math.sin(theta), rng.uniform(-8, 8)};
            double[] act = loaded.act(obs, new Rng(100 + i));
            assertTrue(act[0] >= -2 && act[0] <= 2, "action " + act[0]);
            double[] s = st.normalize(obs, 1e-8, 10);
            Rng noise = new Rng(100 + i);
            double x = sigma0 * noise.gaussian();
            for (int k = 0; k < 2; k++) {
                double[] aug = {s[0], s[1], s[2], x, k == 0 ? 1 : 0, k == 1 ? 1 : 0};
                g.reset();
                g.setGradEnabled(false);
                x = p.deterministic(g, g.inputRow(aug)).data[0];
            }
            double expected = 2 * Math.clamp(Math.tanh(x), -clip, clip);
            assertEquals(expected, act[0], 1e-6, "observation " + java.util.Arrays.toString(obs));
        }
    }

    @Test
    void envThreadsStepTheCopiesOnAThreadedVectorEnv() {
        try (var one = Training.onPolicyEnvs(ppoConfig().set("num_envs", 2));
             var two = Training.onPolicyEnvs(ppoConfig().set("num_envs", 2).set("env_threads", 2))) {
            assertInstanceOf(SyncVectorEnv.class, one);
            assertEquals(2, assertInstanceOf(ThreadedVectorEnv.class, two).threads());
        }
    }

    @Test
    void diffPpoWithTwoEnvsIsDeterministic() {
        Config cfg = diffPpoConfig().set("num_envs", 2).set("rollout_steps", 32).set("eval_every", 256);
        Trace a = run(cfg, null), b = run(cfg.copy().set("env_threads", 2), null);
        assertSameRun(a, b);
        assertEquals(512, a.result().envSteps(), "rollouts of 2 × 32 real steps");
        assertEquals(2 * 512, a.result().agentSteps(), "K agent steps per real step");
        assertEquals(8L * 2 * 8, a.result().gradSteps(), "iterations × epochs × K·minibatches");
        assertEquals(2, a.rawEpisodes().size(), "each copy runs 256 steps: one 200-step episode");
        checkEpisodes(a, 64);
    }

    /**
     * Without k_scaled_rollouts a rollout of T agent steps need not end at a real step, so the real steps per rollout
     * vary; the run must still take at least {@code steps} real steps. Here K = 2, T = 3, N = 2: the trainer plans
     * ceil(9 / floor(3·2/2)) = 3 rollouts, but the copies (in lockstep) end chains 1, 2, 1 times per rollout, so the
     * three rollouts take 2 + 4 + 2 = 8 real steps and the run stops there.
     */
    @Test
    void unscaledDiffPpoRolloutsStillReachTheStepBudget() {
        Config cfg = diffPpoConfig().set("k_scaled_rollouts", false).set("num_envs", 2).set("rollout_steps", 3)
                .set("num_minibatches", 1).set("update_epochs", 1).set("steps", 9).set("eval_every", 9);
        TrainingResult r = run(cfg, null).result();
        assertTrue(r.envSteps() >= 9, "env steps " + r.envSteps() + " < steps 9 (agent steps " + r.agentSteps() + ")");
    }

    // ------------------------------------------------------------------------------------------------ assembly

    @Test
    void onPolicyEnvWrapsAsDocumented() {
        Config ppo = ppoConfig();
        try (Env train = Training.onPolicyEnv(ppo, true); Env eval = Training.onPolicyEnv(ppo, false)) {
            assertInstanceOf(NormalizeReward.class, train, "reward scaling outermost");
            assertTrue(train.unwrap(RecordEpisodeStatistics.class).isPresent());
            assertTrue(train.unwrap(ClipAction.class).isPresent());
            assertTrue(train.unwrap(NormalizeObservation.class).isPresent());
            assertFalse(eval.unwrap(NormalizeReward.class).isPresent(), "evaluation sees real rewards");
            assertFalse(eval.unwrap(RecordEpisodeStatistics.class).isPresent());
            assertTrue(eval.unwrap(ClipAction.class).isPresent());
            assertEquals(Double.NEGATIVE_INFINITY, train.actionSpace().low()[0], "PPO acts unbounded");
            // NormalizeReward wraps RecordEpisodeStatistics, which sees the real rewards
            assertInstanceOf(RecordEpisodeStatistics.class, ((NormalizeReward) train).inner());
        }
        Config tanh = ppoConfig().set("action_bound", "tanh").set("normalize_reward", false).set("normalize_obs", false);
        try (Env train = Training.onPolicyEnv(tanh, true)) {
            assertInstanceOf(RecordEpisodeStatistics.class, train);
            assertTrue(train.unwrap(TanhAction.class).isPresent());
            assertFalse(train.unwrap(ClipAction.class).isPresent());
            assertFalse(train.unwrap(NormalizeObservation.class).isPresent());
        }
        Config diff = diffPpoConfig();
        try (Env train = Training.onPolicyEnv(diff, true)) {
            assertInstanceOf(DiffusionAugmentedEnv.class, train, "the augmented MDP outermost");
            assertFalse(train.unwrap(ClipAction.class).isPresent(), "the diffusion chain squashes its own actions");
            assertFalse(train.unwrap(TanhAction.class).isPresent());
            assertTrue(train.unwrap(NormalizeReward.class).isPresent());
            assertEquals(3 + 1 + 2, train.observationSpace().dim(), "(s, x_k, onehot k)");
        }
    }

    @Test
    void agentsBuildThePolicyAndValueFunctionOfTheAlgorithm() {
        Rng rng = new Rng(1);
        StochasticPolicy ppo = Agents.policyFor(ppoConfig(), 3, 1, rng);
        assertInstanceOf(DiagGaussianPolicy.class, ppo);
        assertEquals(3, ppo.observationDim());
        assertEquals(1.0, ((DiagGaussianPolicy) ppo).std()[0], 1e-9, "log_std_init 0");
        StochasticPolicy diff = Agents.policyFor(diffPpoConfig(), 3 + 1 + 2, 1, rng);
        assertInstanceOf(DiffusionKernelPolicy.class, diff);
        assertEquals(3, ((DiffusionKernelPolicy) diff).stateDim());
        assertEquals(6, diff.observationDim());
        assertInstanceOf(TanhGaussianPolicy.class, Agents.policyFor(ppoConfig().set("algo", "sac"), 3, 1, rng));
        assertTrue(Agents.isOnPolicy("ppo") && Agents.isOnPolicy("diffppo"));
        assertFalse(Agents.isOnPolicy("sac") || Agents.isOnPolicy("diffsac") || Agents.isOnPolicy("wpo"));

        Mlp v = Agents.valueFunction(ppoConfig(), 6, rng).net();
        assertEquals(6, v.in());
        assertEquals(1, v.out());
        Graph g = new Graph();
        g.reset();
        g.setGradEnabled(false);
        assertEquals(4, v.forward(g, Tensor.zeros(4, 6)).rows());
        assertEquals(List.of("value.l0.w", "value.l0.b", "value.l1.w", "value.l1.b", "value.out.w", "value.out.b"),
                v.parameters().stream().map(Tensor::name).toList());
    }
}
