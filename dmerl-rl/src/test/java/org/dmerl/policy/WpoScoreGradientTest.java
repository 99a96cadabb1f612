package org.dmerl.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.dmerl.nn.Activation;
import org.dmerl.policy.DiffusionKernelPolicy.BackwardKernel;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The WPO / DiffWPO actor loss is Σ sg(α g_l − g_Q) · g_l(θ) with g_l = ∇ₓ l_θ at a stop-gradient sample. Because the
 * sample is held fixed, g_l has a closed form in which θ enters only through the kernel mean (and η), so first-order
 * autodiff of that tensor yields ∇_θ∇ₓ l_θ. These tests check (1) the closed form against autodiff of l_θ w.r.t. x',
 * and (2) its θ-gradient against finite differences — the loss is linear in g_l with stop-gradient coefficients, so
 * (2) with random coefficients is exactly the actor-loss gradient check.
 */
class WpoScoreGradientTest {

    private static final int STATE = 3, ACT = 2, K = 4, BATCH = 5;

    @ParameterizedTest
    @EnumSource(BackwardKernel.class)
    void diffusionScoreEqualsAutodiffOfTheLogRatio(BackwardKernel kernel) {
        DiffusionKernelPolicy p = DiffusionKernelPolicyGradientTest.policy(kernel, 11);
        Rng rng = new Rng(3);
        Tensor obs = Tensor.of(BATCH, STATE + ACT + K, DiffusionKernelPolicyGradientTest.observations(rng));
        Tensor next = Tensor.param("x_next", BATCH, ACT);
        for (int i = 0; i < next.size(); i++) next.data[i] = (float) (1.5 * rng.gaussian());
        Graph g = new Graph();
        g.reset();
        g.backward(g.sum(p.logRatio(g, obs, next)));
        Graph s = new Graph();
        s.reset();
        s.setGradEnabled(false);
        Tensor score = p.actionScore(s, obs, next);
        double maxAbs = 0;
        for (int i = 0; i < next.size(); i++) {
            assertEquals(next.grad[i], score.data[i], 1e-3 + 1e-3 * Math.abs(next.grad[i]), "entry " + i);
            maxAbs = Math.max(maxAbs, Math.abs(next.grad[i]));
        }
        assertTrue(maxAbs > 1e-2, "vacuous check: ∇ₓ l is ~0");
    }

    @ParameterizedTest
    @EnumSource(BackwardKernel.class)
    void diffwpoActorLossGradientMatchesFiniteDifferences(BackwardKernel kernel) {
        DiffusionKernelPolicy p = DiffusionKernelPolicyGradientTest.policy(kernel, 12);
        Rng rng = new Rng(4);
        Tensor obs = Tensor.of(BATCH, STATE + ACT + K, DiffusionKernelPolicyGradientTest.observations(rng));
        Tensor next = Tensor.zeros(BATCH, ACT);
        for (int i = 0; i < next.size(); i++) next.data[i] = (float) (1.5 * rng.gaussian());
        DiffusionKernelPolicyGradientTest.gradCheck("DiffWPO score", g -> p.actionScore(g, obs, next), p.parameters(), 21);
    }

    @Test
    void gaussianScoreGradientMatchesFiniteDifferencesAndVanishesAtTheMean() {
        Rng rng = new Rng(5);
        TanhGaussianPolicy p = new TanhGaussianPolicy(STATE, ACT, new int[] {16, 16}, Activation.GELU, -2f, 1f, rng);
        Tensor obs = Tensor.zeros(BATCH, STATE);
        for (int i = 0; i < obs.size(); i++) obs.data[i] = (float) rng.gaussian();
        Tensor action = Tensor.zeros(BATCH, ACT);
        for (int i = 0; i < action.size(); i++) action.data[i] = (float) Math.tanh(0.5 * rng.gaussian());
        DiffusionKernelPolicyGradientTest.gradCheck("WPO score", g -> p.actionScore(g, obs, action), p.parameters(), 22);

        // at a = tanh(μ) the pre-squash score −(u − μ)/σ² is zero
        Graph g = new Graph();
        g.reset();
        g.setGradEnabled(false);
        Tensor mode = p.deterministic(g, obs);
        Tensor atMode = Tensor.of(BATCH, ACT, mode.toArray());
        Tensor score = p.actionScore(g, obs, atMode);
        for (int i = 0; i < score.size(); i++) assertEquals(0f, score.data[i], 2e-3f);
        assertTrue(p.scoresPreSquash());
    }
}
