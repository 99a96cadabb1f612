package org.dmerl.env.mujoco;

import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;
import java.util.function.Supplier;
import org.dmerl.env.BoxSpace;
import org.dmerl.env.Env;
import org.dmerl.env.EnvRegistry;
import org.dmerl.env.VectorEnv;
import org.dmerl.env.VectorStep;
import org.dmerl.env.VectorStepBuilder;

/**
 * A {@link VectorEnv} that steps its copies on a pool of worker threads, with the same-step autoreset of
 * {@link VectorStepBuilder}. Each copy is stepped by exactly one thread per call and copies share no mutable state
 * (each MuJoCo env owns its model and data), so the results are identical to stepping the copies one by one.
 *
 * <p>The copies are split into {@code threads} contiguous blocks; the calling thread runs the first block itself, so
 * {@code threads - 1} persistent workers are started, each owning one fixed block. The hand-off is a generation
 * counter with a short spin and then a park, not an executor submission per step, so it costs far less than the
 * physics of a step (tens of microseconds). More threads than cores bring nothing.
 */
public final class ThreadedVectorEnv implements VectorEnv {

    private static final AtomicInteger POOLS = new AtomicInteger();

    private final List<Env> envs;
    private final BoxSpace observationSpace;
    private final BoxSpace actionSpace;
    private final int threads;
    private final Workers workers; // null with one thread
    private final Cleaner.Cleanable stopWorkers; // null with one thread

    /** {@code numEnvs} copies built by {@code factory}, stepped on {@code threads} threads (0: one per core). */
    public ThreadedVectorEnv(int numEnvs, Supplier<? extends Env> factory, int threads) {
        this(build(numEnvs, factory), threads);
    }

    /** Takes ownership of {@code envs} (closing this closes them). They must share their spaces. */
    public ThreadedVectorEnv(List<? extends Env> envs, int threads) {
        Objects.requireNonNull(envs, "ThreadedVectorEnv needs a list of envs, got null");
        if (envs.isEmpty()) throw new IllegalArgumentException("ThreadedVectorEnv needs at least one env");
        if (threads < 0) throw new IllegalArgumentException("ThreadedVectorEnv threads must be >= 0, got " + threads);
        this.envs = List.copyOf(envs);
        this.observationSpace = this.envs.getFirst().observationSpace();
        this.actionSpace = this.envs.getFirst().actionSpace();
        for (int i = 1; i < this.envs.size(); i++) {
            requireSameBox("observation", observationSpace, i, this.envs.get(i).observationSpace());
            requireSameBox("action", actionSpace, i, this.envs.get(i).actionSpace());
        }
        int wanted = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
        this.threads = Math.min(wanted, this.envs.size());
        if (this.threads > 1) {
            workers = new Workers(this.threads, this.envs.size());
            stopWorkers = MjModel.CLEANER.register(this, workers::shutdown); // also after a forgotten close()
        } else {
            workers = null;
            stopWorkers = null;
        }
    }

    /** {@code numEnvs} copies of registered env {@code id} (with its time limit) on {@code threads} threads. */
    public static ThreadedVectorEnv make(String id, Map<String, Object> options, int numEnvs, int threads) {
        return new ThreadedVectorEnv(numEnvs, () -> EnvRegistry.make(id, options), threads);
    }

    private static List<Env> build(int numEnvs, Supplier<? extends Env> factory) {
        if (numEnvs <= 0) throw new IllegalArgumentException("ThreadedVectorEnv numEnvs must be positive, got " + numEnvs);
        Objects.requireNonNull(factory, "ThreadedVectorEnv needs an env factory, got null");
        var envs = new ArrayList<Env>(numEnvs);
        try {
            for (int i = 0; i < numEnvs; i++) {
                envs.add(Objects.requireNonNull(factory.get(), "ThreadedVectorEnv factory returned null for copy " + i));
            }
        } catch (RuntimeException e) {
            for (Env env : envs) env.close(); // do not leak the native memory of the copies already built
            throw e;
        }
        return envs;
    }

