package org.dmerl.nn;

import java.util.ArrayList;
import java.util.List;

import org.dmerl.tensor.Tensor;

/** Something with trainable parameters. */
public interface Module {

    List<Tensor> parameters();

    default void setRequiresGrad(boolean value) {
        for (Tensor p : parameters()) p.setRequiresGrad(value);
    }

    default int parameterCount() {
        int n = 0;
        for (Tensor p : parameters()) n += p.size();
        return n;
    }

    /** Copies every parameter value from {@code source}, which must have the same structure. */
    default void copyFrom(Module source) {
        List<Tensor> dst = parameters(), src = source.parameters();
        checkSameStructure(dst, src);
        for (int i = 0; i < dst.size(); i++) dst.get(i).copyFrom(src.get(i));
    }

    /** target ← τ·source + (1 − τ)·target (Polyak averaging of target networks). */
    default void polyakFrom(Module source, float tau) {
        List<Tensor> dst = parameters(), src = source.parameters();
        checkSameStructure(dst, src);
        for (int i = 0; i < dst.size(); i++) {
            float[] d = dst.get(i).data, s = src.get(i).data;
            for (int j = 0, n = dst.get(i).size(); j < n; j++) d[j] += tau * (s[j] - d[j]);
            dst.get(i).touch();
        }
    }

    private static void checkSameStructure(List<Tensor> dst, List<Tensor> src) {
        if (dst.size() != src.size()) {
            throw new IllegalArgumentException("modules differ: " + dst.size() + " vs " + src.size() + " parameters");
        }
        for (int i = 0; i < dst.size(); i++) {
            if (dst.get(i).rows() != src.get(i).rows() || dst.get(i).cols() != src.get(i).cols()) {
                throw new IllegalArgumentException("parameter " + i + " differs: " + dst.get(i).shape() + " vs "
                        + src.get(i).shape());
            }
        }
    }

    static List<Tensor> concat(Module... modules) {
        List<Tensor> all = new ArrayList<>();
        for (Module m : modules) all.addAll(m.parameters());
        return all;
    }
}
