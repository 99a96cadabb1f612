package org.dmerl.algo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleSupplier;

import org.dmerl.nn.Activation;
import org.dmerl.nn.Mlp;
import org.dmerl.policy.DiagGaussianPolicy;
import org.dmerl.policy.DiffusionKernelPolicy;
import org.dmerl.policy.DiffusionSchedule;
import org.dmerl.policy.StochasticPolicy;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Init;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * PPO's minibatch loss ({@link Ppo#loss}): its value against the textbook clipped objective recomputed here in
 * double, and its autodiff gradient against central finite differences, for (a) the Gaussian policy with an entropy
 * bonus and a clipped value loss, (b) the diffusion kernel policy (DiffPPO: the per-step ratio exp(log q_θ − log q_old),
 * soft-reward advantages Â = A − r_soft + r − c·l_θ held fixed, and the destination term −sg(ρ)·c·log p_θ through
 * learned Δt and friction).
 *
 * <p>The old log-densities are the current ones shifted by designed amounts, so ratios differ from 1: most lie in
 * [e^−0.1, e^0.1] (inside the clip range), and a few rows are pushed to ρ = 1.5 or 0.6. Whether such a row is clipped
 * depends on the sign of its advantage; the fixture makes sure there are clipped rows and an out-of-range row that is
 * not clipped (ρ &lt; 1 − ε with Â &gt; 0, or ρ &gt; 1 + ε with Â &lt; 0). Old values are shifted so that the value
 * clip keeps some rows (mask 0) and not others. Nothing sits near a kink of the objective.
 */
class PpoGradientTest {

    private static final int STATE = 3, ACT = 2, K = 3, T = 8, N = 2, M = T * N;
    private static final float EPS = 0.2f, VF = 0.5f;
    /**
     * Central-difference step and tolerances. The loss is one float32 of magnitude ~1 evaluated through float32
     * networks, so differences are resolved to about 1e-7 / 2h; truncation error is O(h²). Gradients checked are
     * O(1e-2 .. 1).
     */
    private static final double H = 3e-3, ABS_TOL = 1e-4, REL_TOL = 1e-2;
    private static final int ENTRIES_PER_TENSOR = 6;

    // ------------------------------------------------------------------------------------------------ fixtures

    static Config netConfig() {
        return new Config().set("hidden", "16,16").set("activation", "tanh");
    }

    /** A Gaussian policy with O(1) means (the CleanRL output gain 0.01 would make every gradient but log σ tiny). */
    static DiagGaussianPolicy gaussianPolicy(long seed) {
        Rng rng = new Rng(seed);
        var p = new DiagGaussianPolicy(STATE, ACT, new int[] {16, 16}, Activation.TANH, -0.3f, rng);
        for (Tensor t : p.parameters()) {
            if (t.name().equals("actor.out.w")) Init.orthogonal(t, 1.0, rng);
            if (t.name().endsWith(".b")) Init.uniform(t, -0.2, 0.2, rng);
            if (t.name().equals("actor.log_std")) {
                t.data[0] = -0.3f;
                t.data[1] = 0.2f;
                t.touch();
            }
        }
        return p;
    }

    /** A small diffusion kernel policy (K = 3) whose denoiser output is not ~0 and whose friction differs per dim. */
    static DiffusionKernelPolicy diffusionPolicy(DiffusionKernelPolicy.BackwardKernel backward, long seed) {
        var settings = new DiffusionKernelPolicy.Settings(K, 2.0, 0.125, DiffusionSchedule.LINEAR, 0.17, 0.25,
                true, true, backward, DiffusionKernelPolicy.Sampler.ODE, new int[] {16, 16}, 8);
        Rng rng = new Rng(seed);
        var p = new DiffusionKernelPolicy(STATE, ACT, settings, rng);
        var out = p.denoiser().outputLayer();
        Init.lecunNormal(out.weight, rng);
        for (int i = 0; i < out.bias.size(); i++) out.bias.data[i] = (float) (0.3 * rng.gaussian());
        out.bias.touch();
        for (Tensor t : p.parameters()) {
            if (t.name().equals("temb.phase")) Init.uniform(t, -0.3, 0.3, rng);
            if (t.name().equals("diffusion.friction")) {
                for (int i = 0; i < t.size(); i++) t.data[i] += (float) (0.3 * rng.gaussian());
                t.touch();
            }
        }
        return p;
    }

