package org.dmerl.env;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/** A {@link VectorEnv} that steps its copies one after another on the calling thread. */
public final class SyncVectorEnv implements VectorEnv {

    private final List<Env> envs;
    private final BoxSpace observationSpace;
    private final BoxSpace actionSpace;

    /** {@code numEnvs} copies, each built by one call of {@code factory}. */
    public SyncVectorEnv(int numEnvs, Supplier<? extends Env> factory) {
        this(build(numEnvs, factory));
    }

    /** Takes ownership of {@code envs}: closing this closes them. They must share their spaces. */
    public SyncVectorEnv(List<? extends Env> envs) {
        Objects.requireNonNull(envs, "SyncVectorEnv needs a list of envs, got null");
        if (envs.isEmpty()) {
            throw new IllegalArgumentException("SyncVectorEnv needs at least one env");
        }
        this.envs = List.copyOf(envs);
        Env first = this.envs.getFirst();
        this.observationSpace = first.observationSpace();
        this.actionSpace = first.actionSpace();
        for (int i = 1; i < this.envs.size(); i++) {
            Env other = this.envs.get(i);
            requireSameBox("observation", 0, observationSpace, i, other.observationSpace());
            requireSameBox("action", 0, actionSpace, i, other.actionSpace());
        }
    }

    private static List<Env> build(int numEnvs, Supplier<? extends Env> factory) {
        if (numEnvs <= 0) {
            throw new IllegalArgumentException("SyncVectorEnv numEnvs must be positive, got " + numEnvs);
        }
        Objects.requireNonNull(factory, "SyncVectorEnv needs an env factory, got null");
        var envs = new ArrayList<Env>(numEnvs);
        for (int i = 0; i < numEnvs; i++) {
            envs.add(Objects.requireNonNull(factory.get(), "SyncVectorEnv factory returned null for copy " + i));
        }
        return envs;
    }

    // BoxSpace is a record of arrays, so its equals compares references; compare the bounds instead.
    private static void requireSameBox(String what, int i, BoxSpace a, int j, BoxSpace b) {
        if (!Arrays.equals(a.low(), b.low()) || !Arrays.equals(a.high(), b.high())) {
            throw new IllegalArgumentException("SyncVectorEnv copies must share their " + what + " space: copy " + i
                    + " has " + a + ", copy " + j + " has " + b);
        }
    }

    @Override
    public int numEnvs() {
        return envs.size();
    }

    @Override
    public BoxSpace singleObservationSpace() {
        return observationSpace;
    }

    @Override
    public BoxSpace singleActionSpace() {
        return actionSpace;
    }

    @Override
    public double[][] reset(long seed) {
        double[][] observations = new double[envs.size()][];
        for (int i = 0; i < observations.length; i++) observations[i] = envs.get(i).reset(seed + i);
        return observations;
    }

    @Override
    public double[][] reset() {
        double[][] observations = new double[envs.size()][];
        for (int i = 0; i < observations.length; i++) observations[i] = envs.get(i).reset();
        return observations;
    }

    @Override
    public VectorStep step(double[][] actions) {
        VectorStepBuilder.checkActions(actions, envs.size(), actionSpace);
        int n = envs.size();
        var step = new VectorStepBuilder(n);
        for (int i = 0; i < n; i++) step.record(i, envs.get(i), envs.get(i).step(actions[i]));
        return step.build();
    }

    @Override
    public Env env(int index) {
        return envs.get(index);
    }

    @Override
    public void close() {
        RuntimeException failure = null;
        for (Env env : envs) {
            try {
                env.close();
            } catch (RuntimeException e) {
                // Close the remaining copies anyway so no native memory leaks; report the first failure.
                if (failure == null) failure = e; else failure.addSuppressed(e);
            }
        }
        if (failure != null) throw failure;
    }
}
