package org.dmerl.tensor;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * An optional second thread for large products. One persistent worker takes half of the work with a spin-then-park
 * handoff; thread count is global ({@code -Ddmerl.threads} or {@link #setThreads}) because the whole learner shares
 * one core budget. Splitting is deterministic: each half always computes the same rows, so results do not depend on
 * timing.
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
        } finally {
            BUSY.set(false);
        }
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
