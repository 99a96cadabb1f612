package org.dmerl.tensor;

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
        Worker w = worker();
        w.submit(first);
        second.run();
        w.await();
    }

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
        private volatile RuntimeException failure;

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
            if (failure != null) throw failure;
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
                } catch (RuntimeException e) {
                    failure = e;
                }
                done = true;
            }
        }
    }
}
