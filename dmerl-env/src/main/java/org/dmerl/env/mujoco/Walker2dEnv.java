package org.dmerl.env.mujoco;

import java.util.Map;
import java.util.Set;

/**
 * Walker2d-v4 / Walker2d-v5: a planar biped that must walk forward.
 *
 * <p>Facts (Gymnasium 1.4): frame_skip 4 (dt 0.008); observation {@code qpos[1:]} (8) + {@code clip(qvel, -10, 10)}
 * (9) = 17; reward = {@code forward_reward_weight·vx} + healthy reward − {@code ctrl_cost_weight·Σa²} with defaults
 * 1, 1, 1e-3; healthy when the height {@code qpos[1]} is inside {@code healthy_z_range} (0.8, 2) and the angle
 * {@code qpos[2]} inside {@code healthy_angle_range} (−1, 1), open intervals; reset noise U(±5e-3) on qpos and qvel.
 * v4 uses {@code walker2d.xml} (foot friction 0.9 right, 1.9 left); v5 uses {@code walker2d_v5.xml} (1.9 on both
 * feet) and pays the healthy reward only while healthy.
 */
public final class Walker2dEnv extends MujocoEnv {

    private static final Set<String> V4_OPTIONS = Set.of("forward_reward_weight", "ctrl_cost_weight",
            "healthy_reward", "terminate_when_unhealthy", "healthy_z_range", "healthy_angle_range",
            "reset_noise_scale", "exclude_current_positions_from_observation");
    private static final Set<String> V5_OPTIONS = HopperEnv.union(V4_OPTIONS, "xml_file", "frame_skip");
    private static final double VELOCITY_CLIP = 10;

    private final double forwardRewardWeight;
    private final double ctrlCostWeight;
    private final double healthyReward;
    private final Range healthyZRange;
    private final Range healthyAngleRange;
    private final int skippedPositions;

    public Walker2dEnv(Version version, Map<String, Object> options) {
        String id = "Walker2d-" + version.suffix();
        var o = new TaskOptions(id, options, version == Version.V4 ? V4_OPTIONS : V5_OPTIONS);
        forwardRewardWeight = o.number("forward_reward_weight", 1);
        ctrlCostWeight = o.number("ctrl_cost_weight", 1e-3);
        healthyReward = o.number("healthy_reward", 1);
        healthyZRange = o.range("healthy_z_range", new Range(0.8, 2.0));
        healthyAngleRange = o.range("healthy_angle_range", new Range(-1, 1));
        int skipped = o.flag("exclude_current_positions_from_observation", true) ? 1 : 0;
        skippedPositions = skipped;
        int frameSkip = o.integer("frame_skip", 4);
        double resetNoiseScale = o.number("reset_noise_scale", 5e-3);
        boolean terminate = o.flag("terminate_when_unhealthy", true);
        MjModel model = loadModel(o, version == Version.V4 ? "walker2d.xml" : "walker2d_v5.xml");
        super(id, version, model, frameSkip, model.nq() - skipped + model.nv(), resetNoiseScale, terminate);
    }

    @Override
    protected double[] trackedPosition() {
        return new double[] {data().qpos().get(0)};
    }

    @Override
    public boolean isHealthy() {
        var qpos = data().qpos();
        return healthyZRange.containsOpen(qpos.get(1)) && healthyAngleRange.containsOpen(qpos.get(2));
    }

    @Override
    protected void addRewardTerms(Map<String, Double> terms, double[] action, double xVelocity, double yVelocity,
                                  boolean healthy) {
        terms.put(REWARD_FORWARD, forwardRewardWeight * xVelocity);
        terms.put(REWARD_CTRL, -ctrlCostWeight * sumOfSquares(action));
        terms.put(REWARD_SURVIVE, survive(healthyReward, healthy));
    }

    @Override
    protected void writeObservation(double[] out) {
        var qpos = data().qpos();
        int pos = put(qpos, skippedPositions, qpos.length() - skippedPositions, out, 0);
        putClipped(data().qvel(), 0, data().qvel().length(), -VELOCITY_CLIP, VELOCITY_CLIP, out, pos);
    }
}
