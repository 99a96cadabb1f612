package org.dmerl.nn;

import org.dmerl.tensor.Graph;
import org.dmerl.tensor.Tensor;

/** Hidden-layer nonlinearities. */
public enum Activation {
    RELU, TANH, GELU, SILU, MISH, IDENTITY;

    public Tensor apply(Graph g, Tensor x) {
        return switch (this) {
            case RELU -> g.relu(x);
            case TANH -> g.tanh(x);
            case GELU -> g.gelu(x);
            case SILU -> g.silu(x);
            case MISH -> g.mish(x);
            case IDENTITY -> x;
        };
    }

    public static Activation parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown activation '" + name + "'; known: relu, tanh, gelu, silu, mish, identity");
        }
    }
}
