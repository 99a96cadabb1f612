package org.dmerl.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The forward values of the activation ops on plain arrays. {@link Graph} records its ops through these, and inference
 * paths that skip the tape (batch-1 acting, {@code Mlp.forwardRow}) call them directly, so both give the same bits.
 */
public final class Elementwise {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    static final float SQRT_2_OVER_PI = (float) Math.sqrt(2 / Math.PI);
    static final float GELU_C = 0.044715f;

    private Elementwise() {}

    /*
     * Each function maps elements [from, to). Vector lanes and the scalar tail round differently, so a caller that
     * splits a row must start each part at a multiple of the vector length to get the unsplit row's bits.
     */

    public static void relu(float[] in, float[] out, int n) { relu(in, out, 0, n); }
    public static void tanh(float[] in, float[] out, int n) { tanh(in, out, 0, n); }
    public static void gelu(float[] in, float[] out, int n) { gelu(in, out, 0, n); }
    public static void silu(float[] in, float[] out, int n) { silu(in, out, 0, n); }
    public static void mish(float[] in, float[] out, int n) { mish(in, out, 0, n); }

    public static void relu(float[] in, float[] out, int from, int to) {
        int i = from, upper = from + S.loopBound(to - from);
        for (; i < upper; i += L) FloatVector.fromArray(S, in, i).max(0f).intoArray(out, i);
        for (; i < to; i++) out[i] = Math.max(in[i], 0f);
    }

    public static void tanh(float[] in, float[] out, int from, int to) {
        int i = from, upper = from + S.loopBound(to - from);
        for (; i < upper; i += L) VecMath.tanh(FloatVector.fromArray(S, in, i)).intoArray(out, i);
        for (; i < to; i++) out[i] = VecMath.tanh(in[i]);
    }

    /** GELU, tanh approximation (as Flax's default and PyTorch's approximate='tanh'). */
    public static void gelu(float[] in, float[] out, int from, int to) {
        int i = from, upper = from + S.loopBound(to - from);
        for (; i < upper; i += L) {
            FloatVector x = FloatVector.fromArray(S, in, i);
            FloatVector inner = x.mul(x).mul(GELU_C).add(1f).mul(x).mul(SQRT_2_OVER_PI);
            x.mul(0.5f).mul(VecMath.tanh(inner).add(1f)).intoArray(out, i);
        }
        for (; i < to; i++) {
            float x = in[i];
            out[i] = 0.5f * x * (1f + VecMath.tanh(x * (GELU_C * x * x + 1f) * SQRT_2_OVER_PI));
        }
    }

    public static void silu(float[] in, float[] out, int from, int to) {
        for (int i = from; i < to; i++) out[i] = in[i] * Graph.sigmoid(in[i]);
    }

    public static void mish(float[] in, float[] out, int from, int to) {
        for (int i = from; i < to; i++) out[i] = in[i] * VecMath.tanh(Graph.softplus(in[i]));
    }
}
