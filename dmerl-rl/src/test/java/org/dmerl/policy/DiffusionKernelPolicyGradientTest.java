package org.dmerl.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import org.dmerl.algo.TwinCritic;
import org.dmerl.nn.Activation;
import org.dmerl.policy.DiffusionKernelPolicy.BackwardKernel;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Init;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Finite-difference checks of the diffusion kernel policy: log q_θ, the one-step log ratio l_k (both reference
 * kernels), the reparameterised sample and the SAC actor loss through frozen twin critics. Every parameter tensor is
 * checked, the step-size and friction parameters included. The scalar is {@code Σ w ⊙ out} with fixed random
 * weights, accumulated in double from the float forward, and divided by the step actually taken after float rounding.
 */
class DiffusionKernelPolicyGradientTest {

    private static final int STATE = 3, ACT = 2, K = 4, BATCH = 5;
    /**
     * Central-difference step. Float rounding of the forward, not truncation, limits the check: at h = 1e-3 the worst
     * entry used three quarters of the tolerance, at 2e-3 it uses less than half (and 3e-3 a quarter).
     */
    private static final double H = 2e-3, ABS_TOL = 2e-3, REL_TOL = 3e-2;

    // ------------------------------------------------------------------------------------------------ fixtures

    /** A small policy whose denoiser output is not ~0 and whose friction differs per dimension. */
    static DiffusionKernelPolicy policy(BackwardKernel backward, long seed) {
        var settings = new DiffusionKernelPolicy.Settings(K, 2.0, 0.125, DiffusionSchedule.LINEAR, 0.17, 0.25,
                true, true, backward, DiffusionKernelPolicy.Sampler.ODE, new int[] {16, 16}, 8);
        Rng rng = new Rng(seed);
        DiffusionKernelPolicy p = new DiffusionKernelPolicy(STATE, ACT, settings, rng);
        var out = p.denoiser().outputLayer();
        Init.lecunNormal(out.weight, rng);
        for (int i = 0; i < out.bias.size(); i++) out.bias.data[i] = (float) (0.3 * rng.gaussian());
        out.bias.touch();
        // learned phase and per-dimension friction away from their symmetric initial values
        for (Tensor t : p.parameters()) {
            if (t.name().equals("temb.phase")) {
                for (int i = 0; i < t.size(); i++) t.data[i] = (float) (0.2 * rng.gaussian());
                t.touch();
            }
            if (t.name().equals("diffusion.friction")) {
                for (int i = 0; i < t.size(); i++) t.data[i] += (float) (0.3 * rng.gaussian());
                t.touch();
            }
        }
        return p;
    }

    /** Rows (s, x_k, onehot(k)) with every k present. */
    static float[] observations(Rng rng) {
        int w = STATE + ACT + K;
        float[] o = new float[BATCH * w];
        for (int r = 0; r < BATCH; r++) {
            for (int i = 0; i < STATE; i++) o[r * w + i] = (float) rng.gaussian();
            for (int i = 0; i < ACT; i++) o[r * w + STATE + i] = (float) (2.0 * rng.gaussian());
            o[r * w + STATE + ACT + r % K] = 1f;
        }
        return o;
    }

    static float[] gaussian(Rng rng, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rng.gaussian();
        return v;
    }

    /** x' drawn from the kernel itself, so that log q and log p are O(1) (a realistic operating point). */
    static float[] nextFromKernel(DiffusionKernelPolicy p, float[] obs, Rng rng) {
        Graph g = new Graph();
        g.reset();
        g.setGradEnabled(false);
        Tensor o = Tensor.of(BATCH, p.observationDim(), obs);
        Tensor noise = Tensor.of(BATCH, ACT, gaussian(rng, BATCH * ACT));
        return p.sample(g, o, noise).action().toArray();
    }

    static Tensor param(String name, int rows, int cols, float[] values) {
        Tensor t = Tensor.param(name, rows, cols);
        System.arraycopy(values, 0, t.data, 0, values.length);
        return t;
    }

