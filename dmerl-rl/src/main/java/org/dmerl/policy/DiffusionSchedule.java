package org.dmerl.policy;

/**
 * Initial per-step sizes Δt_k = dt · schedule(k), with t = (K − k)/K (spec §1.2, "noise / step schedules").
 */
public enum DiffusionSchedule {
    /** (1 − t)·min + t: falls from 1 at k = 0 towards min. */
    LINEAR,
    /** (1 − min)·cos(½π(1 + s − t)/(1 + s))^pow + min with s = 0.008, pow = 2. */
    COSINE,
    CONSTANT;

    public double factor(int k, int steps, double min) {
        double t = (double) (steps - k) / steps;
        return switch (this) {
            case LINEAR -> (1 - t) * min + t;
            case COSINE -> {
                double s = 0.008;
                yield (1 - min) * Math.pow(Math.cos(0.5 * Math.PI * (1 + s - t) / (1 + s)), 2) + min;
            }
            case CONSTANT -> 1.0;
        };
    }

    public static DiffusionSchedule parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown dt schedule '" + name + "'; known: linear, cosine, constant");
        }
    }
}
