package org.dmerl.algo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.dmerl.nn.Activation;
import org.dmerl.policy.TanhGaussianPolicy;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** End-to-end runs of the off-policy learner: SAC and DiffSAC are deterministic given the config. */
class SacTest {

    /** What a run reports, minus wall-clock times. */
    record Trace(List<String> evaluations, List<String> episodes, TrainingResult result) {}

    static Config config(Map<String, Object> values) {
        Config cfg = new Config();
        values.forEach(cfg::set);
        return cfg;
    }

    static Config sacConfig() {
        return config(Map.of("algo", "sac", "env", "Pendulum-v1", "steps", 1500, "learning_starts", 500,
                "eval_every", 500, "eval_episodes", 2, "hidden", "32,32", "batch_size", 32, "seed", 3));
    }

    static Config diffSacConfig() {
        return config(Map.ofEntries(Map.entry("algo", "diffsac"), Map.entry("env", "Pendulum-v1"),
                Map.entry("steps", 600), Map.entry("learning_starts", 300), Map.entry("eval_every", 300),
                Map.entry("eval_episodes", 2), Map.entry("hidden", "32,32"), Map.entry("batch_size", 32),
                Map.entry("diffusion_steps", 2), Map.entry("denoiser_hidden", "16,16"), Map.entry("seed", 3)));
    }

    static Trace run(Config cfg) {
        List<String> evaluations = new ArrayList<>(), episodes = new ArrayList<>();
        TrainingResult r = Training.run(cfg, new TrainingListener() {
            @Override
            public void onEvaluation(Evaluation e) {
                evaluations.add(e.envStep() + " " + e.returnMean() + " " + e.returnStd() + " " + e.episodes());
            }

            @Override
            public void onEpisode(Episode e) {
                episodes.add(e.envStep() + " " + e.episodeReturn() + " " + e.episodeLength() + " " + e.losses());
            }
        });
        return new Trace(evaluations, episodes, r);
    }

    static void assertSameRun(Trace a, Trace b) {
        assertEquals(a.evaluations(), b.evaluations());
        assertEquals(a.episodes(), b.episodes());
        assertEquals(a.result().evalReturnMean(), b.result().evalReturnMean());
        assertEquals(a.result().evalReturnStd(), b.result().evalReturnStd());
        assertEquals(a.result().envSteps(), b.result().envSteps());
        assertEquals(a.result().agentSteps(), b.result().agentSteps());
        assertEquals(a.result().gradSteps(), b.result().gradSteps());
    }

    @Test
    void sacIsDeterministic() {
        Trace a = run(sacConfig()), b = run(sacConfig());
        assertSameRun(a, b);
        assertEquals(3, a.evaluations().size(), a.evaluations().toString());
        assertEquals(1500, a.result().envSteps());
        assertEquals(1500, a.result().agentSteps());
        assertTrue(a.result().gradSteps() > 900, "gradient steps " + a.result().gradSteps());
        assertTrue(Double.isFinite(a.result().evalReturnMean()));
        assertFalse(a.episodes().isEmpty());
        // the run really learned something that feeds into evaluation: a different seed differs
        Trace c = run(sacConfig().set("seed", 4));
        assertFalse(a.evaluations().equals(c.evaluations()), "seed had no effect");
    }

    @Test
    void diffSacIsDeterministic() {
        Trace a = run(diffSacConfig()), b = run(diffSacConfig());
        assertSameRun(a, b);
        assertEquals(2, a.evaluations().size(), a.evaluations().toString());
        assertEquals(600, a.result().envSteps());
        assertEquals(2 * 600, a.result().agentSteps(), "K agent steps per real step");
        assertTrue(a.result().gradSteps() > 200, "gradient steps " + a.result().gradSteps());
        assertTrue(Double.isFinite(a.result().evalReturnMean()));
        assertFalse(a.episodes().isEmpty());
        // episodes are counted in real steps: Pendulum's 200-step limit
        for (String e : a.episodes()) assertEquals("200", e.split(" ")[2], e);
    }

