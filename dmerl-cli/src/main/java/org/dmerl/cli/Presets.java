package org.dmerl.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

import org.dmerl.algo.Config;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Built-in config presets (the repository's {@code configs/}, carried in the jar under {@code presets/}), applied in
 * order: {@code algo-<algo>}, {@code env-<id>}, {@code family-<task>}, {@code <algo>-<id>}.
 */
public final class Presets {

    private Presets() {}

    public static void apply(Config cfg, String algo, String env) {
        applyResource(cfg, "presets/algo-" + algo + ".yaml");
        applyResource(cfg, "presets/env-" + env + ".yaml");
        String family = env.contains("-v") ? env.substring(0, env.lastIndexOf("-v")) : env;
        applyResource(cfg, "presets/family-" + family + ".yaml");
        applyResource(cfg, "presets/" + algo + "-" + env + ".yaml");
    }

    private static void applyResource(Config cfg, String name) {
        try (InputStream in = Presets.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) return;
            Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
            if (doc instanceof Map<?, ?> m) {
                for (var e : m.entrySet()) cfg.set(String.valueOf(e.getKey()), e.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read preset " + name, e);
        }
    }
}