    // BoxSpace is a record of arrays, whose equals compares references; compare the bounds.
    private static void requireSameBox(String what, BoxSpace first, int i, BoxSpace other) {
        if (!Arrays.equals(first.low(), other.low()) || !Arrays.equals(first.high(), other.high())) {
            throw new IllegalArgumentException("ThreadedVectorEnv copies must share their " + what + " space: copy 0 has "
                    + first + ", copy " + i + " has " + other);
        }
    }

    public int threads() {
        return threads;
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
        forEachCopy(i -> observations[i] = envs.get(i).reset(seed + i));
        return observations;
    }

    @Override
    public double[][] reset() {
        double[][] observations = new double[envs.size()][];
        forEachCopy(i -> observations[i] = envs.get(i).reset());
        return observations;
    }

    @Override
    public VectorStep step(double[][] actions) {
        VectorStepBuilder.checkActions(actions, envs.size(), actionSpace);
        var step = new VectorStepBuilder(envs.size());
        forEachCopy(i -> step.record(i, envs.get(i), envs.get(i).step(actions[i])));
        return step.build();
    }

    @Override
    public Env env(int index) {
        return envs.get(index);
    }

    @Override
    public void close() {
        if (stopWorkers != null) stopWorkers.clean();
        RuntimeException failure = null;
        for (Env env : envs) {
            try {
                env.close();
            } catch (RuntimeException e) {
                // Close the other copies anyway so no native memory leaks; report the first failure.
                if (failure == null) failure = e; else failure.addSuppressed(e);
            }
        }
        if (failure != null) throw failure;
    }

    /**
     * Runs {@code action} for every copy index, block b of the indices on thread b (block 0 on the caller). Waits for
     * every block before returning or throwing, so no copy is still running when this returns.
     */
    private void forEachCopy(IntConsumer action) {
        if (workers == null) {
            for (int i = 0, n = envs.size(); i < n; i++) action.accept(i);
            return;
        }
        workers.run(action, envs.size() / threads);
    }

    /**
     * Persistent worker threads, worker w owning the fixed block w + 1 of the copies. A call publishes the task and a
     * new generation number; each worker spins briefly for it (an env step takes tens of microseconds, so the next
     * call usually comes before the spin ends), then parks until unparked. The caller waits for the workers' done
     * generations the same way. No executor, queue, future or lambda per call.
     *
     * <p>Holds no reference to the vector env, so a forgotten {@code close()} still lets the copies be collected; a
     * cleaner then stops the threads.
     */
    static final class Workers {

        /**
         * The most a waiting thread spins before it parks. Each waiter adapts its own budget to the waits it sees:
         * {@link #adapt}.
         */
        static final long MAX_SPIN_NANOS = 500_000;

        /**
         * The next spin budget after a wait of {@code waitedNanos}, whether it ended while spinning or in a park. The
         * budget grows after a wait that a spin of at most {@link #MAX_SPIN_NANOS} covers, whether or not this one's
         * budget was long enough, and shrinks fast after a longer one (an idle caller, or an
         * oversubscribed machine, where spinning would only burn the CPU the awaited thread needs). It used to shrink
         * after every park: once a few host preemptions had cut it to zero, no spin could succeed again, and every
         * later wait parked.
         */
        static long adapt(long budget, long waitedNanos) {
            if (waitedNanos > MAX_SPIN_NANOS) return budget / 4;
            return Math.min(Math.max(2 * budget + 1_000, waitedNanos + waitedNanos / 2), MAX_SPIN_NANOS);
        }

        private long callerSpin = MAX_SPIN_NANOS / 4; // used by the calling thread only

        private final Worker[] workers;
        private volatile int generation;
        private volatile boolean closed;
        private volatile IntConsumer task;
        private volatile Thread caller;
        private volatile boolean callerParked;

        Workers(int threads, int numEnvs) {
            int pool = POOLS.incrementAndGet();
            workers = new Worker[threads - 1];
            for (int b = 1; b < threads; b++) {
                var worker = new Worker(this, b * numEnvs / threads, (b + 1) * numEnvs / threads);
                Thread thread = new Thread(worker, "dmerl-vector-env-" + pool + "-" + b);
                thread.setDaemon(true); // a forgotten close() must not keep the JVM alive
                worker.thread = thread;
                workers[b - 1] = worker;
            }
            for (Worker worker : workers) worker.thread.start();
        }