    // ------------------------------------------------------------------------------------------------ harness

    /**
     * Compares backward() with central differences of {@code Σ w ⊙ f(g)} for every element of every tensor in
     * {@code wrt}; also requires each checked tensor to receive a non-zero gradient somewhere.
     */
    static void gradCheck(String what, Function<Graph, Tensor> f, List<Tensor> wrt, long seed) {
        Graph g = new Graph();
        g.reset();
        Tensor out = f.apply(g);
        Rng rng = new Rng(seed);
        // weights of magnitude in [0.5, 1.5) with random signs: no output is (nearly) left out of the check
        float[] w = new float[out.size()];
        for (int i = 0; i < w.length; i++) w[i] = (float) ((rng.nextDouble() < 0.5 ? -1 : 1) * (0.5 + rng.nextDouble()));
        Tensor loss = g.sum(g.mul(out, Tensor.of(out.rows(), out.cols(), w)));
        for (Tensor t : wrt) t.zeroGrad();
        g.backward(loss);
        List<float[]> analytic = new ArrayList<>();
        for (Tensor t : wrt) analytic.add(t.grad.clone());

        Graph fg = new Graph();
        List<String> errors = new ArrayList<>();
        int compared = 0;
        for (int p = 0; p < wrt.size(); p++) {
            Tensor t = wrt.get(p);
            double maxAbs = 0;
            for (int j = 0; j < t.size(); j++) {
                float saved = t.data[j];
                float xp = (float) (saved + H), xm = (float) (saved - H);
                t.data[j] = xp;
                t.touch();
                double lp = weighted(fg, f, w);
                t.data[j] = xm;
                t.touch();
                double lm = weighted(fg, f, w);
                t.data[j] = saved;
                t.touch();
                double numeric = (lp - lm) / ((double) xp - xm);
                double a = analytic.get(p)[j];
                maxAbs = Math.max(maxAbs, Math.abs(a));
                double tol = ABS_TOL + REL_TOL * Math.max(Math.abs(a), Math.abs(numeric));
                if (!(Math.abs(a - numeric) <= tol)) {
                    errors.add(String.format("%s%s[%d,%d]: analytic %.6g, numeric %.6g", t.name(), t.shape(),
                            j / t.cols(), j % t.cols(), a, numeric));
                }
                compared++;
            }
            assertTrue(maxAbs > 1e-4, what + ": " + t.name() + " gets no gradient at all; the check would be vacuous");
        }
        if (!errors.isEmpty()) {
            fail(what + ": " + errors.size() + " of " + compared + " gradient entries differ, e.g.\n  "
                    + String.join("\n  ", errors.subList(0, Math.min(10, errors.size()))));
        }
    }

    private static double weighted(Graph g, Function<Graph, Tensor> f, float[] w) {
        g.reset();
        g.setGradEnabled(false);
        Tensor out = f.apply(g);
        assertEquals(w.length, out.size());
        double s = 0;
        for (int i = 0; i < w.length; i++) s += (double) w[i] * out.data[i];
        return s;
    }

    private static List<Tensor> with(List<Tensor> params, Tensor... more) {
        List<Tensor> all = new ArrayList<>(params);
        all.addAll(List.of(more));
        return all;
    }

    // ------------------------------------------------------------------------------------------------ tests

    @Test
    void parametersIncludeStepSizeAndFriction() {
        List<String> names = policy(BackwardKernel.PRINCIPLED, 1).parameters().stream().map(Tensor::name).toList();
        assertTrue(names.contains("diffusion.dt"), names.toString());
        assertTrue(names.contains("diffusion.friction"), names.toString());
        assertTrue(names.contains("temb.phase"), names.toString());
    }