    static Mlp valueFunction(int obsDim, long seed) {
        Rng rng = new Rng(seed);
        Mlp v = Agents.valueFunction(netConfig(), obsDim, rng).net();
        for (Tensor t : v.parameters()) if (t.name().endsWith(".b")) Init.uniform(t, -0.2, 0.2, rng);
        return v;
    }

    static Ppo.Settings settings(float entCoef, boolean clipVloss, boolean normAdv, float entropyScale) {
        return new Ppo.Settings(EPS, clipVloss, normAdv, entCoef, VF, 0.5f, 1, 1, entropyScale);
    }

    /** Observations: plain Gaussian states, or (s, x_k, onehot(k)) rows with every k present. */
    static float[] observations(int obsDim, boolean augmented, Rng rng) {
        float[] o = new float[M * obsDim];
        for (int j = 0; j < M; j++) {
            if (!augmented) {
                for (int i = 0; i < obsDim; i++) o[j * obsDim + i] = (float) rng.gaussian();
                continue;
            }
            for (int i = 0; i < STATE; i++) o[j * obsDim + i] = (float) rng.gaussian();
            for (int i = 0; i < ACT; i++) o[j * obsDim + STATE + i] = (float) (1.5 * rng.gaussian());
            o[j * obsDim + STATE + ACT + j % K] = 1f;
        }
        return o;
    }

    /** A permutation of the rows, so minibatch indexing is exercised. */
    static int[] permutation(Rng rng) {
        int[] idx = new int[M];
        for (int i = 0; i < M; i++) idx[i] = i;
        for (int i = M - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = idx[i]; idx[i] = idx[j]; idx[j] = t;
        }
        return idx;
    }

    /** What the test knows independently about one fixture. */
    record Fixture(StochasticPolicy policy, Mlp value, Ppo ppo, Ppo.Settings settings, Rollout rollout, int[] idx) {}

    /**
     * Fills a rollout by sampling the policy, then sets advantages, returns, old values, rewards and old
     * log-densities as the class comment describes. {@code soft}: DiffPPO's reward bookkeeping (learnRewards = r − c·l).
     */
    static Fixture fixture(StochasticPolicy policy, Mlp value, Ppo.Settings s, boolean soft, long seed) {
        Rng rng = new Rng(seed);
        int od = policy.observationDim();
        Rollout r = new Rollout(T, N, od, ACT);
        System.arraycopy(observations(od, soft, rng), 0, r.obs, 0, r.obs.length);
        Graph g = new Graph();
        g.reset();
        g.setGradEnabled(false);
        Tensor obs = Tensor.of(M, od, r.obs);
        Tensor noise = Tensor.zeros(M, policy.noiseDim());
        rng.fillGaussian(noise.data, 0, noise.size());
        StochasticPolicy.Sample sample = policy.sample(g, obs, noise);
        System.arraycopy(sample.action().data, 0, r.actions, 0, M * ACT);
        float[] drawLogProb = sample.drawLogProb().toArray(), term = sample.logProb().toArray();
        float[] v = value.forward(g, obs).toArray();
        float c = s.entropyCoef();
        for (int j = 0; j < M; j++) {
            r.advantages[j] = (float) rng.gaussian();
            r.rewards[j] = (float) rng.gaussian();
            // the l_k the rollout saw: the sampled one, plus noise so that Â = A + c(l_old − l_θ) differs from A
            r.learnRewards[j] = soft ? r.rewards[j] - c * (term[j] + (float) (0.5 * rng.gaussian())) : r.rewards[j];
            // old values and returns: rows by j % 4 — inside the value clip; clipped branch wins (mask 0);
            // outside but the unclipped branch wins (mask 1); clipped branch wins from the other side (mask 0)
            double jitter = 0.1 * rng.nextDouble();
            switch (j % 4) {
                case 0 -> { r.values[j] = v[j] - (float) (0.05 + jitter); r.returns[j] = v[j] + (float) rng.gaussian(); }
                case 1 -> { r.values[j] = v[j] - 0.5f; r.returns[j] = v[j] + (float) (1 + jitter); }
                case 2 -> { r.values[j] = v[j] - 0.5f; r.returns[j] = v[j] - (float) (1 + jitter); }
                default -> { r.values[j] = v[j] + 0.5f; r.returns[j] = v[j] - (float) (1 + jitter); }
            }
            r.logProbs[j] = drawLogProb[j];
        }
        Ppo ppo = new Ppo(policy, new ValueFunction.Scalar(value), s, 1e-3f);
        int[] idx = permutation(rng);
        Fixture f = new Fixture(policy, value, ppo, s, r, idx);
        // old log-densities: current ones shifted; Â's signs decide which rows end up clipped
        double[] adv = textbook(f).advantages();
        for (int b = 0; b < M; b++) {
            int j = idx[b];
            double logRho;
            if (b < 3) logRho = adv[b] > 0 ? Math.log(1.5) : Math.log(0.6);       // clipped
            else if (b == 3) logRho = adv[b] > 0 ? Math.log(0.6) : Math.log(1.5); // out of range, not clipped
            else logRho = rng.uniform(-0.1, 0.1);
            r.logProbs[j] = (float) (densities(f).logProb()[b] - logRho);
        }
        return f;
    }

