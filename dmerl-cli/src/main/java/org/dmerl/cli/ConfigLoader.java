package org.dmerl.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.dmerl.algo.Config;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** Reads YAML configs (flat {@code key: value} maps) and {@code key=value} overrides into a {@link Config}. */
public final class ConfigLoader {

    private ConfigLoader() {}

    public static void applyYaml(Config cfg, Path file) {
        Map<String, Object> map = readYaml(file);
        for (var e : map.entrySet()) {
            try {
                cfg.set(e.getKey(), e.getValue());
            } catch (IllegalArgumentException ex) {
                throw new UserError(file + ": " + ex.getMessage());
            }
        }
    }

    public static Map<String, Object> readYaml(Path file) {
        if (!Files.isReadable(file)) throw new UserError("cannot read config file " + file);
        try (Reader r = Files.newBufferedReader(file)) {
            Object doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
            if (doc == null) return Map.of();
            if (!(doc instanceof Map<?, ?> m)) throw new UserError(file + ": expected a map of key: value lines");
            Map<String, Object> out = new LinkedHashMap<>();
            for (var e : m.entrySet()) {
                Object v = e.getValue();
                if (v instanceof List<?> list) v = String.join(",", list.stream().map(String::valueOf).toList());
                if (v instanceof Map<?, ?>) throw new UserError(file + ": key '" + e.getKey() + "' must be a scalar");
                out.put(String.valueOf(e.getKey()), v);
            }
            return out;
        } catch (IOException | RuntimeException e) {
            if (e instanceof UserError u) throw u;
            throw new UserError("cannot parse config file " + file + ": " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    public static void applyOverride(Config cfg, String assignment) {
        int eq = assignment.indexOf('=');
        if (eq <= 0) throw new UserError("--set expects key=value, got '" + assignment + "'");
        cfg.set(assignment.substring(0, eq).trim(), assignment.substring(eq + 1).trim());
    }

    /** The resolved config as YAML, one documented key per line. */
    public static String toYaml(Config cfg) {
        StringBuilder sb = new StringBuilder("# dmerl resolved config\n");
        for (var e : cfg.asMap().entrySet()) {
            Object v = e.getValue();
            String s = v instanceof String str ? quoteIfNeeded(str) : String.valueOf(v);
            sb.append(e.getKey()).append(": ").append(s).append('\n');
        }
        return sb.toString();
    }

    private static String quoteIfNeeded(String s) {
        return s.matches("[A-Za-z0-9_.\\-]+") && !s.matches("(?i)true|false|null|~|yes|no|on|off|[0-9.eE+\\-]+")
                ? s : "\"" + s.replace("\"", "\\\"") + "\"";
    }
}