    /** The harness must notice a wrong gradient: here half of the output is cut off the tape. */
    @Test
    void harnessDetectsAWrongGradient() {
        DiffusionKernelPolicy p = policy(BackwardKernel.PRINCIPLED, 61);
        Rng rng = new Rng(62);
        float[] obs = observations(rng);
        Tensor o = Tensor.of(BATCH, p.observationDim(), obs);
        Tensor x = Tensor.of(BATCH, ACT, nextFromKernel(p, obs, rng));
        assertThrows(AssertionFailedError.class, () -> gradCheck("detached half",
                g -> g.add(p.logRatio(g, o, x), g.detach(p.logRatio(g, o, x))), p.parameters(), 63));
    }

    @ParameterizedTest
    @EnumSource(BackwardKernel.class)
    void logProbGradients(BackwardKernel backward) {
        DiffusionKernelPolicy p = policy(backward, 11);
        Rng rng = new Rng(12);
        float[] obs = observations(rng);
        float[] next = nextFromKernel(p, obs, rng);
        Tensor o = Tensor.of(BATCH, p.observationDim(), obs);
        Tensor x = Tensor.of(BATCH, ACT, next);
        gradCheck("logProb params", g -> p.logProb(g, o, x), p.parameters(), 13);

        Tensor xp = param("x_next", BATCH, ACT, next);
        gradCheck("logProb params + x'", g -> p.logProb(g, o, xp), with(p.parameters(), xp), 14);

        // observation as a parameter: gradients w.r.t. s, x_k and (through η) the one-hot columns
        Tensor op = param("obs", BATCH, p.observationDim(), obs);
        gradCheck("logProb obs", g -> p.logProb(g, op, xp), List.of(op, xp), 15);
    }

    @ParameterizedTest
    @EnumSource(BackwardKernel.class)
    void logRatioGradients(BackwardKernel backward) {
        DiffusionKernelPolicy p = policy(backward, 21);
        Rng rng = new Rng(22);
        float[] obs = observations(rng);
        float[] next = nextFromKernel(p, obs, rng);
        Tensor o = Tensor.of(BATCH, p.observationDim(), obs);
        Tensor x = Tensor.of(BATCH, ACT, next);
        gradCheck("logRatio params " + backward, g -> p.logRatio(g, o, x), p.parameters(), 23);

        Tensor xp = param("x_next", BATCH, ACT, next);
        gradCheck("logRatio params + x' " + backward, g -> p.logRatio(g, o, xp), with(p.parameters(), xp), 24);

        Tensor op = param("obs", BATCH, p.observationDim(), obs);
        gradCheck("logRatio obs " + backward, g -> p.logRatio(g, op, xp), List.of(op, xp), 25);
    }

    @ParameterizedTest
    @EnumSource(BackwardKernel.class)
    void reparameterisedSampleGradients(BackwardKernel backward) {
        DiffusionKernelPolicy p = policy(backward, 31);
        Rng rng = new Rng(32);
        Tensor o = Tensor.of(BATCH, p.observationDim(), observations(rng));
        Tensor noise = Tensor.of(BATCH, ACT, gaussian(rng, BATCH * ACT));
        gradCheck("sample action " + backward, g -> p.sample(g, o, noise).action(), p.parameters(), 33);
        gradCheck("sample logProb " + backward, g -> p.sample(g, o, noise).logProb(), p.parameters(), 34);

        Tensor op = param("obs", BATCH, p.observationDim(), o.toArray());
        gradCheck("sample action obs " + backward, g -> p.sample(g, op, noise).action(), List.of(op), 35);
        gradCheck("sample logProb obs " + backward, g -> p.sample(g, op, noise).logProb(), List.of(op), 36);
    }

