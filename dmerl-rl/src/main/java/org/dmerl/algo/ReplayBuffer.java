package org.dmerl.algo;

import org.dmerl.tensor.Rng;
import org.dmerl.tensor.Tensor;

/**
 * A ring buffer of transitions (s, a, r, s', discount) in flat float arrays. {@code discount} multiplies the
 * bootstrapped value: 0 when the episode terminated, else γ (a time-limit truncation keeps bootstrapping from the
 * stored final observation; on the diffusion-augmented MDP it may be 1 at sub-steps).
 *
 * <p>A buffer made {@link #withChains} also records, per transition, how many stored transitions after it belong to the
 * same multi-step transition (the later sub-steps of a diffusion chain, stored consecutively when the real step is
 * taken) and its own one-step discount, so a sampled batch can carry those later steps ({@link Successors}) for the
 * learner to evaluate their log-density terms under its current parameters.
 */
public final class ReplayBuffer {

    /**
     * A sampled batch. {@code successors} is null unless the buffer was made {@link #withChains}.
     */
    public record Batch(Tensor obs, Tensor actions, Tensor rewards, Tensor nextObs, Tensor discount,
                        Successors successors) {}

    /**
     * The stored steps each sampled transition jumps over before its s', in order: rows [0, rows) of {@code obs} and
     * {@code actions}; batch row b owns the next {@code count[b]} of them, and each carries the discount from the
     * sampled transition to it, {@code weight} = Π of the one-step discounts before it. The target then subtracts
     * α·Σ weight·logπ over a row's steps.
     */
    public static final class Successors {
        public final float[] obs, actions, weight;
        public final int[] count;
        public int rows;

        Successors(int batchSize, int maxPerRow, int obsDim, int actDim) {
            obs = new float[batchSize * maxPerRow * obsDim];
            actions = new float[batchSize * maxPerRow * actDim];
            weight = new float[batchSize * maxPerRow];
            count = new int[batchSize];
        }
    }

    private final int capacity, obsDim, actDim;
    final float[] obs, actions, rewards, nextObs, discount;
    private int size, next;
    private Batch batch;
    private final int[] sampled;
    /** With chains: later transitions of the same chain, and the one-step discount before folding. */
    private byte[] chainRest;
    private float[] stepDiscount;
    /** With chains: carry one uniformly drawn later step per transition, weighted by the count, instead of all. */
    private boolean oneSuccessor;

    public ReplayBuffer(int capacity, int obsDim, int actDim, int batchSize) {
        this.capacity = capacity;
        this.obsDim = obsDim;
        this.actDim = actDim;
        long bytes = 4L * capacity * (2L * obsDim + actDim + 2);
        if (bytes > Runtime.getRuntime().maxMemory() * 0.8) {
            throw new IllegalArgumentException("replay buffer of " + capacity + " transitions needs " + (bytes >> 20)
                    + " MiB, more than the JVM's heap allows; lower buffer_size or raise -Xmx");
        }
        sampled = new int[batchSize];
        obs = new float[capacity * obsDim];
        actions = new float[capacity * actDim];
        rewards = new float[capacity];
        nextObs = new float[capacity * obsDim];
        discount = new float[capacity];
        batch = new Batch(Tensor.zeros(batchSize, obsDim), Tensor.zeros(batchSize, actDim), Tensor.zeros(batchSize, 1),
                Tensor.zeros(batchSize, obsDim), Tensor.zeros(batchSize, 1), null);
    }

    /** Keeps chain links for chains of up to {@code chainLength} transitions (see the class comment). */
    public ReplayBuffer withChains(int chainLength) {
        return withChains(chainLength, false);
    }

