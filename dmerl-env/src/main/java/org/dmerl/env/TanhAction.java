package org.dmerl.env;

import java.util.Objects;

/**
 * Squashes unbounded actions u into the inner env's [−1, 1] actions with a = tanh(u). An on-policy learner can then
 * keep the log-density of u and need no tanh Jacobian: the squash is part of the environment it sees.
 */
public final class TanhAction extends Wrapper {

    private final BoxSpace actionSpace;

    public TanhAction(Env env) {
        super(Objects.requireNonNull(env, "TanhAction needs an env, got null"));
        BoxSpace inner = env.actionSpace();
        for (int i = 0; i < inner.dim(); i++) {
            if (inner.low()[i] != -1 || inner.high()[i] != 1) {
                throw new IllegalArgumentException("TanhAction needs actions in [-1, 1] (wrap in RescaleAction first), "
                        + env.id() + " has " + inner);
            }
        }
        actionSpace = BoxSpace.unbounded(inner.dim());
    }

    @Override
    public BoxSpace actionSpace() {
        return actionSpace;
    }

    @Override
    public StepResult step(double[] action) {
        actionSpace.checkShape(action, env.id() + " action");
        double[] squashed = new double[action.length];
        for (int i = 0; i < action.length; i++) squashed[i] = Math.tanh(action[i]);
        return env.step(squashed);
    }
}