    // ------------------------------------------------------------------------------------------------ the textbook

    /** log π (or log q_θ) and log p of the minibatch rows (in order b = 0..M−1) under the current parameters. */
    record RowDensities(double[] logProb, double[] logReference, double[] value) {}

    static RowDensities densities(Fixture f) {
        Rollout r = f.rollout();
        int od = r.obsDim;
        float[] o = new float[M * od], a = new float[M * ACT];
        for (int b = 0; b < M; b++) {
            int j = f.idx()[b];
            System.arraycopy(r.obs, j * od, o, b * od, od);
            System.arraycopy(r.actions, j * ACT, a, b * ACT, ACT);
        }
        Graph g = new Graph();
        g.reset();
        g.setGradEnabled(false);
        Tensor obs = Tensor.of(M, od, o), act = Tensor.of(M, ACT, a);
        double[] logProb = new double[M], logRef = null, value = new double[M];
        if (f.policy() instanceof DiagGaussianPolicy p) {
            // independently of densities(): N(a; μ(s), σ²) with μ the deterministic action, σ from std()
            Tensor mean = p.deterministic(g, obs);
            double[] std = p.std();
            for (int b = 0; b < M; b++) {
                double lp = 0;
                for (int d = 0; d < ACT; d++) {
                    double z = (a[b * ACT + d] - mean.data[b * ACT + d]) / std[d];
                    lp += -0.5 * z * z - Math.log(std[d]) - 0.5 * Math.log(2 * Math.PI);
                }
                logProb[b] = lp;
            }
        } else {
            StochasticPolicy.Densities d = f.policy().densities(g, obs, act);
            logRef = new double[M];
            for (int b = 0; b < M; b++) {
                logProb[b] = d.logProb().data[b];
                logRef[b] = d.logReference().data[b];
            }
        }
        Tensor v = f.value().forward(g, obs);
        for (int b = 0; b < M; b++) value[b] = v.data[b];
        return new RowDensities(logProb, logRef, value);
    }

    /** CleanRL's PPO loss and diagnostics, in double, written out from the definitions. */
    record Textbook(double[] advantages, double[] ratio, boolean[] clipped, boolean[] valueMask, double policyLoss,
                    double valueLoss, double entropy, double total, double approxKl, double clipFraction,
                    double advScale) {}

    static Textbook textbook(Fixture f) {
        Rollout r = f.rollout();
        Ppo.Settings s = f.settings();
        RowDensities d = densities(f);
        double c = s.entropyCoef();
        boolean soft = d.logReference() != null;
        double[] adv = new double[M];
        for (int b = 0; b < M; b++) {
            int j = f.idx()[b];
            adv[b] = r.advantages[j];
            // DiffPPO: swap the rollout's entropy term for the current one, Â = A − r_soft + r − c·l_θ
            if (soft) adv[b] += -r.learnRewards[j] + r.rewards[j] - c * (d.logProb()[b] - d.logReference()[b]);
        }
        double mean = 0;
        for (double x : adv) mean += x / M;
        double var = 0;
        for (double x : adv) var += (x - mean) * (x - mean) / (M - 1);
        double scale = s.normalizeAdvantages() ? 1 / (Math.sqrt(var) + 1e-8) : 1;
        for (int b = 0; b < M; b++) adv[b] = (adv[b] - mean) * scale;

        double[] rho = new double[M];
        boolean[] clipped = new boolean[M], mask = new boolean[M];
        double pg = 0, vl = 0, kl = 0, outside = 0, meanL = 0;
        for (int b = 0; b < M; b++) {
            int j = f.idx()[b];
            double logRho = d.logProb()[b] - r.logProbs[j];
            rho[b] = Math.exp(logRho);
            double unclippedObj = rho[b] * adv[b], clippedObj = Math.clamp(rho[b], 1 - EPS, 1 + EPS) * adv[b];
            pg += -Math.min(unclippedObj, clippedObj) / M;
            clipped[b] = clippedObj < unclippedObj;
            kl += ((rho[b] - 1) - logRho) / M;
            if (Math.abs(rho[b] - 1) > EPS) outside++;
            double v = d.value()[b], ret = r.returns[j], vOld = r.values[j];
            double vClip = vOld + Math.clamp(v - vOld, -EPS, EPS);
            double lu = (v - ret) * (v - ret), lc = (vClip - ret) * (vClip - ret);
            vl += 0.5 * (s.clipValueLoss() ? Math.max(lu, lc) : lu) / M;
            mask[b] = !s.clipValueLoss() || lu >= lc;
            if (soft) meanL += (d.logProb()[b] - d.logReference()[b]) / M;
        }
        double entropy;
        if (f.policy() instanceof DiagGaussianPolicy p) {
            entropy = 0;
            for (double sd : p.std()) entropy += Math.log(sd) + 0.5 * Math.log(2 * Math.PI * Math.E);
        } else {
            entropy = -s.entropyScale() * meanL;
        }
        double total = pg + VF * vl - (soft ? 0 : c * entropy);
        return new Textbook(adv, rho, clipped, mask, pg, vl, entropy, total, kl, outside / M, scale);
    }

