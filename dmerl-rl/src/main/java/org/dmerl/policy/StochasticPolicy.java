package org.dmerl.policy;

import org.dmerl.nn.Module;
import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Tensor;

/**
 * A policy that samples actions by reparameterisation and reports the log-density term that maximum-entropy RL
 * needs: log π(a|s) for a Gaussian policy, the one-step log ratio l_k for one diffusion kernel step.
 *
 * <p>Noise comes in as a tensor filled by the caller from its own RNG, so every draw is reproducible and the
 * learner decides how randomness is split between acting and learning.
 */
public interface StochasticPolicy extends Module {

    /**
     * A reparameterised action with its log-density term (log π, or the log ratio l_k for a kernel step) and the
     * log-density it was drawn with (log π, or log q_θ for a kernel step), all on the graph.
     */
    record Sample(Tensor action, Tensor logProb, Tensor drawLogProb) {
        public Sample(Tensor action, Tensor logProb) {
            this(action, logProb, logProb);
        }
    }

    int observationDim();

    int actionDim();

    /** Standard-normal values needed per row by {@link #sample}. */
    int noiseDim();

    /** Samples rows of actions for rows of observations; {@code noise} is [B, noiseDim] of N(0, 1). */
    Sample sample(Graph g, Tensor obs, Tensor noise);

    /**
     * Log-densities at a given action, as on-policy learners need them: {@code logProb} is the density the action
     * was sampled from (log π(a|s); log q_θ(x_{k+1}|x_k, s) for a kernel step), {@code logReference} the reference
     * kernel's log p(x_k|x_{k+1}) (null for policies without one). Both [B, 1], differentiable in the parameters.
     */
    record Densities(Tensor logProb, Tensor logReference) {}

    /** {@link Densities} of {@code action} (rows) under the current parameters. */
    default Densities densities(Graph g, Tensor obs, Tensor action) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot evaluate the density of a given action");
    }

    /** The batch-mean entropy in closed form ([1, 1]), or null when the policy has none (diffusion steps). */
    default Tensor meanEntropy(Graph g, Tensor obs) {
        return null;
    }

    /** A sampled action alone (what acting needs): the action of {@link #sample} for the same noise. */
    default Tensor act(Graph g, Tensor obs, Tensor noise) {
        return sample(g, obs, noise).action();
    }

    /** The deterministic action used at evaluation. */
    Tensor deterministic(Graph g, Tensor obs);

    /**
     * ∇ₐ of the log-density term at a fixed action, as a differentiable function of the parameters (rows × action
     * dim). WPO's actor loss needs ∇_θ∇ₐ log π; since the action is held fixed, the inner gradient can be written in
     * closed form and first-order autodiff of this tensor gives the mixed second derivative.
     */
    default Tensor actionScore(Graph g, Tensor obs, Tensor action) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no closed-form action score");
    }

    /** Whether {@link #actionScore} is taken w.r.t. u with a = tanh(u) (then ∇ₐQ must be multiplied by 1 − a²). */
    default boolean scoresPreSquash() {
        return false;
    }

    /** Restarts the noise of stochastic evaluation so every evaluation draws the same noise (checkpoint-safe). */
    default void resetEvalNoise(long seed) {}

    /** Everything a saved policy needs, learned or not (defaults to the parameters). */
    default java.util.List<Tensor> stateTensors() {
        return parameters();
    }
}
