package org.dmerl.env.mujoco;

import java.util.Map;
import java.util.Set;
import org.dmerl.tensor.Rng;

/**
 * HalfCheetah-v4 / HalfCheetah-v5: a planar cat-like robot that must run forward; it never terminates.
 *
 * <p>Facts (Gymnasium 1.4, same model and semantics in both versions): frame_skip 5 (dt 0.05); observation
 * {@code qpos[1:]} (8) + {@code qvel} (9) = 17, unclipped; reward = {@code forward_reward_weight·vx}
 * − {@code ctrl_cost_weight·Σa²} with defaults 1 and 0.1; reset noise U(±0.1) on qpos and 0.1·N(0, 1) on qvel.
 */
public final class HalfCheetahEnv extends MujocoEnv {

    private static final Set<String> V4_OPTIONS = Set.of("forward_reward_weight", "ctrl_cost_weight",
            "reset_noise_scale", "exclude_current_positions_from_observation");
    private static final Set<String> V5_OPTIONS = HopperEnv.union(V4_OPTIONS, "xml_file", "frame_skip");

    private final double forwardRewardWeight;
    private final double ctrlCostWeight;
    private final int skippedPositions;

    public HalfCheetahEnv(Version version, Map<String, Object> options) {
        String id = "HalfCheetah-" + version.suffix();
        var o = new TaskOptions(id, options, version == Version.V4 ? V4_OPTIONS : V5_OPTIONS);
        forwardRewardWeight = o.number("forward_reward_weight", 1);
        ctrlCostWeight = o.number("ctrl_cost_weight", 0.1);
        int skipped = o.flag("exclude_current_positions_from_observation", true) ? 1 : 0;
        skippedPositions = skipped;
        int frameSkip = o.integer("frame_skip", 5);
        double resetNoiseScale = o.number("reset_noise_scale", 0.1);
        MjModel model = loadModel(o, "half_cheetah.xml");
        super(id, version, model, frameSkip, model.nq() - skipped + model.nv(), resetNoiseScale, false);
    }

    @Override
    protected double[] trackedPosition() {
        return new double[] {data().qpos().get(0)};
    }

    /** The cheetah has no unhealthy states. */
    @Override
    public boolean isHealthy() {
        return true;
    }

    @Override
    protected void addRewardTerms(Map<String, Double> terms, double[] action, double xVelocity, double yVelocity,
                                  boolean healthy) {
        terms.put(REWARD_FORWARD, forwardRewardWeight * xVelocity);
        terms.put(REWARD_CTRL, -ctrlCostWeight * sumOfSquares(action));
    }

    @Override
    protected void writeObservation(double[] out) {
        var qpos = data().qpos();
        int pos = put(qpos, skippedPositions, qpos.length() - skippedPositions, out, 0);
        put(data().qvel(), 0, data().qvel().length(), out, pos);
    }

    /** U(±scale) on qpos, scale·N(0, 1) on qvel. */
    @Override
    protected void addResetNoise(double[] qpos, double[] qvel, Rng rng, double scale) {
        uniformPositionGaussianVelocityNoise(qpos, qvel, rng, scale);
    }
}