    @Test
    void diffSacDeterministicWithCodeKernelAndSdeEvaluation() {
        Config cfg = diffSacConfig().set("backward_kernel", "code").set("eval_sampler", "sde").set("steps", 400)
                .set("eval_every", 200).set("learning_starts", 200);
        assertSameRun(run(cfg), run(cfg.copy()));
    }

    /**
     * A second compute thread changes no bit of a run: products, long elementwise passes, the tape's gradient zeroing
     * and Adam's parameters all split into row halves. The shapes are large enough that every one of these splits.
     */
    @Test
    void twoThreadsGiveTheOneThreadRun() {
        try {
            Config sac = sacConfig().set("hidden", "128,128").set("batch_size", 128).set("steps", 900)
                    .set("learning_starts", 600).set("eval_every", 300);
            assertSameRun(run(sac.copy().set("threads", 1)), run(sac.copy().set("threads", 2)));
            Config diffSac = diffSacConfig().set("hidden", "128,128").set("denoiser_hidden", "128,128")
                    .set("batch_size", 128).set("steps", 500).set("learning_starts", 350).set("eval_every", 250)
                    .set("chain_target", "real_entropy");
            assertSameRun(run(diffSac.copy().set("threads", 1)), run(diffSac.copy().set("threads", 2)));
        } finally {
            org.dmerl.tensor.Parallel.setThreads(1);
        }
    }

    /** One update: targets move by Polyak averaging, the temperature moves against the entropy gap, actor learns. */
    @Test
    void oneUpdateMovesTargetsTemperatureAndActor() {
        Rng rng = new Rng(9);
        int obsDim = 3, actDim = 1, batch = 16;
        float tau = 0.1f, alphaLr = 1e-2f;
        var actor = new TanhGaussianPolicy(obsDim, actDim, new int[] {16}, Activation.RELU, -5f, 2f, rng);
        var critic = new TwinCritic("c", obsDim, actDim, new int[] {16}, Activation.RELU, rng);
        var target = new TwinCritic("t", obsDim, actDim, new int[] {16}, Activation.RELU, rng);
        Sac sac = new Sac(actor, critic, target, batch, 1e-3f, 1e-3f, alphaLr, 0.2f, true, -1f, 1f, tau);
        // the target starts as a copy of the critic
        List<Tensor> cp = critic.parameters(), tp = target.parameters();
        for (int i = 0; i < cp.size(); i++) org.junit.jupiter.api.Assertions.assertArrayEquals(cp.get(i).toArray(), tp.get(i).toArray());
        List<float[]> targetBefore = tp.stream().map(Tensor::toArray).toList();
        List<float[]> actorBefore = actor.parameters().stream().map(Tensor::toArray).toList();

        ReplayBuffer buffer = new ReplayBuffer(64, obsDim, actDim, batch);
        for (int i = 0; i < 64; i++) {
            float[] s = {(float) rng.gaussian(), (float) rng.gaussian(), (float) rng.gaussian()};
            float[] s2 = {(float) rng.gaussian(), (float) rng.gaussian(), (float) rng.gaussian()};
            buffer.add(s, new float[] {(float) rng.uniform(-1, 1)}, rng.gaussian(), s2, i % 10 == 0 ? 0f : 0.99f);
        }
        Losses l = sac.update(buffer.sample(rng), rng);
        assertTrue(Float.isFinite(l.criticLoss()) && Float.isFinite(l.actorLoss()) && Float.isFinite(l.entropy()));
        assertEquals(0.2f, l.alpha(), 1e-6f, "losses report the temperature used in the update");

        for (int i = 0; i < tp.size(); i++) {
            float[] before = targetBefore.get(i), after = tp.get(i).toArray(), c = cp.get(i).toArray();
            for (int j = 0; j < after.length; j++) {
                assertEquals(before[j] + tau * (c[j] - before[j]), after[j], 1e-6f, "Polyak target " + tp.get(i).name());
            }
        }
        boolean actorMoved = false;
        for (int i = 0; i < actorBefore.size(); i++) {
            actorMoved |= !java.util.Arrays.equals(actorBefore.get(i), actor.parameters().get(i).toArray());
        }
        assertTrue(actorMoved, "actor parameters did not change");
        // Adam's first step has size ≈ lr in the direction of −(Ĥ − H̄)
        double expectedLogAlpha = Math.log(0.2) - alphaLr * Math.signum(l.entropy() - (-1f));
        assertEquals(expectedLogAlpha, Math.log(sac.alpha()), 1e-4);
        // critic parameters were unfrozen again after the actor step
        for (Tensor t : cp) assertTrue(t.requiresGrad(), t.name());
        for (Tensor t : tp) assertFalse(t.requiresGrad(), t.name());
    }

