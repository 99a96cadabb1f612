package org.dmerl.env.mujoco;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.dmerl.env.BoxSpace;
import org.dmerl.env.Env;
import org.dmerl.env.StepResult;
import org.dmerl.tensor.Rng;

/**
 * A MuJoCo locomotion task with Gymnasium's semantics: a model, an observation, named reward terms, a health
 * predicate and reset noise. Subclasses supply those five; this class owns the simulation loop.
 *
 * <ul>
 *   <li>{@code step}: {@code ctrl = action} (not clipped: MuJoCo clamps {@code ctrllimited} actuators itself), then
 *       {@code mj_step} {@code frameSkip} times and {@code mj_rnePostConstraint} (so {@code cfrc_ext} is valid); the
 *       tracked position's change over {@code dt = timestep · frameSkip} is the rewarded velocity. The reward is the
 *       sum of the terms returned in {@link StepResult#terms()}, in their order. {@code terminated} is
 *       {@code terminate_when_unhealthy && !healthy}; {@code truncated} is always false here, the 1000-step limit
 *       is the registry's {@link org.dmerl.env.TimeLimit}.</li>
 *   <li>{@code reset}: {@code mj_resetData}, then {@code qpos = qpos0 + noise}, {@code qvel = 0 + noise} and
 *       {@code mj_forward}. Noise comes from an {@link Rng} seeded by {@link #reset(long)}; an env never seeded
 *       behaves as if seeded with 0. (Gymnasium uses NumPy's PCG64, so episodes match only statistically.)</li>
 * </ul>
 *
 * <p>Owns native memory: close it (the env closes its {@link MjModel} and {@link MjData}).
 */
public abstract class MujocoEnv implements Env {

    /** Gymnasium's version of a task; v5 changed models, observations and the healthy reward (see each task). */
    public enum Version {
        V4, V5;

        /** The id suffix: {@code v4}, {@code v5}. */
        public String suffix() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public static final String REWARD_FORWARD = "reward_forward";
    public static final String REWARD_CTRL = "reward_ctrl";
    public static final String REWARD_SURVIVE = "reward_survive";
    public static final String REWARD_CONTACT = "reward_contact";

    private final String id;
    private final Version version;
    private final MjModel model;
    private final MjData data;
    private final int frameSkip;
    private final double dt;
    private final double[] initQpos;
    private final double[] initQvel;
    private final double resetNoiseScale;
    private final boolean terminateWhenUnhealthy;
    private final BoxSpace actionSpace;
    private final BoxSpace observationSpace;
    private Rng rng = new Rng(0);

    @Override
    public void collectRngs(java.util.List<Rng> out) {
        out.add(rng);
    }
    private boolean started;

