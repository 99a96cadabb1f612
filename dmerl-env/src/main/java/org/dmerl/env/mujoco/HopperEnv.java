package org.dmerl.env.mujoco;

import java.util.Map;
import java.util.Set;

/**
 * Hopper-v4 / Hopper-v5: a one-legged planar robot that must hop forward.
 *
 * <p>Facts (Gymnasium 1.4, both versions on the same model): frame_skip 4 (dt 0.008); observation
 * {@code qpos[1:]} (5) + {@code clip(qvel, -10, 10)} (6) = 11; reward = {@code forward_reward_weight·vx}
 * + healthy reward − {@code ctrl_cost_weight·Σa²} with defaults 1, 1, 1e-3; healthy when every entry of
 * {@code (qpos[2:], qvel)} is inside {@code healthy_state_range} (−100, 100), the height {@code qpos[1]} is inside
 * {@code healthy_z_range} (0.7, ∞) and the angle {@code qpos[2]} inside {@code healthy_angle_range} (−0.2, 0.2),
 * all open intervals; reset noise U(±5e-3) on qpos and qvel. v5 pays the healthy reward only while healthy.
 */
public final class HopperEnv extends MujocoEnv {

    private static final Set<String> V4_OPTIONS = Set.of("forward_reward_weight", "ctrl_cost_weight",
            "healthy_reward", "terminate_when_unhealthy", "healthy_state_range", "healthy_z_range",
            "healthy_angle_range", "reset_noise_scale", "exclude_current_positions_from_observation");
    private static final Set<String> V5_OPTIONS = union(V4_OPTIONS, "xml_file", "frame_skip");
    private static final double VELOCITY_CLIP = 10;

    private final double forwardRewardWeight;
    private final double ctrlCostWeight;
    private final double healthyReward;
    private final Range healthyStateRange;
    private final Range healthyZRange;
    private final Range healthyAngleRange;
    private final int skippedPositions;

    public HopperEnv(Version version, Map<String, Object> options) {
        String id = "Hopper-" + version.suffix();
        var o = new TaskOptions(id, options, version == Version.V4 ? V4_OPTIONS : V5_OPTIONS);
        forwardRewardWeight = o.number("forward_reward_weight", 1);
        ctrlCostWeight = o.number("ctrl_cost_weight", 1e-3);
        healthyReward = o.number("healthy_reward", 1);
        healthyStateRange = o.range("healthy_state_range", new Range(-100, 100));
        healthyZRange = o.range("healthy_z_range", new Range(0.7, Double.POSITIVE_INFINITY));
        healthyAngleRange = o.range("healthy_angle_range", new Range(-0.2, 0.2));
        int skipped = o.flag("exclude_current_positions_from_observation", true) ? 1 : 0;
        skippedPositions = skipped;
        int frameSkip = o.integer("frame_skip", 4);
        double resetNoiseScale = o.number("reset_noise_scale", 5e-3);
        boolean terminate = o.flag("terminate_when_unhealthy", true);
        MjModel model = loadModel(o, "hopper.xml");
        super(id, version, model, frameSkip, model.nq() - skipped + model.nv(), resetNoiseScale, terminate);
    }

    @Override
    protected double[] trackedPosition() {
        return new double[] {data().qpos().get(0)};
    }

    @Override
    public boolean isHealthy() {
        var qpos = data().qpos();
        var qvel = data().qvel();
        for (int i = 2; i < qpos.length(); i++) if (!healthyStateRange.containsOpen(qpos.get(i))) return false;
        for (int i = 0; i < qvel.length(); i++) if (!healthyStateRange.containsOpen(qvel.get(i))) return false;
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

    static Set<String> union(Set<String> base, String... more) {
        var all = new java.util.HashSet<>(base);
        all.addAll(java.util.List.of(more));
        return Set.copyOf(all);
    }
}