    // ------------------------------------------------------------------------------------------------ harness

    static Ppo.Step step(Fixture f, Ppo.Frozen frozen, boolean grad) {
        Graph g = new Graph();
        g.reset();
        g.setGradEnabled(grad);
        return f.ppo().loss(g, f.rollout(), f.idx(), 0, M, frozen);
    }

    static List<Tensor> allParameters(Fixture f) {
        List<Tensor> ps = new ArrayList<>(f.policy().parameters());
        ps.addAll(f.value().parameters());
        return ps;
    }

    /** Autodiff gradients of the loss at the current parameters (and the step, for its frozen coefficients). */
    static List<float[]> autodiff(Fixture f, List<Tensor> params) {
        for (Tensor t : params) t.zeroGrad();
        Graph g = new Graph();
        g.reset();
        Ppo.Step st = f.ppo().loss(g, f.rollout(), f.idx(), 0, M, null);
        g.backward(st.loss());
        List<float[]> out = new ArrayList<>();
        for (Tensor t : params) out.add(t.grad.clone());
        return out;
    }

    /**
     * Central differences of {@code loss} at a handful of entries of every tensor (the one with the largest
     * analytic gradient and random others), against {@code analytic}. Each tensor must get some gradient.
     */
    static void gradCheck(String what, DoubleSupplier loss, List<Tensor> params, List<float[]> analytic, long seed) {
        Rng rng = new Rng(seed);
        List<String> errors = new ArrayList<>();
        int compared = 0;
        double worst = 0;
        for (int p = 0; p < params.size(); p++) {
            Tensor t = params.get(p);
            float[] a = analytic.get(p);
            int argmax = 0;
            for (int j = 0; j < t.size(); j++) if (Math.abs(a[j]) > Math.abs(a[argmax])) argmax = j;
            assertTrue(Math.abs(a[argmax]) > 20 * ABS_TOL,
                    what + ": " + t.name() + " gets (almost) no gradient (max " + a[argmax] + "); the check would be vacuous");
            List<Integer> entries = new ArrayList<>(List.of(argmax));
            while (entries.size() < Math.min(ENTRIES_PER_TENSOR, t.size())) {
                int j = rng.nextInt(t.size());
                if (!entries.contains(j)) entries.add(j);
            }
            for (int j : entries) {
                float saved = t.data[j];
                float xp = (float) (saved + H), xm = (float) (saved - H);
                t.data[j] = xp;
                t.touch();
                double lp = loss.getAsDouble();
                t.data[j] = xm;
                t.touch();
                double lm = loss.getAsDouble();
                t.data[j] = saved;
                t.touch();
                double numeric = (lp - lm) / ((double) xp - xm);
                double tol = ABS_TOL + REL_TOL * Math.max(Math.abs(a[j]), Math.abs(numeric));
                worst = Math.max(worst, Math.abs(a[j] - numeric) / tol);
                if (!(Math.abs(a[j] - numeric) <= tol)) {
                    errors.add(String.format("%s%s[%d,%d]: analytic %.6g, numeric %.6g", t.name(), t.shape(),
                            j / t.cols(), j % t.cols(), a[j], numeric));
                }
                compared++;
            }
        }
        System.out.printf("[PpoGradientTest] %s: %d entries, worst error %.2f of tolerance%n", what, compared, worst);
        if (!errors.isEmpty()) {
            fail(what + ": " + errors.size() + " of " + compared + " gradient entries differ, e.g.\n  "
                    + String.join("\n  ", errors.subList(0, Math.min(10, errors.size()))));
        }
    }

