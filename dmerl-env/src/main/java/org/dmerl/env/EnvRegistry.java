package org.dmerl.env;

import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Environment ids and how to build them, like {@code gymnasium.make}: {@link #make(String)} builds the raw env and adds
 * the registered {@link TimeLimit}.
 */
public final class EnvRegistry {

    /** A registered environment: its factory (given constructor options), episode limit and a short description. */
    public record Spec(String id, Function<Map<String, Object>, Env> factory, int maxEpisodeSteps, String description) {}

    private static final Map<String, Spec> SPECS = new TreeMap<>();

    static {
        org.dmerl.env.classic.ClassicEnvs.registerAll();
        org.dmerl.env.mujoco.MujocoEnvs.registerAll();
    }

    private EnvRegistry() {}

    public static synchronized void register(Spec spec) {
        SPECS.put(spec.id(), spec);
    }

    public static synchronized Set<String> ids() {
        return Collections.unmodifiableSet(new java.util.TreeSet<>(SPECS.keySet()));
    }

    public static synchronized Spec spec(String id) {
        Spec spec = SPECS.get(id);
        if (spec == null) {
            throw new IllegalArgumentException("unknown environment '" + id + "'; known: " + String.join(", ", SPECS.keySet()));
        }
        return spec;
    }

    /** The env with its registered time limit. */
    public static Env make(String id) {
        return make(id, Map.of());
    }

    public static Env make(String id, Map<String, Object> options) {
        Spec spec = spec(id);
        Env raw = spec.factory().apply(options);
        return spec.maxEpisodeSteps() > 0 ? new TimeLimit(raw, spec.maxEpisodeSteps()) : raw;
    }
}
