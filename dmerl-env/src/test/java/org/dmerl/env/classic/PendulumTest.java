package org.dmerl.env.classic;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Map;
import org.dmerl.env.EnvRegistry;
import org.dmerl.env.StepResult;
import org.dmerl.tensor.Rng;
import org.junit.jupiter.api.Test;

/** Steps checked against numbers worked out from the Pendulum-v1 formulas (environments.md 5.4). */
class PendulumTest {

    @Test
    void stepIsSemiImplicitEulerAndRewardUsesThePreStepState() {
        var env = new Pendulum();
        env.setState(1.0, 0.5);
        StepResult step = env.step(new double[] {1.5});

        // θ̇' = 0.5 + (3·10/2·sin 1 + 3·1.5)·0.05 = 0.5 + (15·0.8414709848 + 4.5)·0.05 = 1.3561032386
        double thetaDot = 0.5 + (15 * Math.sin(1.0) + 4.5) * 0.05;
        assertEquals(1.3561032386, thetaDot, 1e-9);
        double theta = 1.0 + thetaDot * 0.05;
        assertEquals(new Pendulum.State(theta, thetaDot), env.state());
        // cost = 1² + 0.1·0.5² + 0.001·1.5² = 1 + 0.025 + 0.00225
        assertEquals(-1.02725, step.reward(), 1e-15);
        assertFalse(step.terminated());
        assertFalse(step.truncated());
    }

    @Test
    void observationIsCosSinAndSpeedInFloat32() {
        var env = new Pendulum();
        env.setState(1.0, 0.5);
        double[] obs = env.step(new double[] {1.5}).observation();
        double theta = env.state().theta(), thetaDot = env.state().thetaDot();
        assertArrayEquals(new double[] {(float) Math.cos(theta), (float) Math.sin(theta), (float) thetaDot}, obs);
        assertEquals(Math.cos(theta), obs[0], 1e-7);
    }

    @Test
    void torqueIsClippedToTwoInDynamicsAndReward() {
        var clipped = new Pendulum();
        clipped.setState(0.3, -0.2);
        StepResult big = clipped.step(new double[] {5.0});
        var atLimit = new Pendulum();
        atLimit.setState(0.3, -0.2);
        StepResult two = atLimit.step(new double[] {2.0});

        assertEquals(atLimit.state(), clipped.state());
        assertEquals(two.reward(), big.reward());
        // cost = 0.3² + 0.1·0.2² + 0.001·2² = 0.09 + 0.004 + 0.004
        assertEquals(-0.098, big.reward(), 1e-15);

        var negative = new Pendulum();
        negative.setState(0.3, -0.2);
        StepResult minus = negative.step(new double[] {-7.0});
        assertEquals(-0.2 + (15 * Math.sin(0.3) - 6) * 0.05, negative.state().thetaDot(), 1e-15);
        assertEquals(-0.098, minus.reward(), 1e-15);
    }

    @Test
    void speedIsClippedToEight() {
        var env = new Pendulum();
        env.setState(Math.PI / 2, 7.9);
        env.step(new double[] {2.0});
        // 7.9 + (15·1 + 6)·0.05 = 8.95 → 8; θ' = π/2 + 8·0.05
        assertEquals(8.0, env.state().thetaDot());
        assertEquals(Math.PI / 2 + 0.4, env.state().theta(), 1e-15);

        env.setState(-Math.PI / 2, -7.9);
        env.step(new double[] {-2.0});
        assertEquals(-8.0, env.state().thetaDot());
        assertEquals(-Math.PI / 2 - 0.4, env.state().theta(), 1e-15);
    }

    @Test
    void rewardWrapsTheAngle() {
        var env = new Pendulum();
        env.setState(2 * Math.PI + 0.3, 0.0);
        // cost = 0.3² (the angle wraps to 0.3) + 0 + 0
        assertEquals(-0.09, env.step(new double[] {0}).reward(), 1e-12);

        env.setState(-3 * Math.PI / 2, 1.0);
        // −3π/2 wraps to π/2: cost = (π/2)² + 0.1
        assertEquals(-(Math.PI * Math.PI / 4 + 0.1), env.step(new double[] {0}).reward(), 1e-12);

        env.setState(Math.PI, 8.0);
        // hanging down at full speed with full torque: the worst case, π² + 6.4 + 0.004 ≈ 16.2736
        assertEquals(-16.2736044011, env.step(new double[] {2}).reward(), 1e-9);
    }

    @Test
    void angleNormalizeMatchesPythonsFlooredModulo() {
        assertEquals(0.0, Pendulum.angleNormalize(0.0));
        assertEquals(-Math.PI, Pendulum.angleNormalize(Math.PI), "(2π mod 2π) − π");
        assertEquals(-Math.PI, Pendulum.angleNormalize(-Math.PI));
        assertEquals(7 - 2 * Math.PI, Pendulum.angleNormalize(7), 1e-12);
        assertEquals(-7 + 2 * Math.PI, Pendulum.angleNormalize(-7), 1e-12);
        assertEquals(0.5, Pendulum.angleNormalize(0.5 - 6 * Math.PI), 1e-12);
    }

    @Test
    void resetDrawsAngleAndSpeedUniformlyFromTheSeededStream() {
        var env = new Pendulum();
        double[] obs = env.reset(42);
        var rng = new Rng(42);
        double theta = rng.uniform(-Math.PI, Math.PI), thetaDot = rng.uniform(-1, 1);
        assertEquals(new Pendulum.State(theta, thetaDot), env.state());
        assertArrayEquals(new double[] {(float) Math.cos(theta), (float) Math.sin(theta), (float) thetaDot}, obs);

        // reset() continues the stream
        env.reset();
        assertEquals(new Pendulum.State(rng.uniform(-Math.PI, Math.PI), rng.uniform(-1, 1)), env.state());
        assertArrayEquals(obs, new Pendulum().reset(42));
    }

    @Test
    void neverTerminatesOrTruncatesByItself() {
        var env = new Pendulum();
        env.reset(0);
        for (int t = 0; t < 1000; t++) assertFalse(env.step(new double[] {2}).done(), "step " + t);
    }

    @Test
    void gravityIsAConstructorOption() {
        var env = EnvRegistry.make("Pendulum-v1", Map.of("g", 9.81)).unwrap(Pendulum.class).orElseThrow();
        assertEquals(9.81, env.gravity());
        env.setState(1.0, 0.0);
        env.step(new double[] {0});
        assertEquals(3 * 9.81 / 2 * Math.sin(1.0) * 0.05, env.state().thetaDot(), 1e-15);

        var e = assertThrows(IllegalArgumentException.class, () -> EnvRegistry.make("Pendulum-v1", Map.of("gravity", 9.81)));
        assertTrue(e.getMessage().contains("gravity"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EnvRegistry.make("Pendulum-v1", Map.of("g", "ten")));
    }

    @Test
    void stepBeforeResetIsRejected() {
        var e = assertThrows(IllegalStateException.class, () -> new Pendulum().step(new double[] {0}));
        assertTrue(e.getMessage().contains("reset"), e.getMessage());
    }
}
