package org.dmerl.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * Floats in native memory that starts on a cache-line (64-byte) boundary: the packed weights that batch-1 products
 * stream ({@link Gemm#packPanels}, {@link Gemm#packNarrow}). A Java array's elements start wherever the collector put
 * the array, and on an AVX-512 core a 64-byte vector load that straddles two cache lines costs about twice one that
 * does not: two 256×256 matrix-vector products took 5.7 µs from an unaligned array and 3.6 µs from an aligned one, so
 * the K = 8 diffusion sample ran at 50 or at 59 µs depending on where its arrays happened to land (docs/results.md,
 * "Eleventh session"). The memory is freed when this object is collected.
 */
public final class AlignedFloats {

    static final long ALIGNMENT = 64;

    final MemorySegment segment;
    private final int length;

    public AlignedFloats(int length) {
        if (length < 0) throw new IllegalArgumentException("AlignedFloats: negative length " + length);
        this.length = length;
        segment = Arena.ofAuto().allocate(Math.max(Float.BYTES, (long) Float.BYTES * length), ALIGNMENT);
    }

    public int length() {
        return length;
    }

    public float get(int i) {
        return segment.getAtIndex(ValueLayout.JAVA_FLOAT, Objects.checkIndex(i, length));
    }

    /** Whether the first element sits on a cache-line boundary (it always does; for tests). */
    public boolean cacheLineAligned() {
        return segment.address() % ALIGNMENT == 0;
    }

    /** Elements [at, at + count) = src[from, from + count). */
    void copyFrom(float[] src, int from, int at, int count) {
        MemorySegment.copy(src, from, segment, ValueLayout.JAVA_FLOAT, (long) Float.BYTES * at, count);
    }

    /** Elements [at, at + count) = 0. */
    void zero(int at, int count) {
        segment.asSlice((long) Float.BYTES * at, (long) Float.BYTES * count).fill((byte) 0);
    }
}
