package org.dmerl.env.classic;

import java.util.Map;
import java.util.Set;
import org.dmerl.env.EnvRegistry;

/** Registers the classic-control tasks (no native code needed). */
public final class ClassicEnvs {

    private ClassicEnvs() {}

    public static void registerAll() {
        // The bandit ends itself after one step; a TimeLimit(1) would also flag truncated on that step, which
        // reads as "bootstrap here" to careless code, so it is registered without one (0 = no TimeLimit).
        EnvRegistry.register(new EnvRegistry.Spec(Pendulum.ID, ClassicEnvs::pendulum, 200,
                "swing a pendulum up and hold it upright; obs [cos θ, sin θ, θdot], torque in [-2, 2]; option g"));
        EnvRegistry.register(new EnvRegistry.Spec(BimodalBandit.ID, ClassicEnvs::bimodalBandit, 0,
                "one-step bandit with two equal reward bumps at a = ±0.5; tests whether a policy is multimodal"));
    }

    private static Pendulum pendulum(Map<String, Object> options) {
        requireKnownOptions(Pendulum.ID, options, Set.of("g"));
        Object g = options.getOrDefault("g", Pendulum.DEFAULT_GRAVITY);
        if (!(g instanceof Number number)) {
            throw new IllegalArgumentException(Pendulum.ID + " option g must be a number, got " + g);
        }
        return new Pendulum(number.doubleValue());
    }

    private static BimodalBandit bimodalBandit(Map<String, Object> options) {
        requireKnownOptions(BimodalBandit.ID, options, Set.of());
        return new BimodalBandit();
    }

    // A misspelt option would otherwise be ignored silently and the run would use the default.
    private static void requireKnownOptions(String id, Map<String, Object> options, Set<String> known) {
        for (String key : options.keySet()) {
            if (!known.contains(key)) {
                throw new IllegalArgumentException(id + " has no option '" + key + "'; known options: " + known);
            }
        }
    }
}
