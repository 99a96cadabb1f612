package org.dmerl.env.classic;

import org.dmerl.env.BoxSpace;
import org.dmerl.env.Env;
import org.dmerl.env.StepResult;

/**
 * BimodalBandit-v0: a one-step task whose reward has two equal optima, at a = −0.5 and a = +0.5.
 *
 * <p>It exists to show what a unimodal Gaussian policy cannot do: a maximum-entropy diffusion policy should put
 * mass on both bumps, while a Gaussian settles on one of them or straddles the valley between. The observation is
 * the constant {@code [0.0]}; every episode is a single step that terminates. Actions outside [−1, 1] are clipped,
 * like {@link Pendulum}'s torque.
 */
public final class BimodalBandit implements Env {

    public static final String ID = "BimodalBandit-v0";
    /** Centres of the two reward bumps. */
    public static final double MODE = 0.5;
    /** Standard deviation of each Gaussian bump. */
    public static final double WIDTH = 0.1;

    private static final BoxSpace OBSERVATION_SPACE = BoxSpace.uniform(1, 0.0, 0.0);
    private static final BoxSpace ACTION_SPACE = BoxSpace.uniform(1, -1.0, 1.0);

    private boolean awaitingAction;

    @Override
    public String id() {
        return ID;
    }

    @Override
    public BoxSpace observationSpace() {
        return OBSERVATION_SPACE;
    }

    @Override
    public BoxSpace actionSpace() {
        return ACTION_SPACE;
    }

    /** There is no randomness to seed; the seed is accepted for the common contract. */
    @Override
    public double[] reset(long seed) {
        return reset();
    }

    @Override
    public double[] reset() {
        awaitingAction = true;
        return new double[] {0.0};
    }

    @Override
    public StepResult step(double[] action) {
        ACTION_SPACE.checkShape(action, ID + " action");
        if (!awaitingAction) {
            // Every episode is one step long: a second step means the caller forgot to reset.
            throw new IllegalStateException(ID + ": the episode is over; call reset() before step()");
        }
        awaitingAction = false;
        double a = Math.clamp(action[0], -1.0, 1.0);
        return new StepResult(new double[] {0.0}, reward(a), true, false);
    }

    /** Two unit-height Gaussian bumps: {@code exp(−(a−0.5)²/(2·0.1²)) + exp(−(a+0.5)²/(2·0.1²))}. */
    public static double reward(double a) {
        double twoVariance = 2 * WIDTH * WIDTH;
        return Math.exp(-(a - MODE) * (a - MODE) / twoVariance) + Math.exp(-(a + MODE) * (a + MODE) / twoVariance);
    }

    @Override
    public String toString() {
        return ID;
    }
}