    /**
     * The steady-state update reuses its graph's buffers: once compiled it allocates a few KB per update (boxed vector
     * temporaries the JIT does not remove in every kernel; 3.2 KB at the HalfCheetah shape), never a tensor buffer (a
     * single [64, 64] activation is 16 KB). Rounds repeat until the JIT has compiled the path; at one and two threads.
     */
    @Test
    void steadyStateUpdateAllocatesNoTensorBuffers() {
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        for (int t = 1; t <= 2; t++) {
            org.dmerl.tensor.Parallel.setThreads(t);
            try {
                Rng rng = new Rng(11);
                int obsDim = 17, actDim = 6, batch = 64;
                var actor = new TanhGaussianPolicy(obsDim, actDim, new int[] {64, 64}, Activation.RELU, -5f, 2f, rng);
                var critic = new TwinCritic("c", obsDim, actDim, new int[] {64, 64}, Activation.RELU, rng);
                var target = new TwinCritic("t", obsDim, actDim, new int[] {64, 64}, Activation.RELU, rng);
                Sac sac = new Sac(actor, critic, target, batch, 3e-4f, 1e-3f, 1e-3f, 0.2f, true, -actDim, 1f, 0.005f);
                ReplayBuffer buffer = new ReplayBuffer(1024, obsDim, actDim, batch);
                float[] s = new float[obsDim], a = new float[actDim];
                for (int i = 0; i < 1024; i++) {
                    for (int j = 0; j < obsDim; j++) s[j] = (float) rng.gaussian();
                    for (int j = 0; j < actDim; j++) a[j] = (float) rng.uniform(-1, 1);
                    buffer.add(s, a, rng.gaussian(), s, 0.99f);
                }
                long best = Long.MAX_VALUE;
                StringBuilder rounds = new StringBuilder();
                for (int round = 0; round < 120 && best > 8 * 1024; round++) {
                    long before = threads.getThreadAllocatedBytes(id);
                    for (int i = 0; i < 50; i++) sac.update(buffer.sample(rng), rng);
                    long bytes = (threads.getThreadAllocatedBytes(id) - before) / 50;
                    best = Math.min(best, bytes);
                    rounds.append(' ').append(bytes);
                }
                assertTrue(best <= 8 * 1024, "bytes per warm update at " + t + " thread(s): " + best + "; rounds:" + rounds);
            } finally {
                org.dmerl.tensor.Parallel.setThreads(1);
            }
        }
    }

    private static Sac smallSac(Rng rng, TanhGaussianPolicy actor, float actorLr) {
        var critic = new TwinCritic("c", 3, 1, new int[] {16}, Activation.RELU, rng);
        var target = new TwinCritic("t", 3, 1, new int[] {16}, Activation.RELU, rng);
        return new Sac(actor, critic, target, 16, actorLr, 1e-3f, 1e-3f, 0.2f, true, -1f, 1f, 0.05f);
    }

    private static ReplayBuffer randomBuffer(Rng rng) {
        ReplayBuffer buffer = new ReplayBuffer(64, 3, 1, 16);
        for (int i = 0; i < 64; i++) {
            float[] s = {(float) rng.gaussian(), (float) rng.gaussian(), (float) rng.gaussian()};
            buffer.add(s, new float[] {(float) rng.uniform(-1, 1)}, rng.gaussian(), s.clone(), 0.99f);
        }
        return buffer;
    }

