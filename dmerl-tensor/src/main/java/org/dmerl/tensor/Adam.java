package org.dmerl.tensor;

import java.util.List;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Adam with bias correction (Kingma and Ba 2015), as in PyTorch's default (eps added outside the square root). */
public final class Adam {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private final List<Tensor> params;
    private final float[][] m, v;
    private final long totalSize;
    private float lr;
    private final float beta1, beta2, eps;
    private long step;
    /** The bias-corrected step size and 1/√(1 − β₂ᵗ) of the current {@link #step}. */
    private float stepSize, invSqrtC2;
    /** During a {@link #step(List, float)}: the averages' arrays in the parameters' order (else null), and τ. */
    private final float[][] averages;
    /** Whether a step leaves the gradients zero ({@link #zeroGradientsInStep}). */
    private boolean zeroInStep;
    private float tau;
    /**
     * The worker's and the caller's rows of every parameter ({@link Parallel#workerElements}), as reusable tasks: the
     * rows each thread computed the gradient of, and an even split where one 256×256 weight outweighs the rest.
     */
    private final Runnable updateWorkerRows = () -> updateRows(true), updateCallerRows = () -> updateRows(false);

    public Adam(List<Tensor> params, float lr) {
        this(params, lr, 0.9f, 0.999f, 1e-8f);
    }

    public Adam(List<Tensor> params, float lr, float beta1, float beta2, float eps) {
        if (!(lr > 0)) throw new IllegalArgumentException("learning rate must be positive, got " + lr);
        this.params = List.copyOf(params);
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        totalSize = this.params.stream().mapToLong(Tensor::size).sum();
        m = new float[this.params.size()][];
        averages = new float[this.params.size()][];
        v = new float[this.params.size()][];
        for (int i = 0; i < m.length; i++) {
            m[i] = new float[this.params.get(i).size()];
            v[i] = new float[this.params.get(i).size()];
        }
    }

    public List<Tensor> params() {
        return params;
    }

    public void zeroGrad() {
        for (Tensor p : params) p.zeroGrad();
    }

    /**
     * Makes every later step leave the gradients zero, written in its own pass over them, so that a caller that steps
     * after each backward pass needs no {@link #zeroGrad} before the next one. That separate pass over every gradient
     * took 0.7 % of a SAC Pendulum-v1 run.
     */
    public Adam zeroGradientsInStep() {
        zeroInStep = true;
        return this;
    }

    public void setLearningRate(float value) {
        lr = value;
    }

    public float learningRate() {
        return lr;
    }

    public long stepCount() {
        return step;
    }

    /**
     * One update, after which each of {@code averages} (one per parameter, in order, of the same shape) moves τ of the
     * way to its parameter's new value, a += τ·(p − a): the Polyak averaging of target networks, with the bits of a
     * separate pass after the step but in the same pass over the weights. SAC's separate pass took 1 % of
     * a Pendulum-v1 run.
     */
    public void step(List<Tensor> averages, float tau) {
        if (averages.size() != params.size()) {
            throw new IllegalArgumentException(averages.size() + " averages for " + params.size() + " parameters");
        }
        for (int p = 0; p < this.averages.length; p++) {
            Tensor a = averages.get(p), t = params.get(p);
            if (a.rows() != t.rows() || a.cols() != t.cols()) {
                throw new IllegalArgumentException("average " + p + " is " + a.shape() + ", its parameter " + t.shape());
            }
            this.averages[p] = a.data;
        }
        this.tau = tau;
        try {
            step();
        } finally {
            java.util.Arrays.fill(this.averages, null);   // plain steps again, and the averages not kept alive
        }
        for (Tensor a : averages) a.touch();
    }

    /** One update from the accumulated gradients. */
    public void step() {
        step++;
        float c1 = (float) (1 - Math.pow(beta1, step));
        float c2 = (float) (1 - Math.pow(beta2, step));
        stepSize = lr / c1;
        invSqrtC2 = (float) (1 / Math.sqrt(c2));
        if (totalSize < Parallel.MIN_ELEMENTS) {
            for (int p = 0; p < params.size(); p++) update(p, 0, params.get(p).size());
        } else {
            Parallel.run(updateWorkerRows, updateCallerRows);
        }
        for (Tensor t : params) t.touch();
    }

    private void updateRows(boolean workerRows) {
        for (int p = 0; p < params.size(); p++) {
            Tensor t = params.get(p);
            int half = Parallel.workerElements(t.rows(), t.cols(), S.length());
            if (workerRows) update(p, 0, half);
            else update(p, half, t.size());
        }
    }

