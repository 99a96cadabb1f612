package org.dmerl.algo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;

import org.dmerl.tensor.Rng;
import org.junit.jupiter.api.Test;

class ReplayBufferTest {

    private static final int OBS = 2, ACT = 1, BATCH = 4;

    /** Transition i: s = (i, −i), a = 10 i, r = 100 i, s' = (i + 0.5, −i − 0.5), discount alternating. */
    private static void addTransition(ReplayBuffer b, int i) {
        b.add(new float[] {i, -i}, new float[] {10 * i}, 100.0 * i, new float[] {i + 0.5f, -i - 0.5f},
                i % 2 == 0 ? 0.99f : 0f);
    }

    @Test
    void sampleShapes() {
        ReplayBuffer b = new ReplayBuffer(10, OBS, ACT, BATCH);
        addTransition(b, 1);
        ReplayBuffer.Batch batch = b.sample(new Rng(1));
        assertEquals(BATCH, batch.obs().rows());
        assertEquals(OBS, batch.obs().cols());
        assertEquals(BATCH, batch.actions().rows());
        assertEquals(ACT, batch.actions().cols());
        assertEquals(BATCH, batch.rewards().rows());
        assertEquals(1, batch.rewards().cols());
        assertEquals(BATCH, batch.nextObs().rows());
        assertEquals(OBS, batch.nextObs().cols());
        assertEquals(BATCH, batch.discount().rows());
        assertEquals(1, batch.discount().cols());
        // with one transition every row is that transition, discount included
        for (int r = 0; r < BATCH; r++) {
            assertEquals(1f, batch.obs().get(r, 0));
            assertEquals(-1f, batch.obs().get(r, 1));
            assertEquals(10f, batch.actions().get(r, 0));
            assertEquals(100f, batch.rewards().get(r, 0));
            assertEquals(1.5f, batch.nextObs().get(r, 0));
            assertEquals(-1.5f, batch.nextObs().get(r, 1));
            assertEquals(0f, batch.discount().get(r, 0));
        }
    }

    @Test
    void ringWrapsAroundAndForgetsTheOldest() {
        ReplayBuffer b = new ReplayBuffer(3, OBS, ACT, BATCH);
        for (int i = 0; i < 5; i++) {
            addTransition(b, i);
            assertEquals(Math.min(i + 1, 3), b.size());
        }
        assertEquals(3, b.capacity());
        assertEquals(5 % 3, b.nextIndex());
        // slot 0 ← transition 3, slot 1 ← transition 4, slot 2 still transition 2
        assertEquals(3f, b.obs[0]);
        assertEquals(4f, b.obs[OBS]);
        assertEquals(2f, b.obs[2 * OBS]);
        assertEquals(0f, b.discount[0]);
        assertEquals(0.99f, b.discount[1]);
        assertEquals(0.99f, b.discount[2]);

        Set<Integer> seen = new HashSet<>();
        Rng rng = new Rng(7);
        for (int n = 0; n < 100; n++) {
            ReplayBuffer.Batch batch = b.sample(rng);
            for (int r = 0; r < BATCH; r++) {
                int i = Math.round(batch.obs().get(r, 0));
                assertTrue(i >= 2 && i <= 4, "sampled overwritten transition " + i);
                // every field of a row comes from the same transition
                assertEquals(-i, batch.obs().get(r, 1));
                assertEquals(10f * i, batch.actions().get(r, 0));
                assertEquals(100f * i, batch.rewards().get(r, 0));
                assertEquals(i + 0.5f, batch.nextObs().get(r, 0));
                assertEquals(-i - 0.5f, batch.nextObs().get(r, 1));
                assertEquals(i % 2 == 0 ? 0.99f : 0f, batch.discount().get(r, 0));
                seen.add(i);
            }
        }
        assertEquals(Set.of(2, 3, 4), seen);
    }

    @Test
    void samplingIsSeeded() {
        ReplayBuffer b = new ReplayBuffer(50, OBS, ACT, BATCH);
        for (int i = 0; i < 20; i++) addTransition(b, i);
        float[] first = b.sample(new Rng(3)).obs().toArray();
        float[] second = b.sample(new Rng(3)).obs().toArray();
        org.junit.jupiter.api.Assertions.assertArrayEquals(first, second);
    }

    @Test
    void emptyBufferCannotBeSampled() {
        ReplayBuffer b = new ReplayBuffer(3, OBS, ACT, BATCH);
        assertThrows(IllegalStateException.class, () -> b.sample(new Rng(1)));
    }

    @Test
    void oversizedBufferIsRejectedWithAClearMessage() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new ReplayBuffer(Integer.MAX_VALUE / 2, 1000, 10, BATCH));
        assertTrue(e.getMessage().contains("buffer_size"), e.getMessage());
    }
}
