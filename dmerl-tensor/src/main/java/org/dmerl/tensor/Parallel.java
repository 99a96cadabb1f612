package org.dmerl.tensor;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * An optional second thread for large products. One persistent worker takes half of the work with a spin-then-park
 * handoff; thread count is global ({@code -Ddmerl.threads} or {@link #setThreads}) because the whole learner shares
 * one core budget. Results never depend on timing: {@link #run} gives each half fixed work, and {@link #forEach} hands
 * out tasks whose results do not depend on which thread runs them.
 */
public final class Parallel {

    private static final int MIN_WORK = 1 << 18;
    /**
     * Elementwise work below this many elements stays on the calling thread: a handoff costs a few microseconds, a
     * pass over 16k floats about as much.
     */
    public static final int MIN_ELEMENTS = 1 << 14;
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

    /**
     * Rows [0, workerRows(rows)) of work split by rows go to the worker, the rest to the caller. Products, elementwise
     * passes, gradient zeroing and Adam all split this way, so each core keeps touching the rows it wrote: handing out
     * tasks to whichever thread was free made every op read rows the other core had just written (docs/results.md,
     * "Eleventh session").
     */
    static int workerRows(int rows) {
        return (rows / 2 + 3) & ~3;
    }

    /**
     * The worker's elements [0, workerElements(…)) of a row-major rows × cols array: its {@link #workerRows}, or half
     * of a few-row array, ending on a multiple of {@code vectorLength} so each element takes the vector or scalar path
     * it would take unsplit.
     */
    static int workerElements(int rows, int cols, int vectorLength) {
        int n = rows >= 8 ? workerRows(rows) * cols : rows * cols / 2;
        return n / vectorLength * vectorLength;
    }

    static boolean worthSplitting(int M, int N, int K) {
        return threads > 1 && M >= 8 && (long) M * N * K >= MIN_WORK;
    }

    /**
     * Runs {@code first} on the worker and {@code second} on the caller (both on the caller with one thread); returns
     * when both are done. Pass reusable task objects where this runs per step: a capturing lambda allocates.
     */
    public static void run(Runnable first, Runnable second) {
        // One worker serves one caller at a time. A second learner thread in the same JVM, or a task already running on
        // the worker, runs both halves itself: each half computes the same rows either way, so results do not change.
        if (threads == 1 || !BUSY.compareAndSet(false, true)) {
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
        // A worker that has not taken its task yet (parked: waking an idle vCPU took 0.1–3 ms on this project's VM) is
        // not waited for: the caller takes the task back and runs it. Otherwise wait for the worker, even when our half
        // failed: it must not still be writing when the caller moves on.
        try {
            if (w.takeBack(first)) first.run();
            else w.await();
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

    /**
     * How long an idle worker spins before it parks. Inside an update or an action the next task follows within
     * microseconds and a spinning worker takes it at once; a parked one takes 0.1–3 ms to wake on this project's VM,
     * during which the caller works alone ({@link Worker#takeBack}). The worker used to spin 20,000 times (about 600 µs
     * here) and park for only 50 µs at a time, so an idle worker kept about 90 % of a core busy for as long as the JVM
     * ran.
     */
    static final long IDLE_SPIN_NANOS = 500_000;

    private static final class Worker extends Thread {
        private final AtomicReference<Runnable> task = new AtomicReference<>();
        private volatile boolean done;
        private volatile Throwable failure;
        private volatile boolean parked;

        Worker() {
            super("dmerl-gemm-worker");
            setDaemon(true);
        }

        void submit(Runnable r) {
            done = false;
            failure = null;
            task.set(r);
            // volatile write of task, then read of parked; the worker writes parked, then reads task: one of the two
            // sees the other, so a task is never left waiting on a parked worker
            if (parked) LockSupport.unpark(this);
        }

        /** True if {@code r} was still waiting and is now the caller's to run; false if the worker has taken it. */
        boolean takeBack(Runnable r) {
            return task.compareAndSet(r, null);
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
                Runnable r = awaitTask();
                try {
                    r.run();
                } catch (RuntimeException | Error e) {
                    failure = e;   // an Error too: a dead worker would leave the caller spinning forever
                }
                done = true;
            }
        }

        /** Takes the next task: spins for {@link #IDLE_SPIN_NANOS}, then parks until {@link #submit} wakes it. */
        private Runnable awaitTask() {
            long spinUntil = System.nanoTime() + IDLE_SPIN_NANOS;
            while (true) {
                for (int i = 0; i < 64; i++) {
                    if (task.get() != null) {
                        Runnable r = task.getAndSet(null);
                        if (r != null) return r;   // null: the caller took it back first
                    }
                    Thread.onSpinWait();
                }
                if (System.nanoTime() < spinUntil) continue;
                parked = true;
                try {
                    while (task.get() == null) LockSupport.park(this);
                } finally {
                    parked = false;
                }
                spinUntil = System.nanoTime() + IDLE_SPIN_NANOS;
            }
        }
    }
}
