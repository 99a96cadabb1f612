package org.dmerl.tensor;

import java.util.Arrays;

/**
 * A float32 matrix of shape [rows, cols], row-major: a batch of feature vectors. A tensor is either a
 * parameter/constant owned by the caller, or a node that a {@link Graph} recorded and will reuse in its next pass.
 *
 * <p>Nodes keep the operation and operands that made them so that {@link Graph#backward} can walk the tape.
 */
public final class Tensor {

    int rows, cols;
    public float[] data;
    /** Gradient of the loss with respect to this tensor; allocated for tensors that require gradients. */
    public float[] grad;
    boolean requiresGrad;
    /** Bumped whenever a parameter's values change in place (optimiser, Polyak); invalidates cached transposes. */
    long version;

    // Tape record (nodes only).
    Op op = Op.LEAF;
    Tensor a, b, c;
    Tensor[] parts;
    float s0, s1;
    int i0, i1;
    float[] aux1, aux2;
    final String name;

    // Backward bookkeeping (nodes only): the pass that last walked this node, the last node to read it in the forward
    // pass (the first to write its gradient going back), and whether that write may overwrite the unzeroed gradient.
    long backwardPass;
    Tensor lastConsumer;
    boolean gradPending;

    // Cached transpose for matmul backward, valid while transposeVersion == version.
    float[] transposed;
    long transposeVersion = -1;

    Tensor(int rows, int cols, String name) {
        this.rows = rows;
        this.cols = cols;
        this.data = new float[Math.max(1, rows * cols)];
        this.name = name;
    }

    /** A trainable parameter: requires gradients and owns a gradient buffer. */
    public static Tensor param(String name, int rows, int cols) {
        Tensor t = new Tensor(rows, cols, name);
        t.requiresGrad = true;
        t.grad = new float[t.data.length];
        return t;
    }

    /** A constant input (no gradient) of the given shape, zero-filled. */
    public static Tensor zeros(int rows, int cols) {
        checkShape(rows, cols);
        return new Tensor(rows, cols, null);
    }

    public static Tensor of(int rows, int cols, float... values) {
        checkShape(rows, cols);
        if (values.length != rows * cols) {
            throw new IllegalArgumentException("expected " + rows * cols + " values for shape [" + rows + ", " + cols
                    + "], got " + values.length);
        }
        Tensor t = new Tensor(rows, cols, null);
        System.arraycopy(values, 0, t.data, 0, values.length);
        return t;
    }

    private static void checkShape(int rows, int cols) {
        if (rows <= 0 || cols <= 0) throw new IllegalArgumentException("bad shape [" + rows + ", " + cols + "]");
    }

    public int rows() { return rows; }
    public int cols() { return cols; }
    public int size() { return rows * cols; }
    public boolean requiresGrad() { return requiresGrad; }
    public String name() { return name; }
    public long version() { return version; }

    /** Freezes or unfreezes a parameter: frozen parameters pass gradients through but do not accumulate their own. */
    public void setRequiresGrad(boolean value) {
        requiresGrad = value;
        if (value && grad == null) grad = new float[data.length];
    }

    /** Marks in-place changes to the values (call after writing {@link #data} directly). */
    public void touch() {
        version++;
    }

    public float get(int r, int c) {
        return data[r * cols + c];
    }

    public void set(int r, int c, float v) {
        data[r * cols + c] = v;
    }

    /** Value of a [1,1] tensor. */
    public float item() {
        if (rows * cols != 1) throw new IllegalStateException("item() needs a [1,1] tensor, shape is " + shape());
        return data[0];
    }

    /** Sets the shape of a caller-owned input buffer (e.g. a smaller last batch), growing storage if needed. */
    public void reshapeInput(int newRows, int newCols) {
        checkShape(newRows, newCols);
        if (data.length < newRows * newCols) data = new float[newRows * newCols];
        rows = newRows;
        cols = newCols;
    }

    public void zeroGrad() {
        if (grad != null) Arrays.fill(grad, 0, rows * cols, 0f);
    }

    public void copyFrom(Tensor other) {
        if (other.rows != rows || other.cols != cols) {
            throw new IllegalArgumentException("shape mismatch: " + shape() + " vs " + other.shape());
        }
        System.arraycopy(other.data, 0, data, 0, rows * cols);
        version++;
    }

    public String shape() {
        return "[" + rows + ", " + cols + "]";
    }

    public float[] toArray() {
        return Arrays.copyOf(data, rows * cols);
    }

    @Override
    public String toString() {
        return (name == null ? "Tensor" : name) + shape() + (op == Op.LEAF ? "" : " <" + op + ">");
    }
}