    static Fixture gaussianFixture(boolean clipVloss, float entCoef, long seed) {
        DiagGaussianPolicy p = gaussianPolicy(seed);
        Mlp v = valueFunction(STATE, seed + 1);
        return fixture(p, v, settings(entCoef, clipVloss, true, 1f), false, seed + 2);
    }

    static Fixture diffusionFixture(DiffusionKernelPolicy.BackwardKernel backward, boolean normAdv, long seed) {
        DiffusionKernelPolicy p = diffusionPolicy(backward, seed);
        Mlp v = valueFunction(p.observationDim(), seed + 1);
        return fixture(p, v, settings(0.1f, true, normAdv, K), true, seed + 2);
    }

    /** The fixture has what the tests rely on: clipped rows, an unclipped out-of-range row, both value masks. */
    static void checkDesign(Textbook tb) {
        int clipped = 0, maskOff = 0;
        for (int b = 0; b < M; b++) {
            if (tb.clipped()[b]) clipped++;
            if (!tb.valueMask()[b]) maskOff++;
            if (b >= 4) assertTrue(Math.abs(tb.ratio()[b] - 1) < 0.11, "row " + b + " ratio " + tb.ratio()[b]);
        }
        assertEquals(3, clipped, "rows 0..2 clipped, no other");
        for (int b = 0; b < 3; b++) assertTrue(tb.clipped()[b], "row " + b);
        assertFalse(tb.clipped()[3]);
        assertTrue(Math.abs(tb.ratio()[3] - 1) > EPS, "row 3 is outside the clip range");
        assertEquals(M / 2, maskOff, "value clip keeps half the rows");
        assertTrue(tb.clipFraction() >= 4.0 / M);
    }

    // ------------------------------------------------------------------------------------------------ Gaussian

    @Test
    void gaussianLossValueIsTheTextbookObjective() {
        Fixture f = gaussianFixture(true, 0.05f, 100);
        Textbook tb = textbook(f);
        checkDesign(tb);
        Ppo.Step st = step(f, null, true);
        assertEquals(tb.policyLoss(), st.policyLoss(), 1e-5 * (1 + Math.abs(tb.policyLoss())), "policy loss");
        assertEquals(tb.valueLoss(), st.valueLoss(), 1e-5 * (1 + tb.valueLoss()), "value loss");
        assertEquals(tb.entropy(), st.entropy(), 1e-5, "entropy");
        assertEquals(tb.approxKl(), st.approxKl(), 1e-5, "approx KL");
        assertEquals(tb.clipFraction(), st.clipFraction(), 1e-6, "clip fraction");
        // The loss tensor differs from the objective only by terms that carry no gradient: clipped rows' clip(ρ)·Â and
        // the value loss of rows where the clipped branch wins are left out of it.
        double constants = 0;
        Rollout r = f.rollout();
        RowDensities d = densities(f);
        for (int b = 0; b < M; b++) {
            int j = f.idx()[b];
            if (tb.clipped()[b]) constants += -Math.clamp(tb.ratio()[b], 1 - EPS, 1 + EPS) * tb.advantages()[b] / M;
            if (!tb.valueMask()[b]) {
                double vClip = r.values[j] + Math.clamp(d.value()[b] - r.values[j], -EPS, EPS);
                constants += VF * 0.5 * (vClip - r.returns[j]) * (vClip - r.returns[j]) / M;
            }
        }
        assertEquals(tb.total() - constants, st.loss().item(), 1e-5 * (1 + Math.abs(tb.total())), "loss tensor");
        // and the frozen coefficients are the textbook's: −Â/m on unclipped rows, 0 on clipped ones
        for (int b = 0; b < M; b++) {
            assertEquals(tb.clipped()[b] ? 0 : -tb.advantages()[b] / M, st.frozen().ratioWeights()[b], 1e-6, "ratio weight " + b);
            assertEquals(tb.valueMask()[b] ? 1f : 0f, st.frozen().valueMask()[b], "value mask " + b);
        }
    }

