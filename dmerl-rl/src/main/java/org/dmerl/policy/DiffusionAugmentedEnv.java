package org.dmerl.policy;

import java.util.Arrays;

import org.dmerl.env.BoxSpace;
import org.dmerl.env.Env;
import org.dmerl.env.StepResult;
import org.dmerl.env.SubStepEnv;
import org.dmerl.env.Wrapper;
import org.dmerl.tensor.Rng;

/**
 * The diffusion-augmented MDP (spec §1.2): state (s, x_k, k), action x_{k+1}. For k + 1 < K the real environment
 * does not move and the reward is 0; at k + 1 = K it steps with a = clip(tanh(x_K), ±c), pays its reward, and a
 * fresh chain starts from x_0 ~ N(0, σ0² I). Observations are (s, x_k, onehot(k)).
 *
 * <p>The inner env must take actions in [−1, 1] (wrap it in {@code RescaleAction}).
 */
public final class DiffusionAugmentedEnv extends Wrapper implements SubStepEnv {

    private final int steps, stateDim, actDim;
    private final double sigma0, clip;
    private final BoxSpace observationSpace, actionSpace;
    private Rng rng = new Rng(0);
    private double[] state, x;
    private int k;
    private boolean lastReal;
    private final double[] envAction;

    public DiffusionAugmentedEnv(Env env, int steps, double sigma0, double actionClip) {
        super(env);
        if (steps < 1) throw new IllegalArgumentException("diffusion steps must be ≥ 1, got " + steps);
        if (!(sigma0 > 0)) throw new IllegalArgumentException("sigma0 must be positive, got " + sigma0);
        if (!(actionClip > 0 && actionClip <= 1)) {
            throw new IllegalArgumentException("action clip must be in (0, 1], got " + actionClip);
        }
        this.steps = steps;
        this.sigma0 = sigma0;
        this.clip = actionClip;
        this.stateDim = env.observationSpace().dim();
        this.actDim = env.actionSpace().dim();
        double[] lo = new double[stateDim + actDim + steps], hi = new double[lo.length];
        BoxSpace inner = env.observationSpace();
        for (int i = 0; i < lo.length; i++) {
            lo[i] = i < stateDim ? inner.low()[i] : i < stateDim + actDim ? Double.NEGATIVE_INFINITY : 0;
            hi[i] = i < stateDim ? inner.high()[i] : i < stateDim + actDim ? Double.POSITIVE_INFINITY : 1;
        }
        observationSpace = new BoxSpace(lo, hi);
        actionSpace = BoxSpace.unbounded(actDim);
        envAction = new double[actDim];
    }

    @Override public BoxSpace observationSpace() { return observationSpace; }
    @Override public BoxSpace actionSpace() { return actionSpace; }
    @Override public boolean lastStepWasReal() { return lastReal; }
    @Override public int subSteps() { return steps; }

    public int diffusionStep() { return k; }

    @Override
    public void collectRngs(java.util.List<Rng> out) {
        super.collectRngs(out);
        out.add(rng);
    }

    @Override
    public double[] reset(long seed) {
        rng.setState(new Rng(seed ^ 0x5DEECE66DL).state());
        state = env.reset(seed);
        return startChain();
    }

    @Override
    public double[] reset() {
        state = env.reset();
        return startChain();
    }

    private double[] startChain() {
        x = new double[actDim];
        for (int i = 0; i < actDim; i++) x[i] = sigma0 * rng.gaussian();
        k = 0;
        return observation();
    }

    /** (s, x_k, onehot(k)). */
    public double[] observation() {
        double[] o = new double[stateDim + actDim + steps];
        System.arraycopy(state, 0, o, 0, stateDim);
        System.arraycopy(x, 0, o, stateDim, actDim);
        o[stateDim + actDim + k] = 1;
        return o;
    }

    /** The real action that a final latent x_K maps to: clip(tanh(x_K), ±c). */
    public double[] toEnvAction(double[] latent) {
        double[] a = new double[actDim];
        for (int i = 0; i < actDim; i++) a[i] = Math.max(-clip, Math.min(clip, Math.tanh(latent[i])));
        return a;
    }

    @Override
    public StepResult step(double[] action) {
        if (state == null) throw new IllegalStateException("step() before reset()");
        actionSpace.checkShape(action, "diffusion latent x_{k+1}");
        for (double v : action) {
            if (!Double.isFinite(v)) throw new IllegalArgumentException("non-finite latent x_{k+1}: " + Arrays.toString(action));
        }
        if (k + 1 < steps) {
            x = action.clone();
            k++;
            lastReal = false;
            return new StepResult(observation(), 0.0, false, false);
        }
        for (int i = 0; i < actDim; i++) envAction[i] = Math.max(-clip, Math.min(clip, Math.tanh(action[i])));
        StepResult r = env.step(envAction);
        lastReal = true;
        state = r.observation();
        x = new double[actDim];
        for (int i = 0; i < actDim; i++) x[i] = sigma0 * rng.gaussian();
        k = 0;
        return new StepResult(observation(), r.reward(), r.terminated(), r.truncated(), r.terms());
    }
}
