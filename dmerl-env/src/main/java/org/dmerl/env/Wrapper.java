package org.dmerl.env;

import java.util.Optional;

/** A decorator around an environment; by default it forwards every call. */
public abstract class Wrapper implements Env {

    protected final Env env;

    protected Wrapper(Env env) {
        this.env = env;
    }

    public Env inner() {
        return env;
    }

    @Override public String id() { return env.id(); }
    @Override public BoxSpace observationSpace() { return env.observationSpace(); }
    @Override public BoxSpace actionSpace() { return env.actionSpace(); }
    @Override public double[] reset(long seed) { return env.reset(seed); }
    @Override public double[] reset() { return env.reset(); }
    @Override public StepResult step(double[] action) { return env.step(action); }
    @Override public void close() { env.close(); }
    @Override public void collectRngs(java.util.List<org.dmerl.tensor.Rng> out) { env.collectRngs(out); }

    @Override
    public <T> Optional<T> unwrap(Class<T> type) {
        return type.isInstance(this) ? Optional.of(type.cast(this)) : env.unwrap(type);
    }
}
