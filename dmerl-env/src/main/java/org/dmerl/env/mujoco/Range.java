package org.dmerl.env.mujoco;

/** An interval of a health check; {@link #containsOpen} and {@link #containsClosed} say which ends count. */
public record Range(double low, double high) {

    /** low &lt; x &lt; high (Gymnasium's Hopper, Walker2d and Humanoid checks). */
    public boolean containsOpen(double x) {
        return low < x && x < high;
    }

    /** low &le; x &le; high (Gymnasium's Ant check). */
    public boolean containsClosed(double x) {
        return low <= x && x <= high;
    }

    public double clip(double x) {
        return Math.clamp(x, low, high);
    }
}