    /** With every ratio inside the clip range and every value inside the value clip, the loss tensor IS the objective. */
    @Test
    void gaussianLossTensorEqualsTheObjectiveWhenNothingIsClipped() {
        Fixture f = gaussianFixture(true, 0.05f, 110);
        Rollout r = f.rollout();
        RowDensities d = densities(f);
        Rng rng = new Rng(111);
        for (int b = 0; b < M; b++) {
            int j = f.idx()[b];
            r.logProbs[j] = (float) (d.logProb()[b] - rng.uniform(-0.1, 0.1));
            r.values[j] = (float) (d.value()[b] + rng.uniform(-0.15, 0.15));
        }
        Textbook tb = textbook(f);
        Ppo.Step st = step(f, null, true);
        assertEquals(0.0, st.clipFraction());
        assertEquals(tb.total(), st.loss().item(), 1e-5 * (1 + Math.abs(tb.total())));
        double expected = -0;
        for (int b = 0; b < M; b++) expected += -tb.ratio()[b] * tb.advantages()[b] / M;
        assertEquals(expected, tb.policyLoss(), 1e-12, "−mean(ρÂ) when nothing is clipped");
        assertEquals(tb.policyLoss(), st.policyLoss(), 1e-5 * (1 + Math.abs(tb.policyLoss())));
    }

    @Test
    void gaussianGradientsMatchFiniteDifferencesOfTheFrozenLoss() {
        Fixture f = gaussianFixture(true, 0.05f, 200);
        checkDesign(textbook(f));
        List<Tensor> params = allParameters(f);
        List<float[]> analytic = autodiff(f, params);
        Ppo.Frozen frozen = step(f, null, false).frozen();
        gradCheck("Gaussian, frozen loss", () -> step(f, frozen, false).loss().item(), params, analytic, 201);
    }

    /**
     * For the Gaussian policy the stop-gradient coefficients are piecewise constant in θ, so the autodiff gradient
     * must also be the gradient of the textbook objective itself (recomputed here), clipped rows and all.
     */
    @Test
    void gaussianGradientsAreThoseOfTheTextbookObjective() {
        Fixture f = gaussianFixture(true, 0.05f, 300);
        checkDesign(textbook(f));
        List<Tensor> params = allParameters(f);
        List<float[]> analytic = autodiff(f, params);
        gradCheck("Gaussian, textbook objective", () -> textbook(f).total(), params, analytic, 301);
    }

    @Test
    void gaussianWithoutValueClipping() {
        Fixture f = gaussianFixture(false, 0.05f, 400);
        Textbook tb = textbook(f);
        for (boolean m : tb.valueMask()) assertTrue(m);
        Ppo.Step st = step(f, null, true);
        assertEquals(tb.valueLoss(), st.valueLoss(), 1e-5 * (1 + tb.valueLoss()));
        List<Tensor> params = allParameters(f);
        gradCheck("Gaussian, unclipped value loss", () -> textbook(f).total(), params, autodiff(f, params), 401);
    }

    /** The harness notices a wrong gradient: autodiff of a loss without the entropy bonus against one with it. */
    @Test
    void harnessDetectsAWrongGradient() {
        Fixture f = gaussianFixture(true, 0.05f, 250);
        List<Tensor> params = allParameters(f);
        Fixture noBonus = new Fixture(f.policy(), f.value(), new Ppo(f.policy(), new ValueFunction.Scalar(f.value()),
                settings(0f, true, true, 1f), 1e-3f), settings(0f, true, true, 1f), f.rollout(), f.idx());
        List<float[]> wrong = autodiff(noBonus, params);
        Ppo.Frozen frozen = step(f, null, false).frozen();
        assertThrows(org.opentest4j.AssertionFailedError.class,
                () -> gradCheck("harness", () -> step(f, frozen, false).loss().item(), params, wrong, 251));
    }

