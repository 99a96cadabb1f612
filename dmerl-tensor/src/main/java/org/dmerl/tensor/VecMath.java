package org.dmerl.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp and tanh on float vectors built from IEEE add/mul/div/fma only. The Vector API's own EXP/TANH call SVML when
 * compiled and a scalar loop when interpreted; their last bits differ, and which one runs depends on JIT timing, so a
 * run would not reproduce bit for bit. These give the same bits in every execution mode.
 */
final class VecMath {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693145751953125f;
    private static final float LN2_LO = 1.428606765330187045e-06f;
    private static final float ROUND_MAGIC = 12582912f; // 1.5·2^23: adding and subtracting rounds to an integer

    private VecMath() {}

    /**
     * x with every subnormal lane replaced by zero (zeros and normal values kept). On Intel cores every vector
     * instruction that reads or writes a subnormal lane takes a microcode assist of about a hundred cycles; Java cannot
     * set the flush-to-zero mode, so the few ops that produce such values in training flush them themselves. Values
     * below 2⁻¹²⁶ ≈ 1.2·10⁻³⁸ vanish against anything they are later added to, and an Adam step from them is far below
     * a weight's float spacing, so results keep their bits (docs/results.md, "Speed", "Eleventh session").
     */
    static FloatVector flushSubnormals(FloatVector x) {
        FloatVector magnitude = x.abs();
        return x.blend(0f, magnitude.lt(Float.MIN_NORMAL).andNot(magnitude.eq(0f)));
    }

    /** The scalar form of {@link #flushSubnormals(FloatVector)}. */
    static float flushSubnormal(float x) {
        return x != 0f && Math.abs(x) < Float.MIN_NORMAL ? 0f : x;
    }

    /** e^x, relative error about 2e-7, for x clamped to [−87, 88]. */
    static FloatVector exp(FloatVector x) {
        x = x.max(-87f).min(88f);
        FloatVector n = x.fma(LOG2E, ROUND_MAGIC).sub(ROUND_MAGIC);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), x);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        // Taylor polynomial of degree 6 on |r| ≤ ln2/2
        FloatVector p = FloatVector.broadcast(S, 1f / 720f);
        p = p.fma(r, FloatVector.broadcast(S, 1f / 120f));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 24f));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 6f));
        p = p.fma(r, FloatVector.broadcast(S, 0.5f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(bits.reinterpretAsFloats());
    }

    /** tanh(x) = sign(x)·(1 − 2/(e^{2|x|} + 1)). */
    static FloatVector tanh(FloatVector x) {
        FloatVector ax = x.abs().min(20f);
        FloatVector e = exp(ax.mul(2f));
        FloatVector t = FloatVector.broadcast(S, 1f).sub(FloatVector.broadcast(S, 2f).div(e.add(1f)));
        return t.blend(t.neg(), x.compare(VectorOperators.LT, 0f));
    }

    /** Scalar versions with exactly the same arithmetic, for loop tails. */
    static float exp(float x) {
        x = Math.max(-87f, Math.min(88f, x));
        float n = Math.fma(x, LOG2E, ROUND_MAGIC) - ROUND_MAGIC;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = 1f / 720f;
        p = Math.fma(p, r, 1f / 120f);
        p = Math.fma(p, r, 1f / 24f);
        p = Math.fma(p, r, 1f / 6f);
        p = Math.fma(p, r, 0.5f);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        return p * Float.intBitsToFloat(((int) n + 127) << 23);
    }

    static float tanh(float x) {
        float ax = Math.min(Math.abs(x), 20f);
        float t = 1f - 2f / (exp(2f * ax) + 1f);
        return x < 0 ? -t : t;
    }
}
