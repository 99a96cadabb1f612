package org.dmerl.env;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class ActionWrappersTest {

    private static final BoxSpace SKEWED_BOX = new BoxSpace(new double[] {0, -2}, new double[] {4, -1});

    @Test
    void rescaleMapsTheUnitBoxLinearlyOntoTheEnvBox() {
        var inner = new ScriptedEnv(0, SKEWED_BOX);
        var env = new RescaleAction(inner);
        env.reset(0);
        env.step(new double[] {-1, -1});
        assertArrayEquals(new double[] {0, -2}, inner.lastAction);
        env.step(new double[] {1, 1});
        assertArrayEquals(new double[] {4, -1}, inner.lastAction);
        env.step(new double[] {0, 0.5});
        assertArrayEquals(new double[] {2, -1.25}, inner.lastAction);
    }

    @Test
    void rescaleReportsTheUnitBoxAndClipsActionsOutsideIt() {
        var inner = new ScriptedEnv(0, SKEWED_BOX);
        var env = new RescaleAction(inner);
        assertEquals(BoxSpace.uniform(2, -1, 1).toString(), env.actionSpace().toString());
        env.reset(0);
        env.step(new double[] {3, -7});
        assertArrayEquals(new double[] {4, -2}, inner.lastAction);
    }

    @Test
    void rescaleRejectsUnboundedBoxesAndWrongLengths() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new RescaleAction(new ScriptedEnv(0, BoxSpace.unbounded(1))));
        assertTrue(e.getMessage().contains("bounded"), e.getMessage());
        var env = new RescaleAction(new ScriptedEnv(0, SKEWED_BOX));
        env.reset(0);
        var wrong = assertThrows(IllegalArgumentException.class, () -> env.step(new double[] {0}));
        assertTrue(wrong.getMessage().contains("expected 2"), wrong.getMessage());
    }

    @Test
    void clipActionClipsIntoTheEnvBoxAndReportsAnUnboundedSpace() {
        var inner = new ScriptedEnv(0, SKEWED_BOX);
        var env = new ClipAction(inner);
        assertEquals(BoxSpace.unbounded(2).toString(), env.actionSpace().toString());
        env.reset(0);
        env.step(new double[] {5, 0});
        assertArrayEquals(new double[] {4, -1}, inner.lastAction);
        env.step(new double[] {1.5, -1.5});
        assertArrayEquals(new double[] {1.5, -1.5}, inner.lastAction);
        env.step(new double[] {-0.1, -9});
        assertArrayEquals(new double[] {0, -2}, inner.lastAction);
    }

    @Test
    void wrappersRejectANullEnv() {
        assertThrows(NullPointerException.class, () -> new RescaleAction(null));
        assertThrows(NullPointerException.class, () -> new ClipAction(null));
        assertThrows(NullPointerException.class, () -> new NormalizeObservation(null));
    }
}
