package org.dmerl.env;

import java.util.Objects;

/**
 * Clips each action into the inner env's action box before stepping, so unbounded policies (e.g. an unsquashed
 * Gaussian in PPO) may act freely. As in Gymnasium, the action space it reports is unbounded.
 */
public final class ClipAction extends Wrapper {

    private final double[] low;
    private final double[] high;
    private final BoxSpace actionSpace;

    public ClipAction(Env env) {
        super(Objects.requireNonNull(env, "ClipAction needs an env, got null"));
        this.low = env.actionSpace().low().clone();
        this.high = env.actionSpace().high().clone();
        this.actionSpace = BoxSpace.unbounded(low.length);
    }

    @Override
    public BoxSpace actionSpace() {
        return actionSpace;
    }

    /** The box actions are clipped into. */
    public BoxSpace clipBox() {
        return env.actionSpace();
    }

    @Override
    public StepResult step(double[] action) {
        actionSpace.checkShape(action, env.id() + " action");
        double[] clipped = new double[action.length];
        for (int i = 0; i < action.length; i++) {
            clipped[i] = Math.clamp(action[i], low[i], high[i]);
        }
        return env.step(clipped);
    }
}
