package org.dmerl.algo;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Config validation fails early with messages that name the problem. */
class TrainingConfigTest {

    private static String message(Executable e) {
        return assertThrows(IllegalArgumentException.class, e).getMessage();
    }

    private static void assertMentions(String msg, String... parts) {
        for (String p : parts) assertTrue(msg.contains(p), "message '" + msg + "' should mention '" + p + "'");
    }

    @Test
    void defaultsAreValid() {
        assertDoesNotThrow(() -> Training.validate(new Config()));
        assertDoesNotThrow(() -> Training.validate(new Config().set("algo", "sac")));
    }

    @Test
    void unknownAlgorithm() {
        Config cfg = new Config().set("algo", "ddpg");
        assertMentions(message(() -> Training.validate(cfg)), "ddpg", "sac", "diffsac");
        assertMentions(message(() -> Training.run(cfg, new TrainingListener() {})), "ddpg");
    }

    @Test
    void unknownEnvironment() {
        Config cfg = new Config().set("env", "NoSuchEnv-v0");
        assertMentions(message(() -> Training.validate(cfg)), "NoSuchEnv-v0", "Pendulum-v1");
        assertMentions(message(() -> Training.run(cfg, new TrainingListener() {})), "NoSuchEnv-v0");
    }

    @Test
    void unknownKey() {
        assertMentions(message(() -> new Config().set("learning_rate", 1e-3)), "learning_rate", "actor_lr", "steps");
    }

    @Test
    void negativeOrZeroSteps() {
        Config neg = new Config().set("steps", -5);
        assertMentions(message(() -> Training.validate(neg)), "steps", "-5");
        assertMentions(message(() -> Training.run(neg, new TrainingListener() {})), "steps");
        assertMentions(message(() -> Training.validate(new Config().set("steps", 0))), "steps");
    }

    @Test
    void everyProblemIsNamed() {
        Config cfg = new Config().set("steps", -1).set("gamma", 1.5).set("batch_size", 0)
                .set("backward_kernel", "other").set("dt_schedule", "exp").set("eval_sampler", "x");
        assertMentions(message(() -> Training.validate(cfg)), "steps", "gamma", "batch_size", "backward_kernel",
                "dt_schedule", "eval_sampler");
        assertEquals(6, cfg.problems().size(), cfg.problems().toString());
    }

    @Test
    void unparsableValues() {
        assertMentions(message(() -> new Config().set("steps", "many")), "steps", "many");
        assertMentions(message(() -> new Config().set("steps", "1.5")), "steps");
        assertMentions(message(() -> new Config().set("autotune", "yes")), "autotune", "yes");
        assertMentions(message(() -> new Config().set("batch_size", "3.5")), "batch_size");
        assertMentions(message(() -> new Config().set("hidden", "32,x").getInts("hidden")), "hidden");
        assertMentions(message(() -> new Config().set("hidden", "32,-4").getInts("hidden")), "hidden");
        assertEquals(1500L, new Config().set("steps", "1_500").getLong("steps"));
        assertEquals(2000L, new Config().set("steps", "2e3").getLong("steps"));
    }
}
