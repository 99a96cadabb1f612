package org.dmerl.env.classic;

import org.dmerl.env.BoxSpace;
import org.dmerl.env.Env;
import org.dmerl.env.StepResult;
import org.dmerl.tensor.Rng;

/**
 * Pendulum-v1: swing a frictionless pendulum up and hold it upright with a bounded torque.
 *
 * <p>Facts from Gymnasium 1.4 (environments.md 5.4): state (θ, θ̇) with θ = 0 upright; observation
 * {@code [cos θ, sin θ, θ̇]}; torque clipped to [−2, 2]; reward
 * {@code −(angle_normalize(θ)² + 0.1·θ̇² + 0.001·u²)} on the state <em>before</em> the step;
 * semi-implicit Euler with {@code θ̇' = clip(θ̇ + (3g/(2l)·sin θ + 3/(m l²)·u)·dt, −8, 8)},
 * {@code θ' = θ + θ̇'·dt}. The task never terminates; the 200-step limit comes from the registry's
 * {@link org.dmerl.env.TimeLimit}.
 *
 * <p>Observations are rounded to float32, as Gymnasium returns them, so a policy sees the same numbers
 * either way; the state itself evolves in double precision.
 */
public final class Pendulum implements Env {

    public static final String ID = "Pendulum-v1";
    public static final double DEFAULT_GRAVITY = 10.0;
    public static final double MAX_SPEED = 8.0;
    public static final double MAX_TORQUE = 2.0;
    public static final double DT = 0.05;
    public static final double MASS = 1.0;
    public static final double LENGTH = 1.0;

    /** The physical state: angle from upright (rad, not wrapped) and angular velocity (rad/s). */
    public record State(double theta, double thetaDot) {}

    private static final BoxSpace OBSERVATION_SPACE =
            new BoxSpace(new double[] {-1, -1, -MAX_SPEED}, new double[] {1, 1, MAX_SPEED});
    private static final BoxSpace ACTION_SPACE = BoxSpace.uniform(1, -MAX_TORQUE, MAX_TORQUE);

    private final double g;
    // An env never seeded behaves as if seeded with 0, so unseeded runs are still reproducible.
    private Rng rng = new Rng(0);

    @Override
    public void collectRngs(java.util.List<Rng> out) {
        out.add(rng);
    }
    private double theta;
    private double thetaDot;
    private boolean started;

    public Pendulum() {
        this(DEFAULT_GRAVITY);
    }

    /** @param g gravitational acceleration (Gymnasium's constructor argument {@code g}) */
    public Pendulum(double g) {
        if (!Double.isFinite(g)) {
            throw new IllegalArgumentException("Pendulum gravity g must be finite, got " + g);
        }
        this.g = g;
    }

    public double gravity() {
        return g;
    }

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

    @Override
    public double[] reset(long seed) {
        rng.setState(new Rng(seed).state());
        return reset();
    }

    @Override
    public double[] reset() {
        theta = rng.uniform(-Math.PI, Math.PI);
        thetaDot = rng.uniform(-1, 1);
        started = true;
        return observation();
    }

    @Override
    public StepResult step(double[] action) {
        ACTION_SPACE.checkShape(action, ID + " action");
        if (!started) {
            throw new IllegalStateException(ID + ": call reset() (or setState) before step()");
        }
        double u = Math.clamp(action[0], -MAX_TORQUE, MAX_TORQUE);
        double reward = reward(theta, thetaDot, u);

        double thetaAcceleration = 3 * g / (2 * LENGTH) * Math.sin(theta) + 3.0 / (MASS * LENGTH * LENGTH) * u;
        thetaDot = Math.clamp(thetaDot + thetaAcceleration * DT, -MAX_SPEED, MAX_SPEED);
        theta = theta + thetaDot * DT;
        return new StepResult(observation(), reward, false, false);
    }

    /** The reward for applying the (already clipped) torque {@code u} in state (θ, θ̇). */
    static double reward(double theta, double thetaDot, double u) {
        double angle = angleNormalize(theta);
        return -(angle * angle + 0.1 * thetaDot * thetaDot + 0.001 * u * u);
    }

    /** Wraps an angle into [−π, π]: Gymnasium's {@code ((x + π) mod 2π) − π} with Python's floored modulo. */
    public static double angleNormalize(double x) {
        double twoPi = 2 * Math.PI;
        double shifted = (x + Math.PI) % twoPi;
        if (shifted < 0) shifted += twoPi;
        return shifted - Math.PI;
    }

    public State state() {
        return new State(theta, thetaDot);
    }

    /** Puts the pendulum in a hand-made state (counts as a reset: stepping is allowed afterwards). */
    public void setState(State state) {
        if (!Double.isFinite(state.theta()) || !Double.isFinite(state.thetaDot())) {
            throw new IllegalArgumentException("Pendulum state must be finite, got " + state);
        }
        theta = state.theta();
        thetaDot = state.thetaDot();
        started = true;
    }

    public void setState(double theta, double thetaDot) {
        setState(new State(theta, thetaDot));
    }

    /** The observation of the current state. */
    public double[] observation() {
        return new double[] {(float) Math.cos(theta), (float) Math.sin(theta), (float) thetaDot};
    }

    @Override
    public String toString() {
        return ID + "(g=" + g + ")";
    }
}