    /** Moving a clipped row's old log-density changes no gradient; moving an unclipped row's does. */
    @ParameterizedTest
    @ValueSource(strings = {"gaussian", "diffusion"})
    void clippedRowsCarryNoGradient(String which) {
        Fixture f = which.equals("gaussian") ? gaussianFixture(true, 0.05f, 500)
                : diffusionFixture(DiffusionKernelPolicy.BackwardKernel.PRINCIPLED, false, 500);
        Textbook tb = textbook(f);
        checkDesign(tb);
        List<Tensor> params = allParameters(f);
        List<float[]> base = autodiff(f, params);
        Rollout r = f.rollout();
        for (int b = 0; b < 3; b++) {
            int j = f.idx()[b];
            // push the ratio further out on the side where it is clipped
            r.logProbs[j] += tb.advantages()[b] > 0 ? -0.4f : 0.4f;
        }
        assertEquals(3, java.util.stream.IntStream.range(0, M).filter(b -> textbook(f).clipped()[b]).count());
        List<float[]> moved = autodiff(f, params);
        for (int p = 0; p < params.size(); p++) {
            assertArrayEquals(base.get(p), moved.get(p), params.get(p).name() + ": a clipped row changed the gradient");
        }
        // control: the same change on an unclipped row does change the policy gradient
        r.logProbs[f.idx()[5]] -= 0.05f;
        List<float[]> control = autodiff(f, params);
        boolean changed = false;
        for (int p = 0; p < f.policy().parameters().size(); p++) {
            changed |= !java.util.Arrays.equals(base.get(p), control.get(p));
        }
        assertTrue(changed, "an unclipped row's ratio did not enter the gradient");
    }

    // ------------------------------------------------------------------------------------------------ diffusion

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void diffusionPolicyLossUsesSoftRewardAdvantages(boolean normAdv) {
        Fixture f = diffusionFixture(DiffusionKernelPolicy.BackwardKernel.PRINCIPLED, normAdv, 600);
        Textbook tb = textbook(f);
        checkDesign(tb);
        Ppo.Step st = step(f, null, true);
        assertEquals(tb.policyLoss(), st.policyLoss(), 1e-5 * (1 + Math.abs(tb.policyLoss())), "policy loss with Â = "
                + "centre(A − r_soft + r − c·l_θ)");
        assertEquals(tb.valueLoss(), st.valueLoss(), 1e-5 * (1 + tb.valueLoss()), "value loss");
        assertEquals(tb.entropy(), st.entropy(), 1e-4 * (1 + Math.abs(tb.entropy())), "entropy −K·mean(l_θ)");
        assertEquals(tb.approxKl(), st.approxKl(), 1e-5);
        assertEquals(tb.clipFraction(), st.clipFraction(), 1e-6);
        // the advantage really is the soft one: the ratio weights are far from those plain (centred) A would give
        double meanA = 0, worstPlain = 0;
        for (int b = 0; b < M; b++) meanA += f.rollout().advantages[f.idx()[b]] / (double) M;
        for (int b = 0; b < M; b++) {
            if (tb.clipped()[b]) continue;
            double plain = (f.rollout().advantages[f.idx()[b]] - meanA) * (normAdv ? tb.advScale() : 1);
            worstPlain = Math.max(worstPlain, Math.abs(-plain / M - st.frozen().ratioWeights()[b]));
        }
        assertTrue(worstPlain > 1e-3, "the surrogate's advantages do not depend on c·l_θ");
        // frozen coefficients: −Â/m on the ratio, −ρ·c·scale/m on log p_θ, both 0 on clipped rows
        RowDensities d = densities(f);
        float c = f.settings().entropyCoef();
        for (int b = 0; b < M; b++) {
            boolean cl = tb.clipped()[b];
            assertEquals(cl ? 0 : -tb.advantages()[b] / M, st.frozen().ratioWeights()[b], 1e-6, "ratio weight " + b);
            assertEquals(cl ? 0 : -tb.ratio()[b] * c * tb.advScale() / M, st.frozen().referenceWeights()[b],
                    1e-6 * (1 + tb.advScale()), "reference weight " + b);
        }
        // the loss tensor: Σ w·ρ + Σ w_ref·log p_θ + vf·½/m·Σ mask·(V − R)², no closed-form entropy term
        double expected = 0;
        Rollout r = f.rollout();
        for (int b = 0; b < M; b++) {
            int j = f.idx()[b];
            expected += st.frozen().ratioWeights()[b] * tb.ratio()[b];
            expected += st.frozen().referenceWeights()[b] * d.logReference()[b];
            double e = d.value()[b] - r.returns[j];
            expected += st.frozen().valueMask()[b] * VF * 0.5 * e * e / M;
        }
        assertEquals(expected, st.loss().item(), 1e-5 * (1 + Math.abs(expected)), "loss tensor");
        assertNull(f.policy().meanEntropy(new Graph(), Tensor.zeros(1, f.policy().observationDim())));
    }

