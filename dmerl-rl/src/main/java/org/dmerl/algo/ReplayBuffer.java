package org.dmerl.algo;

import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;

/**
 * A ring buffer of transitions (s, a, r, s', discount, skippedLogProb) in flat float arrays. {@code discount}
 * multiplies the bootstrapped value: 0 when the episode terminated, else γ (a time-limit truncation keeps
 * bootstrapping from the stored final observation; on the diffusion-augmented MDP it may be 1 at sub-steps).
 * {@code skippedLogProb} is the discounted sum of the log-density terms of the steps a multi-step transition jumps
 * over between its action and s' (the target subtracts α times it); 0 for a one-step transition.
 */
public final class ReplayBuffer {

    public record Batch(Tensor obs, Tensor actions, Tensor rewards, Tensor nextObs, Tensor discount,
                        Tensor skippedLogProb) {}

    private final int capacity, obsDim, actDim;
    final float[] obs, actions, rewards, nextObs, discount, skippedLogProb;
    private int size, next;
    private final Batch batch;

    public ReplayBuffer(int capacity, int obsDim, int actDim, int batchSize) {
        this.capacity = capacity;
        this.obsDim = obsDim;
        this.actDim = actDim;
        long bytes = 4L * capacity * (2L * obsDim + actDim + 3);
        if (bytes > Runtime.getRuntime().maxMemory() * 0.8) {
            throw new IllegalArgumentException("replay buffer of " + capacity + " transitions needs " + (bytes >> 20)
                    + " MiB, more than the JVM's heap allows; lower buffer_size or raise -Xmx");
        }
        obs = new float[capacity * obsDim];
        actions = new float[capacity * actDim];
        rewards = new float[capacity];
        nextObs = new float[capacity * obsDim];
        discount = new float[capacity];
        skippedLogProb = new float[capacity];
        batch = new Batch(Tensor.zeros(batchSize, obsDim), Tensor.zeros(batchSize, actDim), Tensor.zeros(batchSize, 1),
                Tensor.zeros(batchSize, obsDim), Tensor.zeros(batchSize, 1), Tensor.zeros(batchSize, 1));
    }

    public void add(float[] s, float[] a, double r, float[] s2, float discountFactor) {
        add(s, a, r, s2, discountFactor, 0f);
    }

    public void add(float[] s, float[] a, double r, float[] s2, float discountFactor, float skippedLogProbSum) {
        System.arraycopy(s, 0, obs, next * obsDim, obsDim);
        System.arraycopy(a, 0, actions, next * actDim, actDim);
        rewards[next] = (float) r;
        System.arraycopy(s2, 0, nextObs, next * obsDim, obsDim);
        discount[next] = discountFactor;
        skippedLogProb[next] = skippedLogProbSum;
        next = (next + 1) % capacity;
        size = Math.min(size + 1, capacity);
    }

    public int size() {
        return size;
    }

    public int capacity() {
        return capacity;
    }

    /** Samples with replacement into reused batch tensors. */
    public Batch sample(Rng rng) {
        if (size == 0) throw new IllegalStateException("cannot sample from an empty replay buffer");
        int n = batch.obs().rows();
        for (int i = 0; i < n; i++) {
            int j = rng.nextInt(size);
            System.arraycopy(obs, j * obsDim, batch.obs().data, i * obsDim, obsDim);
            System.arraycopy(actions, j * actDim, batch.actions().data, i * actDim, actDim);
            batch.rewards().data[i] = rewards[j];
            System.arraycopy(nextObs, j * obsDim, batch.nextObs().data, i * obsDim, obsDim);
            batch.discount().data[i] = discount[j];
            batch.skippedLogProb().data[i] = skippedLogProb[j];
        }
        return batch;
    }

    int nextIndex() {
        return next;
    }

    /** Stores the filled part and the cursor. */
    void save(org.dmerl.tensor.TensorArchive a) {
        a.putLongs("buffer/cursor", new long[] {size, next, capacity});
        a.putTensor("buffer/obs", slice(obs, obsDim));
        a.putTensor("buffer/actions", slice(actions, actDim));
        a.putTensor("buffer/rewards", slice(rewards, 1));
        a.putTensor("buffer/next_obs", slice(nextObs, obsDim));
        a.putTensor("buffer/discount", slice(discount, 1));
        a.putTensor("buffer/skipped_log_prob", slice(skippedLogProb, 1));
    }

    void restore(org.dmerl.tensor.TensorArchive a) {
        long[] c = a.getLongs("buffer/cursor");
        // A run resumed with more --steps gets a bigger buffer; that is exact while the saved one never overwrote.
        boolean grown = c[2] < capacity && (c[0] < c[2] || c[1] == 0);
        if (c[2] != capacity && !grown) {
            throw new IllegalArgumentException("checkpoint buffer capacity " + c[2] + " differs from " + capacity);
        }
        size = (int) c[0];
        next = grown ? size : (int) c[1];
        if (size == 0) return;
        restoreInto(a, "buffer/obs", obs, obsDim);
        restoreInto(a, "buffer/actions", actions, actDim);
        restoreInto(a, "buffer/rewards", rewards, 1);
        restoreInto(a, "buffer/next_obs", nextObs, obsDim);
        restoreInto(a, "buffer/discount", discount, 1);
        // checkpoints written before the column existed held one-step transitions only
        if (a.contains("buffer/skipped_log_prob")) restoreInto(a, "buffer/skipped_log_prob", skippedLogProb, 1);
    }

    private Tensor slice(float[] src, int width) {
        Tensor t = Tensor.zeros(Math.max(1, size), width);
        System.arraycopy(src, 0, t.data, 0, size * width);
        return t;
    }

    private void restoreInto(org.dmerl.tensor.TensorArchive a, String name, float[] dst, int width) {
        Tensor t = Tensor.zeros(size, width);
        a.readTensor(name, t);
        System.arraycopy(t.data, 0, dst, 0, size * width);
    }
}
