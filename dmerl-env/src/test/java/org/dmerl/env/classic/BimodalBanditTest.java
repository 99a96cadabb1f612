package org.dmerl.env.classic;

import static org.junit.jupiter.api.Assertions.*;

import org.dmerl.env.Env;
import org.dmerl.env.EnvRegistry;
import org.dmerl.env.StepResult;
import org.dmerl.env.TimeLimit;
import org.junit.jupiter.api.Test;

class BimodalBanditTest {

    @Test
    void rewardPeaksEquallyAtBothModes() {
        // At ±0.5 one bump gives 1 and the other exp(−1/0.02) = exp(−50).
        assertEquals(1 + Math.exp(-50), BimodalBandit.reward(0.5), 1e-15);
        assertEquals(BimodalBandit.reward(0.5), BimodalBandit.reward(-0.5));
        // Between the modes both bumps give exp(−0.25/0.02) = exp(−12.5).
        assertEquals(2 * Math.exp(-12.5), BimodalBandit.reward(0.0), 1e-18);
        assertEquals(BimodalBandit.reward(0.37), BimodalBandit.reward(-0.37));
        // At 0.4: (0.4 − 0.5)² = 0.01 and (0.4 + 0.5)² = 0.81.
        assertEquals(Math.exp(-0.01 / 0.02) + Math.exp(-0.81 / 0.02), BimodalBandit.reward(0.4), 1e-15);
    }

    @Test
    void everyEpisodeIsOneTerminatingStepWithAConstantObservation() {
        Env env = EnvRegistry.make(BimodalBandit.ID);
        assertTrue(env.unwrap(TimeLimit.class).isEmpty(), "the bandit ends itself; no TimeLimit");
        assertArrayEquals(new double[] {0.0}, env.reset(3));
        StepResult step = env.step(new double[] {0.5});
        assertTrue(step.terminated());
        assertFalse(step.truncated());
        assertArrayEquals(new double[] {0.0}, step.observation());
        assertEquals(BimodalBandit.reward(0.5), step.reward());
        assertArrayEquals(new double[] {0.0}, env.reset());
    }

    @Test
    void steppingAgainWithoutResetIsRejected() {
        var env = new BimodalBandit();
        env.reset(0);
        env.step(new double[] {0});
        assertThrows(IllegalStateException.class, () -> env.step(new double[] {0}));
    }

    @Test
    void actionsOutsideTheBoxAreClipped() {
        var env = new BimodalBandit();
        env.reset(0);
        assertEquals(BimodalBandit.reward(1.0), env.step(new double[] {4.0}).reward());
        env.reset();
        assertEquals(BimodalBandit.reward(-1.0), env.step(new double[] {-4.0}).reward());
    }
}