    /**
     * Later chain steps in the batch enter the target as the reward r − α·Σ weight·log π(a_m|s_m), log π under the
     * current actor: the same critic loss as a chain-free batch whose rewards were lowered by hand.
     */
    @Test
    void laterChainStepsAreSubtractedFromTheRewardTimesAlpha() {
        float[] losses = new float[2];
        for (int variant = 0; variant < 2; variant++) {
            Rng rng = new Rng(4);
            var actor = new org.dmerl.policy.DiagGaussianPolicy(3, 1, new int[] {16}, Activation.TANH, -0.5f, rng);
            var critic = new TwinCritic("c", 3, 1, new int[] {16}, Activation.RELU, rng);
            var target = new TwinCritic("t", 3, 1, new int[] {16}, Activation.RELU, rng);
            Sac sac = new Sac(actor, critic, target, 16, 1e-3f, 1e-3f, 1e-3f, 0.2f, true, -1f, 1f, 0.05f);
            ReplayBuffer buffer = new ReplayBuffer(64, 3, 1, 16);
            if (variant == 0) buffer.withChains(4);
            Rng data = new Rng(5);
            float[][] s = new float[4][], a = new float[4][];
            for (int c = 0; c < 16; c++) {
                for (int j = 0; j < 4; j++) {
                    s[j] = new float[] {(float) data.gaussian(), (float) data.gaussian(), j};
                    a[j] = new float[] {(float) data.uniform(-1, 1)};
                }
                float r = (float) data.gaussian();
                for (int j = 0; j < 4; j++) {
                    float reward = r;
                    if (variant == 1) {   // subtract α Σ_{m>j} 0.9^{m−j} log π(a_m|s_m) by hand
                        for (int m = j + 1; m < 4; m++) {
                            reward -= 0.2f * (float) Math.pow(0.9, m - j) * logProb(actor, s[m], a[m]);
                        }
                    }
                    buffer.add(s[j], a[j], reward, s[3], 0.5f, 3 - j, 0.9f);
                }
            }
            losses[variant] = sac.update(buffer.sample(new Rng(6)), new Rng(7)).criticLoss();
        }
        assertEquals(losses[1], losses[0], 1e-4f * Math.abs(losses[1]));
    }

    private static float logProb(org.dmerl.policy.StochasticPolicy actor, float[] s, float[] a) {
        org.dmerl.tensor.Graph g = new org.dmerl.tensor.Graph();
        g.setGradEnabled(false);
        return actor.densities(g, Tensor.of(1, s.length, s), Tensor.of(1, a.length, a)).logProb().data[0];
    }

