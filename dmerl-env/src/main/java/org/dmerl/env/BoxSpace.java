package org.dmerl.env;

import java.util.Arrays;

/** A box in R^n: per-dimension bounds, which may be infinite. */
public record BoxSpace(double[] low, double[] high) {

    public BoxSpace {
        if (low.length != high.length) {
            throw new IllegalArgumentException("BoxSpace bounds differ in length: " + low.length + " vs " + high.length);
        }
        for (int i = 0; i < low.length; i++) {
            if (!(low[i] <= high[i])) {
                throw new IllegalArgumentException("BoxSpace low[" + i + "]=" + low[i] + " > high[" + i + "]=" + high[i]);
            }
        }
        low = low.clone();
        high = high.clone();
    }

    public static BoxSpace uniform(int dim, double low, double high) {
        double[] lo = new double[dim], hi = new double[dim];
        Arrays.fill(lo, low);
        Arrays.fill(hi, high);
        return new BoxSpace(lo, hi);
    }

    public static BoxSpace unbounded(int dim) {
        return uniform(dim, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);
    }

    public int dim() {
        return low.length;
    }

    public boolean contains(double[] x) {
        if (x.length != dim()) return false;
        for (int i = 0; i < x.length; i++) {
            if (!(x[i] >= low[i] && x[i] <= high[i])) return false;
        }
        return true;
    }

    /** Throws a clear error when {@code x} has the wrong length. */
    public void checkShape(double[] x, String what) {
        if (x == null || x.length != dim()) {
            throw new IllegalArgumentException(what + " has length " + (x == null ? "null" : x.length)
                    + ", expected " + dim());
        }
    }

    @Override
    public String toString() {
        return "Box(" + dim() + ", low=" + Arrays.toString(low) + ", high=" + Arrays.toString(high) + ")";
    }
}
