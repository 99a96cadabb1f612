package org.dmerl.env.mujoco;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A live view of one {@code mjtNum} array inside {@link MjData} (e.g. {@code qpos}, {@code cfrc_ext}), as
 * {@code rows x cols} doubles. Reads and writes go straight to MuJoCo's memory; after the owning {@link MjData} is
 * closed every access throws {@link IllegalStateException} instead of touching freed memory.
 */
public final class MjArray {

    private final String name;
    private final MemorySegment segment;
    private final int rows;
    private final int cols;
    private final Object owner; // keeps the MjData (and so its native memory) alive while a view is in use

    MjArray(String name, MemorySegment segment, int rows, int cols, Object owner) {
        this.name = name;
        this.segment = segment;
        this.rows = rows;
        this.cols = cols;
        this.owner = owner;
    }

    public String name() {
        return name;
    }

    /** {@return the number of doubles: rows · cols} */
    public int length() {
        return rows * cols;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public double get(int index) {
        return segment.getAtIndex(JAVA_DOUBLE, index);
    }

    public double get(int row, int col) {
        checkColumn(col);
        return segment.getAtIndex(JAVA_DOUBLE, (long) row * cols + col);
    }

    public void set(int index, double value) {
        segment.setAtIndex(JAVA_DOUBLE, index, value);
    }

    public void set(int row, int col, double value) {
        checkColumn(col);
        segment.setAtIndex(JAVA_DOUBLE, (long) row * cols + col, value);
    }

    /** {@return a copy of the whole array} */
    public double[] toArray() {
        return segment.toArray(JAVA_DOUBLE);
    }

    /** Copies {@code count} doubles from index {@code from} into {@code target[targetPos...]}. */
    public void copyTo(int from, double[] target, int targetPos, int count) {
        MemorySegment.copy(segment, JAVA_DOUBLE, (long) from * Double.BYTES, target, targetPos, count);
    }

    /** Overwrites the whole array with {@code values}, which must have exactly {@link #length()} entries. */
    public void copyFrom(double[] values) {
        if (values.length != length()) {
            throw new IllegalArgumentException(name + " has " + length() + " entries, got " + values.length);
        }
        MemorySegment.copy(values, 0, segment, JAVA_DOUBLE, 0, values.length);
    }

    @Override
    public String toString() {
        return name + "[" + rows + (cols == 1 ? "" : "x" + cols) + "]=" + Arrays.toString(toArray());
    }

    private void checkColumn(int col) {
        if (col < 0 || col >= cols) throw new IndexOutOfBoundsException(name + " column " + col + " of " + cols);
    }

    Object owner() {
        return owner;
    }
}
