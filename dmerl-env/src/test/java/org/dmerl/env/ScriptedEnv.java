package org.dmerl.env;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.dmerl.tensor.Rng;

/**
 * A tiny env whose every output is predictable, for testing wrappers and vector envs. Observation:
 * {@code [episodes started, steps taken in this episode, 5 + 3·N(0,1) from the seeded stream]}; reward: the first
 * action component; terminates after {@code terminateAfter} steps (never if 0).
 */
final class ScriptedEnv implements Env {

    private final BoxSpace actionSpace;
    private final int terminateAfter;
    private Rng rng = new Rng(0);
    private int episodes;
    private int steps;
    double[] lastAction;
    boolean closed;
    final List<double[]> emittedObservations = new ArrayList<>();

    ScriptedEnv(int terminateAfter) {
        this(terminateAfter, BoxSpace.uniform(1, -1, 1));
    }

    ScriptedEnv(int terminateAfter, BoxSpace actionSpace) {
        this.terminateAfter = terminateAfter;
        this.actionSpace = actionSpace;
    }

    @Override public String id() { return "Scripted-v0"; }
    @Override public BoxSpace observationSpace() { return BoxSpace.unbounded(3); }
    @Override public BoxSpace actionSpace() { return actionSpace; }

    @Override
    public double[] reset(long seed) {
        rng = new Rng(seed);
        return reset();
    }

    @Override
    public double[] reset() {
        episodes++;
        steps = 0;
        return emit();
    }

    @Override
    public StepResult step(double[] action) {
        actionSpace.checkShape(action, id() + " action");
        lastAction = action.clone();
        steps++;
        boolean terminated = terminateAfter > 0 && steps >= terminateAfter;
        return new StepResult(emit(), action[0], terminated, false, Map.of("reward_action", action[0]));
    }

    private double[] emit() {
        double[] obs = {episodes, steps, 5 + 3 * rng.gaussian()};
        emittedObservations.add(obs.clone());
        return obs;
    }

    @Override
    public void close() {
        closed = true;
    }
}
