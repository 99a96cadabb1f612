package org.dmerl.env;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class RecordEpisodeStatisticsTest {

    @Test
    void addsReturnAndLengthOnlyOnTheStepThatEndsTheEpisode() {
        var env = new RecordEpisodeStatistics(new ScriptedEnv(3));
        env.reset(0);
        StepResult first = env.step(new double[] {0.25});
        StepResult second = env.step(new double[] {-0.5});
        StepResult last = env.step(new double[] {1.0});

        assertFalse(first.terms().containsKey(RecordEpisodeStatistics.EPISODE_RETURN));
        assertFalse(second.terms().containsKey(RecordEpisodeStatistics.EPISODE_LENGTH));
        assertEquals(0.75, last.terms().get(RecordEpisodeStatistics.EPISODE_RETURN));
        assertEquals(3.0, last.terms().get(RecordEpisodeStatistics.EPISODE_LENGTH));
        assertEquals(1.0, last.terms().get("reward_action"), "the inner env's terms are kept");
    }

    @Test
    void remembersTheLastFinishedEpisodeAndCountsEpisodes() {
        var env = new RecordEpisodeStatistics(new ScriptedEnv(2));
        assertTrue(Double.isNaN(env.lastEpisodeReturn()));
        assertEquals(0, env.finishedEpisodes());

        env.reset(0);
        env.step(new double[] {0.5});
        env.step(new double[] {0.5});
        env.reset();
        env.step(new double[] {-1});
        assertEquals(-1, env.currentReturn());
        assertEquals(1, env.currentLength());
        env.step(new double[] {0.25});

        assertEquals(-0.75, env.lastEpisodeReturn());
        assertEquals(2, env.lastEpisodeLength());
        assertEquals(2, env.finishedEpisodes());
        assertEquals(List.of(1.0, -0.75), env.recentReturns());
        assertEquals(List.of(2, 2), env.recentLengths());
    }

    @Test
    void countsTruncatedEpisodesWhenOutsideTheTimeLimit() {
        var env = new RecordEpisodeStatistics(new TimeLimit(new ScriptedEnv(0), 4));
        env.reset(0);
        StepResult last = null;
        for (int t = 0; t < 4; t++) last = env.step(new double[] {0.5});
        assertTrue(last.truncated());
        assertEquals(2.0, last.terms().get(RecordEpisodeStatistics.EPISODE_RETURN));
        assertEquals(4, env.lastEpisodeLength());
    }

    @Test
    void resetDiscardsAnUnfinishedEpisode() {
        var env = new RecordEpisodeStatistics(new ScriptedEnv(2));
        env.reset(0);
        env.step(new double[] {1});
        env.reset();
        env.step(new double[] {0.5});
        env.step(new double[] {0.5});
        assertEquals(1.0, env.lastEpisodeReturn());
        assertEquals(1, env.finishedEpisodes());
    }

    @Test
    void keepsOnlyTheWindowOfRecentReturns() {
        var env = new RecordEpisodeStatistics(new ScriptedEnv(1), 2);
        env.reset(0);
        for (double r : new double[] {0.1, 0.2, 0.3}) {
            env.step(new double[] {r});
            env.reset();
        }
        assertEquals(List.of(0.2, 0.3), env.recentReturns());
        assertEquals(3, env.finishedEpisodes());
    }

    @Test
    void rejectsBadArguments() {
        var e = assertThrows(IllegalArgumentException.class, () -> new RecordEpisodeStatistics(new ScriptedEnv(1), 0));
        assertTrue(e.getMessage().contains("window"), e.getMessage());
        assertThrows(NullPointerException.class, () -> new RecordEpisodeStatistics(null));
    }
}
