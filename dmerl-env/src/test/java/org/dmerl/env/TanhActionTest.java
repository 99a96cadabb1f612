package org.dmerl.env;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@link TanhAction}: unbounded actions u reach a [−1, 1] env as tanh(u); other inner boxes are rejected. */
class TanhActionTest {

    @Test
    void appliesTanhPerDimension() {
        var inner = new ScriptedEnv(0, BoxSpace.uniform(3, -1, 1));
        var env = new TanhAction(inner);
        env.reset(0);
        double[] u = {0.3, -2.0, 40.0};
        StepResult r = env.step(u);
        assertArrayEquals(new double[] {Math.tanh(0.3), Math.tanh(-2.0), 1.0}, inner.lastAction, 0);
        assertEquals(Math.tanh(0.3), r.reward(), 0, "the inner env's step result is returned");
        assertArrayEquals(new double[] {0.3, -2.0, 40.0}, u, "the caller's action is not modified");
        env.step(new double[] {0, -1e9, Double.NEGATIVE_INFINITY});
        assertArrayEquals(new double[] {0, -1, -1}, inner.lastAction, 0);
    }

    @Test
    void reportsAnUnboundedActionSpaceOfTheSameDim() {
        var env = new TanhAction(new ScriptedEnv(0, BoxSpace.uniform(2, -1, 1)));
        assertEquals(BoxSpace.unbounded(2).toString(), env.actionSpace().toString());
        assertEquals(new ScriptedEnv(0).observationSpace().toString(), env.observationSpace().toString());
        assertSame(env, env.unwrap(TanhAction.class).orElseThrow());
    }

    @Test
    void rejectsInnerBoxesOtherThanTheUnitBox() {
        for (BoxSpace box : new BoxSpace[] {BoxSpace.uniform(1, -2, 2), new BoxSpace(new double[] {-1, 0}, new double[] {1, 1}),
                BoxSpace.unbounded(1)}) {
            var e = assertThrows(IllegalArgumentException.class, () -> new TanhAction(new ScriptedEnv(0, box)));
            assertTrue(e.getMessage().contains("[-1, 1]") && e.getMessage().contains("RescaleAction"), e.getMessage());
        }
        // Pendulum's raw box is [−2, 2]: it needs RescaleAction first
        try (Env raw = EnvRegistry.make("Pendulum-v1")) {
            assertThrows(IllegalArgumentException.class, () -> new TanhAction(raw));
        }
        assertThrows(NullPointerException.class, () -> new TanhAction(null));
    }

    @Test
    void rejectsActionsOfTheWrongLength() {
        var env = new TanhAction(new ScriptedEnv(0, BoxSpace.uniform(2, -1, 1)));
        env.reset(0);
        var e = assertThrows(IllegalArgumentException.class, () -> env.step(new double[] {0.1}));
        assertTrue(e.getMessage().contains("expected 2"), e.getMessage());
    }

    @Test
    void pendulumThroughRescaleActionSeesTheSquashedTorque() {
        // tanh(u) in [−1, 1] is rescaled onto Pendulum's [−2, 2]: the same as RescaleAction given tanh(u) directly
        try (Env squashed = new TanhAction(new RescaleAction(EnvRegistry.make("Pendulum-v1")));
             Env direct = new RescaleAction(EnvRegistry.make("Pendulum-v1"))) {
            assertArrayEquals(direct.reset(4), squashed.reset(4));
            for (int t = 0; t < 20; t++) {
                double u = 3 * Math.sin(t);
                StepResult a = squashed.step(new double[] {u}), b = direct.step(new double[] {Math.tanh(u)});
                assertArrayEquals(b.observation(), a.observation(), 0);
                assertEquals(b.reward(), a.reward(), 0);
            }
        }
    }
}