        /** Runs {@code action} on the workers' blocks and on {@code [0, callerTo)} here; waits for all. */
        void run(IntConsumer action, int callerTo) {
            if (closed) throw new IllegalStateException("ThreadedVectorEnv is closed");
            task = action;
            caller = Thread.currentThread();
            int g = generation + 1;
            generation = g; // volatile write publishes task and caller
            for (Worker worker : workers) {
                if (worker.parked) LockSupport.unpark(worker.thread);
            }
            RuntimeException failure = null;
            try {
                for (int i = 0; i < callerTo; i++) action.accept(i);
            } catch (RuntimeException e) {
                failure = e;
            }
            boolean interrupted = false;
            for (Worker worker : workers) {
                interrupted |= awaitDone(worker, g);
                Throwable error = worker.failure;
                if (error != null) {
                    worker.failure = null;
                    RuntimeException cause = error instanceof RuntimeException r ? r
                            : new IllegalStateException("vector env copy failed: " + error, error);
                    if (failure == null) failure = cause; else failure.addSuppressed(cause);
                }
            }
            task = null;
            if (interrupted) Thread.currentThread().interrupt();
            if (failure != null) throw failure;
        }

        /** Waits until {@code worker} finished generation {@code g}; returns whether this thread was interrupted. */
        private boolean awaitDone(Worker worker, int g) {
            if (worker.done == g) return false;
            long start = System.nanoTime(), deadline = start + callerSpin;
            boolean interrupted = false;
            while (worker.done != g) {
                if (System.nanoTime() - deadline < 0) {
                    Thread.onSpinWait();
                    continue;
                }
                callerParked = true;
                while (worker.done != g) {
                    LockSupport.park(this);
                    // Keep waiting: a copy must never be left running behind our back.
                    if (Thread.interrupted()) interrupted = true;
                }
                callerParked = false;
            }
            callerSpin = adapt(callerSpin, System.nanoTime() - start);
            return interrupted;
        }

        /** A worker's loop: wait for a new generation, run its block, report. */
        void loop(Worker worker) {
            int seen = 0;
            while (true) {
                int g = awaitGeneration(worker, seen);
                if (g < 0) return;
                seen = g;
                try {
                    IntConsumer action = task;
                    for (int i = worker.from; i < worker.to; i++) action.accept(i);
                } catch (Throwable t) {
                    worker.failure = t;
                }
                worker.done = g; // volatile write publishes failure
                if (callerParked) LockSupport.unpark(caller);
            }
        }

        /** The next generation after {@code seen}, or -1 once closed. */
        private int awaitGeneration(Worker worker, int seen) {
            long start = System.nanoTime(), deadline = start + worker.spin;
            boolean parked = false;
            while (true) {
                if (closed) return -1;
                int g = generation;
                if (g != seen) {
                    worker.spin = adapt(worker.spin, System.nanoTime() - start);
                    return g;
                }
                if (!parked && System.nanoTime() - deadline < 0) {
                    Thread.onSpinWait();
                    continue;
                }
                parked = true;
                worker.parked = true;
                // Re-check after announcing the park: run() writes generation, then reads parked (both volatile), so
                // either it sees parked and unparks us, or we see the new generation here.
                while (!closed && generation == seen) {
                    LockSupport.park(this);
                    Thread.interrupted(); // only close() stops a worker
                }
                worker.parked = false;
            }
        }

        /** Stops the threads (each finishes its current block first); idempotent. */
        void shutdown() {
            closed = true;
            for (Worker worker : workers) LockSupport.unpark(worker.thread);
        }
    }

    private static final class Worker implements Runnable {
        private final Workers owner;
        final int from, to;
        Thread thread;
        volatile boolean parked;
        volatile int done;
        long spin = Workers.MAX_SPIN_NANOS / 4; // this worker's adaptive spin budget
        Throwable failure; // published by the write of done

        Worker(Workers owner, int from, int to) {
            this.owner = owner;
            this.from = from;
            this.to = to;
        }

        @Override
        public void run() {
            owner.loop(this);
        }
    }
}
