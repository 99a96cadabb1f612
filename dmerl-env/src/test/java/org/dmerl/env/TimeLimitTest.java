package org.dmerl.env;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class TimeLimitTest {

    private static final double[] ACTION = {0.5};

    @Test
    void truncatesExactlyAtMaxSteps() {
        var env = new TimeLimit(new ScriptedEnv(0), 5);
        env.reset(1);
        for (int t = 1; t <= 4; t++) {
            StepResult step = env.step(ACTION);
            assertFalse(step.truncated(), "truncated early at step " + t);
            assertFalse(step.terminated());
        }
        StepResult last = env.step(ACTION);
        assertTrue(last.truncated());
        assertFalse(last.terminated(), "a time limit is not an MDP terminal state");
        assertEquals(5, env.elapsedSteps());
    }

    @Test
    void resetRestartsTheCount() {
        var env = new TimeLimit(new ScriptedEnv(0), 3);
        env.reset(1);
        env.step(ACTION);
        env.step(ACTION);
        env.reset();
        assertEquals(0, env.elapsedSteps());
        assertFalse(env.step(ACTION).truncated());
        assertFalse(env.step(ACTION).truncated());
        assertTrue(env.step(ACTION).truncated());
    }

    @Test
    void terminationBeforeTheLimitIsPassedThroughUntruncated() {
        var env = new TimeLimit(new ScriptedEnv(2), 10);
        env.reset(1);
        env.step(ACTION);
        StepResult end = env.step(ACTION);
        assertTrue(end.terminated());
        assertFalse(end.truncated());
    }

    @Test
    void rejectsNonPositiveLimits() {
        var e = assertThrows(IllegalArgumentException.class, () -> new TimeLimit(new ScriptedEnv(0), 0));
        assertTrue(e.getMessage().contains("0"), e.getMessage());
    }

    @Test
    void registryAddsTheTimeLimitOfPendulum() {
        Env env = EnvRegistry.make("Pendulum-v1");
        assertEquals(200, env.unwrap(TimeLimit.class).orElseThrow().maxEpisodeSteps());
        env.reset(3);
        for (int t = 1; t < 200; t++) assertFalse(env.step(new double[] {0}).done());
        StepResult last = env.step(new double[] {0});
        assertTrue(last.truncated());
        assertFalse(last.terminated());
    }
}