    @ParameterizedTest
    @ValueSource(strings = {"PRINCIPLED", "CODE"})
    void diffusionGradientsMatchFiniteDifferencesOfTheFrozenLoss(String kernel) {
        Fixture f = diffusionFixture(DiffusionKernelPolicy.BackwardKernel.valueOf(kernel), false, 700);
        checkDesign(textbook(f));
        List<Tensor> params = allParameters(f);
        List<String> names = params.stream().map(Tensor::name).toList();
        assertTrue(names.contains("diffusion.dt") && names.contains("diffusion.friction"), names.toString());
        List<float[]> analytic = autodiff(f, params);
        Ppo.Frozen frozen = step(f, null, false).frozen();
        gradCheck("diffusion " + kernel + ", frozen loss", () -> step(f, frozen, false).loss().item(), params,
                analytic, 701);
    }

    /** The destination term −sg(ρ)·c·log p_θ is what gives Δt its gradient through the reference kernel. */
    @Test
    void destinationTermReachesTheReferenceKernel() {
        Fixture f = diffusionFixture(DiffusionKernelPolicy.BackwardKernel.PRINCIPLED, false, 800);
        List<Tensor> params = allParameters(f);
        Ppo.Frozen frozen = step(f, null, false).frozen();
        List<float[]> with = autodiff(f, params);
        // the same loss without the destination term (reference weights 0) has a different Δt/friction gradient
        Ppo.Frozen noRef = new Ppo.Frozen(frozen.ratioWeights(), new float[M], frozen.valueMask());
        for (Tensor t : params) t.zeroGrad();
        Graph g = new Graph();
        g.reset();
        g.backward(f.ppo().loss(g, f.rollout(), f.idx(), 0, M, noRef).loss());
        int dt = params.stream().map(Tensor::name).toList().indexOf("diffusion.dt");
        assertNotEquals(java.util.Arrays.toString(with.get(dt)), java.util.Arrays.toString(params.get(dt).grad));
        // and the difference is exactly the gradient of Σ w_ref·log p_θ: check numerically on Δt
        Tensor dtParam = params.get(dt);
        for (int k = 0; k < K; k++) {
            float saved = dtParam.data[k];
            dtParam.data[k] = (float) (saved + H);
            dtParam.touch();
            double lp = step(f, frozen, false).loss().item() - step(f, noRef, false).loss().item();
            dtParam.data[k] = (float) (saved - H);
            dtParam.touch();
            double lm = step(f, frozen, false).loss().item() - step(f, noRef, false).loss().item();
            dtParam.data[k] = saved;
            dtParam.touch();
            double numeric = (lp - lm) / (2 * H);
            double analytic = with.get(dt)[k] - dtParam.grad[k];
            assertEquals(numeric, analytic, ABS_TOL + REL_TOL * Math.abs(numeric), "destination term, Δt_" + k);
        }
    }

    // ------------------------------------------------------------------------------------------------ update

    @Test
    void updateRunsEpochsAndReportsFiniteLosses() {
        DiagGaussianPolicy p = gaussianPolicy(900);
        Mlp v = valueFunction(STATE, 901);
        var s = new Ppo.Settings(EPS, true, true, 0.01f, VF, 0.5f, 3, 4, 1f);
        Fixture f = fixture(p, v, s, false, 902);
        List<float[]> before = allParameters(f).stream().map(Tensor::toArray).toList();
        Losses l = f.ppo().update(f.rollout(), new Rng(903));
        assertEquals(3 * 4, f.ppo().optimizer().stepCount(), "epochs × minibatches Adam steps");
        assertTrue(Float.isFinite(l.actorLoss()) && Float.isFinite(l.criticLoss()) && Float.isFinite(l.entropy()), l.toString());
        assertEquals(l, f.ppo().lastLosses());
        assertEquals(0.01f, l.alpha(), "the entropy coefficient is reported as alpha");
        assertTrue(f.ppo().approxKl() >= 0 && Double.isFinite(f.ppo().approxKl()));
        assertTrue(f.ppo().clipFraction() > 0 && f.ppo().clipFraction() <= 1);
        List<Tensor> after = allParameters(f);
        for (int i = 0; i < after.size(); i++) {
            assertFalse(java.util.Arrays.equals(before.get(i), after.get(i).toArray()), after.get(i).name() + " did not move");
        }
        // the entropy is that of the σ seen during the update, which moved; it is close to the start
        double h0 = -0.3 + 0.2 + ACT * 0.5 * Math.log(2 * Math.PI * Math.E);
        assertEquals(h0, l.entropy(), 0.05);
    }
}
