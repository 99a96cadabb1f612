package org.dmerl.algo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;

import org.dmerl.nn.HlGauss;
import org.dmerl.policy.StochasticPolicy;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Init;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * PPO with the HL-Gauss categorical value function ({@code value_head=hlgauss}): how {@link Agents} builds it, its
 * loss in {@link Ppo#loss} (value_coef · mean cross-entropy to HLGauss(R), no clipping) against a recomputation in
 * double and against finite differences, its values moving towards the returns of a fixed rollout, and short PPO and
 * DiffPPO runs that stay finite and repeat exactly. The default scalar head is covered by {@link PpoGradientTest} and
 * {@link OnPolicyTrainingTest}.
 */
class CategoricalValueTest {

    private static final int STATE = 3, ACT = 2, BINS = 51;
    private static final float VF = 0.5f;

    /** 51 bins over [−10, 20]: bin width 0.6, middle 5. */
    static Config categoricalConfig() {
        return PpoGradientTest.netConfig().set("value_head", "hlgauss").set("value_bins", BINS).set("value_min", -10)
                .set("value_max", 20);
    }

    static ValueFunction.Categorical categoricalValue(long seed) {
        return (ValueFunction.Categorical) Agents.valueFunction(categoricalConfig(), STATE, new Rng(seed));
    }

    /**
     * A rollout of {@code rows} states sampled by {@code policy}, with advantages N(0, 1) and returns a smooth
     * function of the state that reaches past both ends of the support (so some targets are clipped).
     */
    static Rollout rollout(StochasticPolicy policy, int rows, long seed) {
        Rng rng = new Rng(seed);
        Rollout r = new Rollout(rows, 1, STATE, ACT);
        for (int i = 0; i < r.obs.length; i++) r.obs[i] = (float) rng.gaussian();
        Graph g = new Graph();
        g.reset();
        g.setGradEnabled(false);
        Tensor noise = Tensor.zeros(rows, ACT);
        rng.fillGaussian(noise.data, 0, noise.size());
        StochasticPolicy.Sample s = policy.sample(g, Tensor.of(rows, STATE, r.obs), noise);
        System.arraycopy(s.action().data, 0, r.actions, 0, rows * ACT);
        for (int j = 0; j < rows; j++) {
            r.logProbs[j] = s.drawLogProb().data[j];
            r.advantages[j] = (float) rng.gaussian();
            r.returns[j] = 6 * r.obs[j * STATE] - 4 * r.obs[j * STATE + 1] + 3;
        }
        return r;
    }

    private static int[] identity(int n) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        return idx;
    }

    // ------------------------------------------------------------------------------------------------ assembly

    @Test
    void agentsBuildANearUniformCategoricalHead() {
        ValueFunction.Categorical v = categoricalValue(1);
        HlGauss support = v.support();
        assertEquals(BINS, support.bins());
        assertEquals(BINS, v.net().out());
        assertEquals(-10, support.min());
        assertEquals(20, support.max());
        assertEquals(0.75 * 0.6, support.sigma(), 1e-12, "σ = value_sigma_ratio bin widths");
        assertEquals(List.of("value.l0.w", "value.l0.b", "value.l1.w", "value.l1.b", "value.out.w", "value.out.b"),
                v.parameters().stream().map(Tensor::name).toList());
        // output gain 0.01: every state starts close to the uniform distribution, V close to the middle, 5
        Graph g = new Graph();
        g.reset();
        g.setGradEnabled(false);
        Tensor obs = Tensor.zeros(64, STATE);
        new Rng(2).fillGaussian(obs.data, 0, obs.size());
        Tensor values = v.values(g, obs);
        for (int b = 0; b < 64; b++) assertEquals(5, values.data[b], 0.3, "row " + b);

        ValueFunction scalar = Agents.valueFunction(PpoGradientTest.netConfig(), STATE, new Rng(1));
        assertInstanceOf(ValueFunction.Scalar.class, scalar, "value_head defaults to mlp");
        assertEquals(1, scalar.net().out());
    }

    @Test
    void badValueHeadSettingsAreNamed() {
        Config bad = new Config().set("algo", "ppo").set("value_head", "quantile");
        String msg = assertThrows(IllegalArgumentException.class, () -> Training.validate(bad)).getMessage();
        for (String part : List.of("value_head", "quantile", "mlp", "hlgauss")) {
            assertTrue(msg.contains(part), "'" + msg + "' should mention " + part);
        }
        assertThrows(IllegalArgumentException.class, () -> Agents.valueFunction(bad, STATE, new Rng(1)));
        Config range = new Config().set("value_min", 5).set("value_max", 5).set("value_bins", 1)
                .set("value_sigma_ratio", 0);
        String problems = String.join("; ", range.problems());
        for (String key : List.of("value_max", "value_bins", "value_sigma_ratio")) {
            assertTrue(problems.contains(key), "'" + problems + "' should mention " + key);
        }
        assertEquals(3, range.problems().size(), problems);
    }

    // ------------------------------------------------------------------------------------------------ loss

    /** With the surrogate's weights and the entropy coefficient at 0, the loss is the value term alone. */
    @Test
    void valueLossIsTheMeanCrossEntropyToHlGaussTargets() {
        StochasticPolicy policy = PpoGradientTest.gaussianPolicy(10);
        ValueFunction.Categorical v = categoricalValue(11);
        // O(1) logits, so the value is not just the middle of the support
        Init.orthogonal(v.net().outputLayer().weight, 1.0, new Rng(12));
        int m = 32;
        Rollout r = rollout(policy, m, 13);
        // the rows in reverse, so that the minibatch's indexing is exercised
        int[] idx = new int[m];
        for (int b = 0; b < m; b++) idx[b] = m - 1 - b;
        Ppo ppo = new Ppo(policy, v, new Ppo.Settings(0.2f, true, true, 0f, VF, 0.5f, 1, 1, 1f), 1e-3f);
        Ppo.Frozen valueOnly = new Ppo.Frozen(new float[m], new float[m], ones(m));
        Graph g = new Graph();
        g.reset();
        Ppo.Step st = ppo.loss(g, r, idx, 0, m, valueOnly);

        g.reset();
        g.setGradEnabled(false);
        Tensor obs = Tensor.zeros(m, STATE);
        for (int b = 0; b < m; b++) System.arraycopy(r.obs, idx[b] * STATE, obs.data, b * STATE, STATE);
        Tensor logits = v.net().forward(g, obs);
        float[] p = new float[BINS];
        double meanCrossEntropy = 0;
        int clippedTargets = 0;
        for (int b = 0; b < m; b++) {
            double ret = r.returns[idx[b]];
            if (ret < -10 || ret > 20) clippedTargets++;
            v.support().targetDistribution(ret, p, 0);
            double max = Double.NEGATIVE_INFINITY, z = 0;
            for (int i = 0; i < BINS; i++) max = Math.max(max, logits.data[b * BINS + i]);
            for (int i = 0; i < BINS; i++) z += Math.exp(logits.data[b * BINS + i] - max);
            double logZ = max + Math.log(z);
            for (int i = 0; i < BINS; i++) meanCrossEntropy += p[i] * (logZ - logits.data[b * BINS + i]) / m;
        }
        assertTrue(clippedTargets > 0, "no return outside [−10, 20]: clipping went untested");
        assertEquals(meanCrossEntropy, st.valueLoss(), 1e-5 * meanCrossEntropy, "reported value loss");
        assertEquals(VF * meanCrossEntropy, st.loss().item(), 1e-5 * meanCrossEntropy, "loss tensor");
        for (float mask : st.frozen().valueMask()) assertEquals(1f, mask, "no row is masked: no value clipping");
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        Arrays.fill(a, 1f);
        return a;
    }

    @Test
    void valueGradientsMatchFiniteDifferences() {
        StochasticPolicy policy = PpoGradientTest.gaussianPolicy(20);
        ValueFunction.Categorical v = categoricalValue(21);
        // gain 1 and random biases, so every layer gets a gradient the check can resolve
        Rng rng = new Rng(22);
        Init.orthogonal(v.net().outputLayer().weight, 1.0, rng);
        for (Tensor t : v.parameters()) if (t.name().endsWith(".b")) Init.uniform(t, -0.2, 0.2, rng);
        int m = 16;
        Rollout r = rollout(policy, m, 23);
        int[] idx = identity(m);
        Ppo ppo = new Ppo(policy, v, new Ppo.Settings(0.2f, true, true, 0.01f, VF, 0.5f, 1, 1, 1f), 1e-3f);
        List<Tensor> params = v.parameters();
        for (Tensor t : params) t.zeroGrad();
        for (Tensor t : policy.parameters()) t.zeroGrad();
        Graph g = new Graph();
        g.reset();
        Ppo.Step st = ppo.loss(g, r, idx, 0, m, null);
        g.backward(st.loss());
        List<float[]> analytic = params.stream().map(t -> t.grad.clone()).toList();
        Ppo.Frozen frozen = st.frozen();
        Graph eval = new Graph();
        PpoGradientTest.gradCheck("categorical value", () -> {
            eval.reset();
            eval.setGradEnabled(false);
            return ppo.loss(eval, r, idx, 0, m, frozen).loss().item();
        }, params, analytic, 24);
    }

    // ------------------------------------------------------------------------------------------------ learning

    /** Updates on one fixed rollout: the cross-entropy falls and the expected values approach the (clipped) returns. */
    @Test
    void valuesMoveTowardsTheReturnsOfAFixedRollout() {
        StochasticPolicy policy = PpoGradientTest.gaussianPolicy(30);
        ValueFunction.Categorical v = categoricalValue(31);
        int rows = 256;
        Rollout r = rollout(policy, rows, 32);
        Ppo ppo = new Ppo(policy, v, new Ppo.Settings(0.2f, true, true, 0f, VF, 0.5f, 2, 4, 1f), 3e-3f);
        double[] before = fit(v, ppo, r);
        Rng rng = new Rng(33);
        float firstLoss = ppo.update(r, rng).criticLoss(), lastLoss = firstLoss;
        for (int i = 0; i < 39; i++) lastLoss = ppo.update(r, rng).criticLoss();
        double[] after = fit(v, ppo, r);
        System.out.printf("[CategoricalValueTest] cross-entropy %.4f → %.4f, mean squared error %.4f → %.4f, "
                + "update losses %.4f → %.4f%n", before[0], after[0], before[1], after[1], firstLoss, lastLoss);
        assertTrue(Float.isFinite(lastLoss));
        assertTrue(lastLoss < 0.8 * firstLoss, "value loss of the updates " + firstLoss + " → " + lastLoss);
        assertTrue(after[0] < 0.8 * before[0], "cross-entropy " + before[0] + " → " + after[0]);
        assertTrue(after[1] < 0.2 * before[1], "mean squared error " + before[1] + " → " + after[1]);
    }

    /** Mean cross-entropy (from {@link Ppo#loss}) and mean squared error of V against the clipped returns. */
    private static double[] fit(ValueFunction.Categorical v, Ppo ppo, Rollout r) {
        int n = r.size();
        Graph g = new Graph();
        g.reset();
        g.setGradEnabled(false);
        double crossEntropy = ppo.loss(g, r, identity(n), 0, n, null).valueLoss();
        g.reset();
        g.setGradEnabled(false);
        Tensor values = v.values(g, Tensor.of(n, STATE, r.obs));
        double mse = 0;
        for (int j = 0; j < n; j++) {
            double e = values.data[j] - Math.clamp(r.returns[j], -10, 20);
            mse += e * e / n;
        }
        return new double[] {crossEntropy, mse};
    }

    // ------------------------------------------------------------------------------------------------ training

    /** Normalised Pendulum returns (γ 0.99) lie in about [−5, 0]; [−20, 10] covers them with room to spare. */
    private static Config withCategoricalValue(Config cfg) {
        return cfg.set("value_head", "hlgauss").set("value_min", -20).set("value_max", 10);
    }

    @Test
    void ppoWithCategoricalValueTrainsAndRepeatsExactly() {
        Config cfg = withCategoricalValue(OnPolicyTrainingTest.ppoConfig());
        OnPolicyTrainingTest.Trace a = OnPolicyTrainingTest.run(cfg, null);
        OnPolicyTrainingTest.Trace b = OnPolicyTrainingTest.run(cfg.copy(), null);
        OnPolicyTrainingTest.assertSameRun(a, b);
        OnPolicyTrainingTest.checkEpisodes(a, 256);
        assertTrue(Double.isFinite(a.result().evalReturnMean()));
        assertEquals(1024, a.result().envSteps());
        // the head is really used: the same seed with the scalar head is another run
        OnPolicyTrainingTest.Trace scalar = OnPolicyTrainingTest.run(OnPolicyTrainingTest.ppoConfig(), null);
        assertNotEquals(scalar.episodes(), a.episodes());
    }

    @Test
    void diffPpoWithCategoricalValueTrainsAndRepeatsExactly() {
        Config cfg = withCategoricalValue(OnPolicyTrainingTest.diffPpoConfig());
        OnPolicyTrainingTest.Trace a = OnPolicyTrainingTest.run(cfg, null);
        OnPolicyTrainingTest.Trace b = OnPolicyTrainingTest.run(cfg.copy(), null);
        OnPolicyTrainingTest.assertSameRun(a, b);
        OnPolicyTrainingTest.checkEpisodes(a, 64);
        assertTrue(Double.isFinite(a.result().evalReturnMean()));
    }
}