    /**
     * Takes ownership of {@code model} (closed with this env, or right away if construction fails).
     *
     * @param observationDim length of the observation this task writes in {@link #writeObservation}
     */
    protected MujocoEnv(String id, Version version, MjModel model, int frameSkip, int observationDim,
                        double resetNoiseScale, boolean terminateWhenUnhealthy) {
        try {
            if (frameSkip < 1) throw new IllegalArgumentException(id + " frame_skip must be >= 1, got " + frameSkip);
            if (!(resetNoiseScale >= 0)) {
                throw new IllegalArgumentException(id + " reset_noise_scale must be >= 0, got " + resetNoiseScale);
            }
            this.id = id;
            this.version = version;
            this.model = model;
            this.frameSkip = frameSkip;
            this.dt = model.timestep() * frameSkip;
            this.resetNoiseScale = resetNoiseScale;
            this.terminateWhenUnhealthy = terminateWhenUnhealthy;
            this.actionSpace = actionSpace(model);
            this.observationSpace = BoxSpace.unbounded(observationDim);
            this.data = model.makeData();
            // Gymnasium's init_qpos / init_qvel: the state right after loading.
            this.initQpos = data.qpos().toArray();
            this.initQvel = data.qvel().toArray();
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** Box(ctrlrange) per actuator, as Gymnasium builds the action space. */
    private static BoxSpace actionSpace(MjModel model) {
        double[] range = model.actuatorCtrlRange();
        double[] low = new double[model.nu()], high = new double[model.nu()];
        for (int i = 0; i < low.length; i++) {
            low[i] = range[2 * i];
            high[i] = range[2 * i + 1];
        }
        return new BoxSpace(low, high);
    }

    // ---------------------------------------------------------------------------------------------- task hooks

    /** The position whose change over one step is the rewarded velocity: (x) or (x, y). */
    protected abstract double[] trackedPosition();

    /** Whether the current state is healthy (the complement of a terminal state when termination is on). */
    public abstract boolean isHealthy();

    /** Adds this task's reward terms, in order; the reward is their sum. */
    protected abstract void addRewardTerms(Map<String, Double> terms, double[] action, double xVelocity,
                                           double yVelocity, boolean healthy);

    /** Writes the observation of the current state into {@code out} (length {@code observationSpace().dim()}). */
    protected abstract void writeObservation(double[] out);

    /** Adds reset noise to {@code qpos0} and zero velocity. Default: U(±scale) on both (Hopper, Walker2d, Humanoid). */
    protected void addResetNoise(double[] qpos, double[] qvel, Rng rng, double scale) {
        for (int i = 0; i < qpos.length; i++) qpos[i] += rng.uniform(-scale, scale);
        for (int i = 0; i < qvel.length; i++) qvel[i] += rng.uniform(-scale, scale);
    }

    /** U(±scale) on qpos and scale·N(0, 1) on qvel: the HalfCheetah and Ant reset noise. */
    protected static void uniformPositionGaussianVelocityNoise(double[] qpos, double[] qvel, Rng rng, double scale) {
        for (int i = 0; i < qpos.length; i++) qpos[i] += rng.uniform(-scale, scale);
        for (int i = 0; i < qvel.length; i++) qvel[i] += scale * rng.gaussian();
    }

    // ---------------------------------------------------------------------------------------------- Env

    @Override
    public String id() {
        return id;
    }

    @Override
    public BoxSpace observationSpace() {
        return observationSpace;
    }

    @Override
    public BoxSpace actionSpace() {
        return actionSpace;
    }

    @Override
    public double[] reset(long seed) {
        rng.setState(new Rng(seed).state());
        return reset();
    }

    @Override
    public double[] reset() {
        data.reset();
        double[] qpos = initQpos.clone();
        double[] qvel = initQvel.clone();
        addResetNoise(qpos, qvel, rng, resetNoiseScale);
        setState(qpos, qvel);
        return observation();
    }

    @Override
    public StepResult step(double[] action) {
        actionSpace.checkShape(action, id + " action");
        if (!started) throw new IllegalStateException(id + ": call reset() before step()");
        double[] before = trackedPosition();
        data.ctrl().copyFrom(action);
        data.simulate(frameSkip);
        double[] after = trackedPosition();
        double xVelocity = (after[0] - before[0]) / dt;
        double yVelocity = after.length > 1 ? (after[1] - before[1]) / dt : 0;
        boolean healthy = isHealthy();
        var terms = new RewardTerms(4);
        addRewardTerms(terms, action, xVelocity, yVelocity, healthy);
        double reward = terms.sum();
        boolean terminated = terminateWhenUnhealthy && !healthy;
        return new StepResult(observation(), reward, terminated, false, terms.freeze());
    }

    /** Closes the model and data; idempotent. */
    @Override
    public void close() {
        model.close();
    }

    @Override
    public String toString() {
        return id + "(" + model.source() + ", frame_skip=" + frameSkip + ")";
    }

    // ---------------------------------------------------------------------------------------------- state access

    /** Puts the simulation in a hand-made state: writes qpos and qvel, then {@code mj_forward} (Gymnasium's set_state). */
    public void setState(double[] qpos, double[] qvel) {
        data.qpos().copyFrom(qpos);
        data.qvel().copyFrom(qvel);
        data.forward();
        started = true;
    }

    /** The observation of the current state. */
    public double[] observation() {
        double[] out = new double[observationSpace.dim()];
        writeObservation(out);
        return out;
    }

    public Version version() { return version; }
    public MjModel model() { return model; }
    public MjData data() { return data; }
    public int frameSkip() { return frameSkip; }
    /** Seconds per env step: {@code timestep · frameSkip}. */
    public double dt() { return dt; }
    public double resetNoiseScale() { return resetNoiseScale; }
    public boolean terminateWhenUnhealthy() { return terminateWhenUnhealthy; }
    /** {@return a copy of the state after loading, {@code qpos0}} */
    public double[] initQpos() { return initQpos.clone(); }
    public double[] initQvel() { return initQvel.clone(); }

    // ---------------------------------------------------------------------------------------------- helpers for tasks

    /** The healthy reward: v5 pays it only while healthy; v4 also on the terminating step when termination is on. */
    protected double survive(double healthyReward, boolean healthy) {
        boolean paid = version == Version.V4 ? healthy || terminateWhenUnhealthy : healthy;
        return paid ? healthyReward : 0;
    }

    protected static double sumOfSquares(double[] values) {
        double sum = 0;
        for (double v : values) sum += v * v;
        return sum;
    }

    /** Copies {@code count} doubles of {@code array} from {@code from} into {@code out[pos...]}; returns the next pos. */
    protected static int put(MjArray array, int from, int count, double[] out, int pos) {
        array.copyTo(from, out, pos, count);
        return pos + count;
    }

    /** Like {@link #put} but clipped to [low, high]. */
    protected static int putClipped(MjArray array, int from, int count, double low, double high, double[] out, int pos) {
        array.copyTo(from, out, pos, count);
        for (int i = pos; i < pos + count; i++) out[i] = Math.clamp(out[i], low, high);
        return pos + count;
    }

    /**
     * The task's model: option {@code xml_file} (a path to an MJCF file, or the name of a bundled model such as
     * {@code walker2d_v5.xml}) or the bundled default.
     */
    static MjModel loadModel(TaskOptions options, String defaultResource) {
        String xmlFile = options.text("xml_file", null);
        if (xmlFile == null) return MjModel.fromResource(defaultResource);
        Path path = Path.of(xmlFile);
        if (Files.isRegularFile(path)) return MjModel.fromFile(path);
        if (MujocoEnv.class.getResource(xmlFile) != null && !xmlFile.contains("/")) return MjModel.fromResource(xmlFile);
        throw new IllegalArgumentException("xml_file " + xmlFile + " is neither an existing file nor a bundled model"
                + " (hopper.xml, half_cheetah.xml, walker2d.xml, walker2d_v5.xml, ant.xml, humanoid.xml)");
    }
}