    /** Right after a refresh π_old = π_θ, so KL is exactly 0 and the update is SAC's own. */
    @Test
    void trustRegionIsInactiveRightAfterRefresh() {
        List<float[]> after = new ArrayList<>();
        for (boolean trust : new boolean[] {false, true}) {
            Rng rng = new Rng(4);
            var actor = new TanhGaussianPolicy(3, 1, new int[] {16}, Activation.RELU, -5f, 2f, rng);
            var old = new TanhGaussianPolicy(3, 1, new int[] {16}, Activation.RELU, -5f, 2f, new Rng(99));
            Sac sac = smallSac(rng, actor, 1e-3f);
            if (trust) sac.withTrustRegion(old, 0.02f, 0.3f, 1e-2f, 2, 1);
            ReplayBuffer buffer = randomBuffer(new Rng(5));
            sac.update(buffer.sample(new Rng(6)), new Rng(7));
            if (trust) assertEquals(0f, sac.lastKl(), 0f, "KL to a fresh copy");
            float[] flat = actor.parameters().stream().map(Tensor::toArray)
                    .reduce(new float[0], (a, b) -> { float[] c = java.util.Arrays.copyOf(a, a.length + b.length);
                        System.arraycopy(b, 0, c, a.length, b.length); return c; });
            after.add(flat);
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(after.get(0), after.get(1));
    }

    /** With π_old held fixed the actor drifts away; once the KL exceeds the bound, λ grows. */
    @Test
    void trustRegionMultiplierGrowsWhenKlExceedsBound() {
        Rng rng = new Rng(4);
        var actor = new TanhGaussianPolicy(3, 1, new int[] {16}, Activation.RELU, -5f, 2f, rng);
        var old = new TanhGaussianPolicy(3, 1, new int[] {16}, Activation.RELU, -5f, 2f, new Rng(99));
        Sac sac = smallSac(rng, actor, 3e-2f).withTrustRegion(old, 1e-4f, 0.3f, 1e-1f, 2, 1_000_000);
        ReplayBuffer buffer = randomBuffer(new Rng(5));
        Rng r = new Rng(6);
        for (int i = 0; i < 30; i++) sac.update(buffer.sample(r), r);
        assertTrue(sac.lastKl() > 1e-4f, "actor should have moved past the bound, KL " + sac.lastKl());
        var a = new org.dmerl.tensor.TensorArchive();
        sac.save(a);
        Tensor logLambdaT = Tensor.zeros(1, 1);
        a.readTensor("trust/log_lambda", logLambdaT);
        float logLambda = logLambdaT.data[0];
        assertTrue(logLambda > (float) Math.log(0.3), "λ should grow above its start 0.3, log λ = " + logLambda);
    }

    /** Over all sign patterns, (Σ ξ_i ∇log π_i)² averages to Σ_i (∇log π_i)² exactly: the Fisher estimate is unbiased. */
    @Test
    void signedScoreGradientsGiveTheEmpiricalFisherDiagonal() {
        Rng rng = new Rng(11);
        var actor = new TanhGaussianPolicy(3, 2, new int[] {8}, Activation.TANH, -5f, 2f, rng);
        int rows = 4;
        Tensor obs = Tensor.zeros(rows, 3), act = Tensor.zeros(rows, 2);
        for (int i = 0; i < obs.size(); i++) obs.data[i] = (float) rng.gaussian();
        for (int i = 0; i < act.size(); i++) act.data[i] = (float) rng.uniform(-0.9, 0.9);
        List<Tensor> ps = actor.parameters();
        org.dmerl.tensor.Graph g = new org.dmerl.tensor.Graph();
        // exact: per-sample gradients, one row at a time (a sign vector selecting row r)
        double[][] exact = new double[ps.size()][];
        for (int i = 0; i < ps.size(); i++) exact[i] = new double[ps.get(i).size()];
        for (int r = 0; r < rows; r++) {
            float[] onlyR = new float[rows];
            onlyR[r] = 1f;
            ps.forEach(Tensor::zeroGrad);
            Sac.signedScoreGradient(actor, g, obs, act, onlyR);
            for (int i = 0; i < ps.size(); i++) {
                for (int j = 0; j < exact[i].length; j++) exact[i][j] += (double) ps.get(i).grad[j] * ps.get(i).grad[j];
            }
        }
        double[][] averaged = new double[ps.size()][];
        for (int i = 0; i < ps.size(); i++) averaged[i] = new double[ps.get(i).size()];
        for (int pattern = 0; pattern < 1 << rows; pattern++) {
            float[] signs = new float[rows];
            for (int r = 0; r < rows; r++) signs[r] = (pattern >> r & 1) == 1 ? 1f : -1f;
            ps.forEach(Tensor::zeroGrad);
            Sac.signedScoreGradient(actor, g, obs, act, signs);
            for (int i = 0; i < ps.size(); i++) {
                for (int j = 0; j < averaged[i].length; j++) {
                    averaged[i][j] += (double) ps.get(i).grad[j] * ps.get(i).grad[j] / (1 << rows);
                }
            }
        }
        for (int i = 0; i < ps.size(); i++) {
            for (int j = 0; j < exact[i].length; j++) {
                assertEquals(exact[i][j], averaged[i][j], 1e-4 * (1 + exact[i][j]), ps.get(i).name() + "[" + j + "]");
            }
        }
    }
}