    /**
     * Elements [from, to) of parameter p; from must be a multiple of the vector length. Moments that fall below the
     * smallest normal float become zero ({@link VecMath#flushSubnormals}): a weight whose gradient stays zero (a dead
     * ReLU unit) has its moments decay by β each step through the subnormal range (about 150 steps for m, 16 000 for
     * v), and a SAC critic's Adam step went from 130 to 750 µs over 2500 updates on an Intel core. The weight's step
     * from such a moment is below 10⁻³³.
     */
    private void update(int p, int from, int to) {
        Tensor t = params.get(p);
        float[] w = t.data, g = t.grad, mp = m[p], vp = v[p], avg = averages[p];
        int i = from, upper = from + S.loopBound(to - from);
        for (; i < upper; i += S.length()) {
            FloatVector gv = FloatVector.fromArray(S, g, i);
            if (zeroInStep) FloatVector.zero(S).intoArray(g, i);
            FloatVector mv = VecMath.flushSubnormals(FloatVector.fromArray(S, mp, i).mul(beta1).add(gv.mul(1 - beta1)));
            FloatVector vv = VecMath.flushSubnormals(FloatVector.fromArray(S, vp, i).mul(beta2).add(gv.mul(gv).mul(1 - beta2)));
            mv.intoArray(mp, i);
            vv.intoArray(vp, i);
            FloatVector denom = vv.lanewise(VectorOperators.SQRT).mul(invSqrtC2).add(eps);
            FloatVector wv = FloatVector.fromArray(S, w, i).sub(mv.div(denom).mul(stepSize));
            wv.intoArray(w, i);
            if (avg != null) {
                FloatVector av = FloatVector.fromArray(S, avg, i);
                av.add(wv.sub(av).mul(tau)).intoArray(avg, i);
            }
        }
        for (; i < to; i++) {
            float gi = g[i];
            if (zeroInStep) g[i] = 0f;
            mp[i] = VecMath.flushSubnormal(beta1 * mp[i] + (1 - beta1) * gi);
            vp[i] = VecMath.flushSubnormal(beta2 * vp[i] + (1 - beta2) * gi * gi);
            w[i] -= stepSize * mp[i] / ((float) Math.sqrt(vp[i]) * invSqrtC2 + eps);
            if (avg != null) avg[i] += tau * (w[i] - avg[i]);
        }
    }

    /** Optimiser state for checkpoints: step count, then first and second moments per parameter. */
    public float[][] moments() {
        float[][] out = new float[2 * m.length][];
        for (int i = 0; i < m.length; i++) {
            out[2 * i] = m[i];
            out[2 * i + 1] = v[i];
        }
        return out;
    }

    public void setStepCount(long value) {
        step = value;
    }

    /** Stores step count and moments under {@code prefix} (checkpoints). */
    public void writeTo(TensorArchive a, String prefix) {
        a.putLongs(prefix + "/step", new long[] {step});
        float[][] mom = moments();
        for (int j = 0; j < mom.length; j++) a.putTensor(prefix + "/m" + j, Tensor.of(1, mom[j].length, mom[j]));
    }

    /** Restores what {@link #writeTo} stored under {@code prefix}. */
    public void readFrom(TensorArchive a, String prefix) {
        step = a.getLongs(prefix + "/step")[0];
        float[][] mom = moments();
        for (int j = 0; j < mom.length; j++) {
            Tensor t = Tensor.zeros(1, mom[j].length);
            a.readTensor(prefix + "/m" + j, t);
            System.arraycopy(t.data, 0, mom[j], 0, mom[j].length);
        }
    }

    /** Scales all gradients so that their global L2 norm is at most {@code maxNorm}; returns the norm before. */
    public static float clipGradNorm(List<Tensor> params, float maxNorm) {
        double sq = 0;
        for (Tensor p : params) {
            float[] g = p.grad;
            for (int i = 0, n = p.size(); i < n; i++) sq += (double) g[i] * g[i];
        }
        float norm = (float) Math.sqrt(sq);
        if (norm > maxNorm) {
            float scale = maxNorm / (norm + 1e-6f);
            for (Tensor p : params) {
                float[] g = p.grad;
                for (int i = 0, n = p.size(); i < n; i++) g[i] *= scale;
            }
        }
        return norm;
    }

    public float clipGradNorm(float maxNorm) {
        return clipGradNorm(params, maxNorm);
    }
}
