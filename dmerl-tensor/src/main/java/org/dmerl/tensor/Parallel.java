package org.dmerl.tensor;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import java.util.concurrent.locks.LockSupport;

/**
 * An optional second thread for large products. One persistent worker takes half of the work with a spin-then-park
 * handoff; thread count is global ({@code -Ddmerl.threads} or {@link #setThreads}) because the whole learner shares
 * one core budget. Results never depend on timing: {@link #run} gives each half fixed work, and {@link #forEach} hands
 * out tasks whose results do not depend on which thread runs them.
 */
public final class Parallel {

    private static final int MIN_WORK = 1 << 18;
    private static volatile int threads = Integer.getInteger("dmerl.threads", 1);
    private static Worker worker;

    private Parallel() {}

    public static int threads() {
        return threads;
    }

    public static synchronized void setThreads(int n) {
        if (n < 1 || n > 2) throw new IllegalArgumentException("threads must be 1 or 2, got " + n);
        threads = n;
    }

    static boolean worthSplitting(int M, int N, int K) {
        return threads > 1 && M >= 8 && (long) M * N * K >= MIN_WORK;
    }

    /**
     * Runs {@code first} on the worker and {@code second} on the caller; returns when both are done. Pass reusable
     * task objects where this runs per step: a capturing lambda allocates.
     */
    public static void run(Runnable first, Runnable second) {
        // One worker serves one caller at a time. A second learner thread in the same JVM, or a task already running on
        // the worker, runs both halves itself: each half computes the same rows either way, so results do not change.
        if (!BUSY.compareAndSet(false, true)) {
            first.run();
            second.run();
            return;
        }
        try {
            runPair(first, second);
        } finally {
            BUSY.set(false);
        }
    }

    /**
     * Runs {@code body.accept(i)} for every i in [0, count), the two threads claiming the next task as they finish the
     * last: where a host slows one core (shared cloud VMs do, for seconds at a time), the other takes more tasks
     * instead of waiting for a fixed half. Each task must write only its own outputs, and its values must not depend
     * on the thread that runs it. Pass a reusable {@code body} where this runs per step.
     */
    public static void forEach(int count, IntConsumer body) {
        if (threads == 1 || count < 2 || !BUSY.compareAndSet(false, true)) {
            for (int i = 0; i < count; i++) body.accept(i);
            return;
        }
        try {
            CLAIMS.next.set(0);
            CLAIMS.count = count;
            CLAIMS.body = body;
            runPair(CLAIMS, CLAIMS);
        } finally {
            CLAIMS.body = null;
            BUSY.set(false);
        }
    }

    /** The shared task counter of {@link #forEach}; used only while {@link #BUSY} is held. */
    private static final Claims CLAIMS = new Claims();

    private static final class Claims implements Runnable {
        final AtomicInteger next = new AtomicInteger();
        int count;
        IntConsumer body;

        @Override
        public void run() {
            // count and body were written before the handoff, whose volatile write and read order them for the worker
            for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) body.accept(i);
        }
    }

    /** The handoff itself; the caller holds {@link #BUSY}. */
    private static void runPair(Runnable first, Runnable second) {
        Worker w = worker();
        w.submit(first);
        Throwable failure = null;
        try {
            second.run();
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        // wait for the worker even when our half failed: it must not still be writing when the caller moves on
        try {
            w.await();
        } catch (RuntimeException | Error e) {
            if (failure == null) failure = e;
            else failure.addSuppressed(e);
        }
        if (failure instanceof RuntimeException e) throw e;
        if (failure instanceof Error e) throw e;
    }

    private static final AtomicBoolean BUSY = new AtomicBoolean();

    private static synchronized Worker worker() {
        if (worker == null) {
            worker = new Worker();
            worker.start();
        }
        return worker;
    }

    private static final class Worker extends Thread {
        private volatile Runnable task;
        private volatile boolean done;
        private volatile Throwable failure;

        Worker() {
            super("dmerl-gemm-worker");
            setDaemon(true);
        }

        void submit(Runnable r) {
            done = false;
            failure = null;
            task = r;
            LockSupport.unpark(this);
        }

        void await() {
            int spins = 0;
            while (!done) {
                if (++spins > 1000) Thread.onSpinWait();
            }
            Throwable f = failure;
            if (f instanceof RuntimeException e) throw e;
            if (f instanceof Error e) throw e;
        }

        @Override
        public void run() {
            while (true) {
                Runnable r = task;
                if (r == null) {
                    for (int i = 0; i < 20_000 && task == null; i++) Thread.onSpinWait();
                    if (task == null) LockSupport.parkNanos(50_000);
                    continue;
                }
                task = null;
                try {
                    r.run();
                } catch (RuntimeException | Error e) {
                    failure = e;   // an Error too: a dead worker would leave the caller spinning forever
                }
                done = true;
            }
        }
    }
}
