package org.dmerl.env.mujoco;

import java.lang.reflect.Array;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A task's Gymnasium-style constructor options ({@code ctrl_cost_weight}, {@code healthy_z_range}, ...) read from
 * the registry's option map. Values may be typed (Number, Boolean, double[], List) or text, as they arrive from a
 * YAML config or the command line. An unknown name is an error: a misspelt option would otherwise be ignored and the
 * run would silently use the default.
 */
final class TaskOptions {

    private final String id;
    private final Map<String, Object> options;

    TaskOptions(String id, Map<String, Object> options, Set<String> known) {
        this.id = id;
        this.options = options == null ? Map.of() : options;
        for (String key : this.options.keySet()) {
            if (!known.contains(key)) {
                throw new IllegalArgumentException(id + " has no option '" + key + "'; known options: "
                        + new TreeSet<>(known));
            }
        }
    }

    boolean has(String key) {
        return options.get(key) != null;
    }

    double number(String key, double defaultValue) {
        Object value = options.get(key);
        if (value == null) return defaultValue;
        double number = toDouble(key, value);
        if (Double.isNaN(number)) throw invalid(key, value, "a number");
        return number;
    }

    int integer(String key, int defaultValue) {
        Object value = options.get(key);
        if (value == null) return defaultValue;
        double number = toDouble(key, value);
        if (number != Math.rint(number) || Math.abs(number) > Integer.MAX_VALUE) throw invalid(key, value, "an integer");
        return (int) number;
    }

    boolean flag(String key, boolean defaultValue) {
        Object value = options.get(key);
        if (value == null) return defaultValue;
        if (value instanceof Boolean b) return b;
        if (value instanceof String s) {
            switch (s.strip().toLowerCase(Locale.ROOT)) {
                case "true", "yes", "1" -> { return true; }
                case "false", "no", "0" -> { return false; }
                default -> { }
            }
        }
        throw invalid(key, value, "true or false");
    }

    String text(String key, String defaultValue) {
        Object value = options.get(key);
        return value == null ? defaultValue : value.toString();
    }

    /** A (low, high) pair: a double[2], a list of two numbers, or text such as {@code "0.2,1"} or {@code "(-inf, 10)"}. */
    Range range(String key, Range defaultValue) {
        Object value = options.get(key);
        if (value == null) return defaultValue;
        Object[] parts;
        if (value instanceof List<?> list) {
            parts = list.toArray();
        } else if (value.getClass().isArray()) {
            parts = new Object[Array.getLength(value)];
            for (int i = 0; i < parts.length; i++) parts[i] = Array.get(value, i);
        } else if (value instanceof String s) {
            parts = s.strip().replaceAll("^[(\\[]|[)\\]]$", "").split(",");
        } else {
            throw invalid(key, value, "a (low, high) pair");
        }
        if (parts.length != 2) throw invalid(key, value, "a (low, high) pair");
        double low = toDouble(key, parts[0]), high = toDouble(key, parts[1]);
        if (Double.isNaN(low) || Double.isNaN(high) || low > high) {
            throw invalid(key, value, "a (low, high) pair, low <= high");
        }
        return new Range(low, high);
    }

    private double toDouble(String key, Object value) {
        if (value instanceof Number n) return n.doubleValue();
        if (value instanceof String s) {
            String t = s.strip().toLowerCase(Locale.ROOT);
            if (t.equals("inf") || t.equals("+inf") || t.equals("infinity")) return Double.POSITIVE_INFINITY;
            if (t.equals("-inf") || t.equals("-infinity")) return Double.NEGATIVE_INFINITY;
            try {
                return Double.parseDouble(t);
            } catch (NumberFormatException _) {
                // fall through to the error
            }
        }
        throw invalid(key, value, "a number");
    }

    private IllegalArgumentException invalid(String key, Object value, String expected) {
        String shown = value != null && value.getClass().isArray() ? arrayText(value) : String.valueOf(value);
        return new IllegalArgumentException(id + " option " + key + " must be " + expected + ", got " + shown);
    }

    private static String arrayText(Object array) {
        var parts = new StringBuilder("[");
        for (int i = 0; i < Array.getLength(array); i++) parts.append(i > 0 ? ", " : "").append(Array.get(array, i));
        return parts.append(']').toString();
    }
}