    /**
     * {@link #withChains(int)}; with {@code oneSuccessor}, a sampled transition carries one of its n later steps, drawn
     * uniformly, with its weight multiplied by n: an unbiased estimate of the sum over all n that evaluates one row
     * instead of n (a K = 8 chain has 3.5 later steps on average).
     */
    public ReplayBuffer withChains(int chainLength, boolean oneSuccessor) {
        if (chainLength < 1 || chainLength > 128) throw new IllegalArgumentException("chain length " + chainLength);
        this.oneSuccessor = oneSuccessor;
        chainRest = new byte[capacity];
        stepDiscount = new float[capacity];
        int n = batch.obs().rows();
        batch = new Batch(batch.obs(), batch.actions(), batch.rewards(), batch.nextObs(), batch.discount(),
                new Successors(n, chainLength - 1, obsDim, actDim));
        return this;
    }

    public void add(float[] s, float[] a, double r, float[] s2, float discountFactor) {
        add(s, a, r, s2, discountFactor, 0, discountFactor);
    }

    /**
     * A transition followed by {@code rest} more of the same chain (added next), whose one-step discount before
     * folding was {@code ownDiscount}; both are kept only by a buffer made {@link #withChains}.
     */
    public void add(float[] s, float[] a, double r, float[] s2, float discountFactor, int rest, float ownDiscount) {
        System.arraycopy(s, 0, obs, next * obsDim, obsDim);
        System.arraycopy(a, 0, actions, next * actDim, actDim);
        rewards[next] = (float) r;
        System.arraycopy(s2, 0, nextObs, next * obsDim, obsDim);
        discount[next] = discountFactor;
        if (chainRest != null) {
            chainRest[next] = (byte) rest;
            stepDiscount[next] = ownDiscount;
        }
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
            sampled[i] = j;
            System.arraycopy(obs, j * obsDim, batch.obs().data, i * obsDim, obsDim);
            System.arraycopy(actions, j * actDim, batch.actions().data, i * actDim, actDim);
            batch.rewards().data[i] = rewards[j];
            System.arraycopy(nextObs, j * obsDim, batch.nextObs().data, i * obsDim, obsDim);
            batch.discount().data[i] = discount[j];
        }
        if (batch.successors() != null) gatherSuccessors(n, rng);
        return batch;
    }

    /** The later transitions of each sampled transition's chain (stored right after it, so present while it is). */
    private void gatherSuccessors(int n, Rng rng) {
        Successors out = batch.successors();
        int rows = 0;
        for (int i = 0; i < n; i++) {
            int j = sampled[i], rest = chainRest[j];
            int only = oneSuccessor && rest > 0 ? 1 + rng.nextInt(rest) : 0;
            float weight = 1f;
            for (int m = 1; m <= rest; m++) {
                weight *= stepDiscount[(j + m - 1) % capacity];
                if (only != 0 && m != only) continue;
                int t = (j + m) % capacity;
                System.arraycopy(obs, t * obsDim, out.obs, rows * obsDim, obsDim);
                System.arraycopy(actions, t * actDim, out.actions, rows * actDim, actDim);
                out.weight[rows] = only != 0 ? rest * weight : weight;
                rows++;
                if (only != 0) break;   // the drawn step is the only one carried
            }
            out.count[i] = only != 0 ? 1 : rest;
        }
        out.rows = rows;
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
        if (chainRest != null) {
            Tensor rest = Tensor.zeros(Math.max(1, size), 1);
            for (int i = 0; i < size; i++) rest.data[i] = chainRest[i];
            a.putTensor("buffer/chain_rest", rest);
            a.putTensor("buffer/step_discount", slice(stepDiscount, 1));
        }
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
        if (chainRest != null) {
            if (!a.contains("buffer/chain_rest")) {
                throw new IllegalArgumentException("checkpoint's replay buffer has no chain links (written with another "
                        + "chain_target); resume with the chain_target it was written with");
            }
            float[] rest = new float[size];
            restoreInto(a, "buffer/chain_rest", rest, 1);
            for (int i = 0; i < size; i++) chainRest[i] = (byte) rest[i];
            restoreInto(a, "buffer/step_discount", stepDiscount, 1);
        }
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
