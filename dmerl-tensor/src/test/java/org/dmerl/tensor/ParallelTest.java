package org.dmerl.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The shared compute worker under more than one caller, and failures on either half. Each broken case used to hang
 * (a nested split waited on itself; an Error killed the worker), hence the timeouts.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ParallelTest {

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(1);
    }

    /** C = A·B for a fresh 96×128×80 product, computed at the current thread count. */
    private static float[] product(float[] A, float[] B) {
        float[] C = new float[96 * 128];
        Gemm.gemm(96, 128, 80, A, 0, 80, 1, B, 0, 128, C, 0, 128);
        return C;
    }

    private static float[] random(int n, long seed) {
        Rng rng = new Rng(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rng.gaussian();
        return a;
    }

    @Test
    void twoLearnerThreadsSharingTheWorkerGetTheOneThreadResults() throws Exception {
        float[][] A = {random(96 * 80, 1), random(96 * 80, 2)};
        float[][] B = {random(80 * 128, 3), random(80 * 128, 4)};
        float[][] expected = {product(A[0], B[0]), product(A[1], B[1])};

        Parallel.setThreads(2);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch start = new CountDownLatch(1);
        Thread[] learners = new Thread[2];
        for (int t = 0; t < 2; t++) {
            int id = t;
            learners[t] = new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < 300; i++) assertArrayEquals(expected[id], product(A[id], B[id]), "iteration " + i);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            learners[t].start();
        }
        start.countDown();
        for (Thread learner : learners) learner.join(Duration.ofMinutes(2));
        for (Thread learner : learners) assertTrue(!learner.isAlive(), "a learner thread hung");
        if (failure.get() != null) throw new AssertionError("concurrent products differed", failure.get());
    }

    @Test
    void aTaskThatSplitsAgainRunsItsHalvesItself() {
        Parallel.setThreads(2);
        int[] inner = new int[4];
        Parallel.run(() -> Parallel.run(() -> inner[0]++, () -> inner[1]++),
                () -> Parallel.run(() -> inner[2]++, () -> inner[3]++));
        assertArrayEquals(new int[] {1, 1, 1, 1}, inner);
    }

    @Test
    void failuresOnEitherHalfReachTheCallerAndTheWorkerStaysUsable() {
        Parallel.setThreads(2);
        IllegalStateException onWorker = new IllegalStateException("worker half");
        assertSame(onWorker, assertThrows(IllegalStateException.class, () -> Parallel.run(() -> {
            throw onWorker;
        }, () -> {})));

        // an Error on the worker used to kill it, leaving the caller spinning forever
        AssertionError error = new AssertionError("worker error");
        assertSame(error, assertThrows(AssertionError.class, () -> Parallel.run(() -> {
            throw error;
        }, () -> {})));

        IllegalArgumentException onCaller = new IllegalArgumentException("caller half");
        int[] workerRan = new int[1];
        assertSame(onCaller, assertThrows(IllegalArgumentException.class,
                () -> Parallel.run(() -> workerRan[0]++, () -> {
                    throw onCaller;
                })));
        assertEquals(1, workerRan[0], "the caller waited for the worker's half before failing");

        int[] both = new int[2];
        Parallel.run(() -> both[0]++, () -> both[1]++);
        assertArrayEquals(new int[] {1, 1}, both);
    }

    @Test
    void forEachRunsEveryTaskExactlyOnceOnBothThreads() {
        Parallel.setThreads(2);
        for (int count : new int[] {0, 1, 2, 3, 17, 4000}) {
            AtomicIntegerArray runs = new AtomicIntegerArray(Math.max(count, 1));
            Thread caller = Thread.currentThread();
            boolean[] onWorker = new boolean[1];
            Parallel.forEach(count, i -> {
                runs.incrementAndGet(i);
                if (Thread.currentThread() != caller) onWorker[0] = true;
                // about 2 µs a task, so that a parked worker wakes long before the caller runs out of tasks
                for (long end = System.nanoTime() + 2_000; System.nanoTime() < end; ) Thread.onSpinWait();
            });
            for (int i = 0; i < count; i++) assertEquals(1, runs.get(i), "task " + i + " of " + count);
            // 8 ms of tasks: even a parked worker (woken in 0.1–3 ms on a VM) joins in
            if (count >= 4000) assertTrue(onWorker[0], "the worker claimed no task of " + count);
        }
    }

    @Test
    void forEachInsideATaskRunsOnItsOwnThreadAndFailuresPropagate() {
        Parallel.setThreads(2);
        AtomicIntegerArray inner = new AtomicIntegerArray(4 * 8);
        Parallel.forEach(4, i -> Parallel.forEach(8, j -> inner.incrementAndGet(8 * i + j)));
        for (int i = 0; i < 32; i++) assertEquals(1, inner.get(i));

        IllegalStateException failure = new IllegalStateException("task 5");
        AtomicIntegerArray ran = new AtomicIntegerArray(64);
        assertSame(failure, assertThrows(IllegalStateException.class, () -> Parallel.forEach(64, i -> {
            if (i == 5) throw failure;
            ran.incrementAndGet(i);
        })));
        for (int i = 0; i < 64; i++) assertTrue(ran.get(i) <= 1, "task " + i + " ran twice");

        int[] both = new int[2];
        Parallel.run(() -> both[0]++, () -> both[1]++);
        assertArrayEquals(new int[] {1, 1}, both, "the worker stays usable");
    }

    @Test
    void largeProductsGiveTheOneThreadBitsWhicheverThreadTakesEachPanel() {
        // column panels are claimed dynamically at two threads: repeat so that assignments vary between calls
        float[] A = random(256 * 200, 5), B = random(200 * 136, 6);
        float[] expected = new float[256 * 136];
        Gemm.gemm(256, 136, 200, A, 0, 1, 256, B, 0, 136, expected, 0, 136);
        Parallel.setThreads(2);
        for (int rep = 0; rep < 50; rep++) {
            float[] C = new float[256 * 136];
            Gemm.gemm(256, 136, 200, A, 0, 1, 256, B, 0, 136, C, 0, 136);
            assertArrayEquals(expected, C, "repetition " + rep);
        }
    }

    @Test
    void aParkedWorkersTaskIsTakenBackByTheCallerAndEveryHalfRunsOnce() throws Exception {
        Parallel.setThreads(2);
        for (int round = 0; round < 20; round++) {
            Thread.sleep(2);   // past the idle spin: the worker parks
            int[] halves = new int[2];
            Parallel.run(() -> halves[0]++, () -> halves[1]++);
            assertArrayEquals(new int[] {1, 1}, halves, "round " + round);
        }
    }
}