    /** The SAC actor loss mean(α·l − min Q(s̃, x')) with x' reparameterised and the critics frozen. */
    @ParameterizedTest
    @EnumSource(BackwardKernel.class)
    void sacActorLossGradients(BackwardKernel backward) {
        DiffusionKernelPolicy p = policy(backward, 41);
        Rng rng = new Rng(42);
        // tanh critics: ReLU kinks would make central differences unreliable, and nothing here depends on ReLU
        TwinCritic critic = new TwinCritic("critic", p.observationDim(), ACT, new int[] {16, 16}, Activation.TANH, rng);
        // a critic with O(1) slopes, so that the −min Q term matters as much as the α·l term
        Init.scale(critic.q1.outputLayer().weight, 8f);
        Init.scale(critic.q2.outputLayer().weight, 8f);
        critic.setRequiresGrad(false);
        float[] criticBefore = flatGrads(critic.parameters());
        Tensor o = Tensor.of(BATCH, p.observationDim(), observations(rng));
        Tensor noise = Tensor.of(BATCH, ACT, gaussian(rng, BATCH * ACT));
        float alpha = 0.2f;
        // per-row terms α·l − min Q(s̃, x'), and the loss as Sac builds it: their mean
        Function<Graph, Tensor> actorTerms = g -> {
            StochasticPolicy.Sample s = p.sample(g, o, noise);
            Tensor minQ = critic.min(g, o, s.action());
            return g.sub(g.mulScalar(s.logProb(), alpha), minQ);
        };
        Function<Graph, Tensor> actorLoss = g -> g.mean(actorTerms.apply(g));
        // min(q1, q2) has a kink: make sure no row sits near a tie
        Graph g0 = new Graph();
        g0.reset();
        g0.setGradEnabled(false);
        TwinCritic.Values v = critic.forward(g0, o, p.sample(g0, o, noise).action());
        for (int r = 0; r < BATCH; r++) {
            assertTrue(Math.abs(v.q1().data[r] - v.q2().data[r]) > 1e-2, "q1 ≈ q2 in row " + r + "; pick another seed");
        }
        // the scalar loss is one float, so its differences resolve gradients only to ~ulp(loss)/2h; the per-row
        // terms, summed in double by the harness, give the sharp check
        gradCheck("SAC actor loss " + backward, actorLoss, p.parameters(), 43);
        gradCheck("SAC actor terms " + backward, actorTerms, p.parameters(), 44);
        // the frozen critic passes gradients through but accumulates none
        org.junit.jupiter.api.Assertions.assertArrayEquals(criticBefore, flatGrads(critic.parameters()));
    }

    private static float[] flatGrads(List<Tensor> ts) {
        int n = 0;
        for (Tensor t : ts) n += t.size();
        float[] out = new float[n];
        int off = 0;
        for (Tensor t : ts) {
            for (int i = 0; i < t.size(); i++) out[off++] = t.grad == null ? 0f : t.grad[i];
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(BackwardKernel.class)
    void sampleLogProbIsTheLogRatioOfTheSampledAction(BackwardKernel backward) {
        DiffusionKernelPolicy p = policy(backward, 51);
        Rng rng = new Rng(52);
        int rows = 64;
        float[] obs = new float[rows * p.observationDim()];
        for (int r = 0; r < rows; r++) {
            int w = p.observationDim();
            for (int i = 0; i < STATE; i++) obs[r * w + i] = (float) rng.gaussian();
            for (int i = 0; i < ACT; i++) obs[r * w + STATE + i] = (float) (2.0 * rng.gaussian());
            obs[r * w + STATE + ACT + r % K] = 1f;
        }
        Tensor o = Tensor.of(rows, p.observationDim(), obs);
        Tensor noise = Tensor.of(rows, ACT, gaussian(rng, rows * ACT));
        Graph g = new Graph();
        g.reset();
        StochasticPolicy.Sample s = p.sample(g, o, noise);
        Tensor again = p.logRatio(g, o, Tensor.of(rows, ACT, s.action().toArray()));
        assertEquals(rows, s.logProb().rows());
        assertEquals(1, s.logProb().cols());
        for (int r = 0; r < rows; r++) {
            assertEquals(s.logProb().data[r], again.data[r], 1e-4, "row " + r);
        }
    }
}
