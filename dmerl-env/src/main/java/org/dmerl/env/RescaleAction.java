package org.dmerl.env;

import java.util.Objects;

/**
 * Lets the agent act in [−1, 1]^n: each action is mapped linearly onto the inner env's action box,
 * {@code low + (a + 1)/2 · (high − low)}, then clipped to that box as Gymnasium's {@code RescaleAction} does
 * (so agent actions outside [−1, 1] land on the bounds).
 */
public final class RescaleAction extends Wrapper {

    private final double[] low;
    private final double[] high;
    private final BoxSpace actionSpace;

    public RescaleAction(Env env) {
        super(Objects.requireNonNull(env, "RescaleAction needs an env, got null"));
        BoxSpace inner = env.actionSpace();
        this.low = inner.low().clone();
        this.high = inner.high().clone();
        for (int i = 0; i < low.length; i++) {
            if (!Double.isFinite(low[i]) || !Double.isFinite(high[i])) {
                throw new IllegalArgumentException("RescaleAction needs a bounded action box, but " + env.id()
                        + " has dimension " + i + " in [" + low[i] + ", " + high[i] + "]");
            }
        }
        this.actionSpace = BoxSpace.uniform(low.length, -1.0, 1.0);
    }

    @Override
    public BoxSpace actionSpace() {
        return actionSpace;
    }

    @Override
    public StepResult step(double[] action) {
        return env.step(toEnvAction(action));
    }

    /** {@return the inner env's action for the agent's action in [−1, 1]^n} */
    public double[] toEnvAction(double[] agentAction) {
        actionSpace.checkShape(agentAction, env.id() + " action");
        double[] out = new double[agentAction.length];
        for (int i = 0; i < out.length; i++) {
            double scaled = low[i] + (agentAction[i] + 1.0) * 0.5 * (high[i] - low[i]);
            out[i] = Math.clamp(scaled, low[i], high[i]);
        }
        return out;
    }
}
