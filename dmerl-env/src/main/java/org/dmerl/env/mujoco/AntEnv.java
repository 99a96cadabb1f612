package org.dmerl.env.mujoco;

import java.util.Map;
import java.util.Set;
import org.dmerl.tensor.Rng;

/**
 * Ant-v4 / Ant-v5: a four-legged robot on a free joint that must walk in +x.
 *
 * <p>Facts (Gymnasium 1.4): frame_skip 5 (dt 0.05); forward velocity from the x-y position of the torso body frame
 * ({@code xpos[main_body]}, body 1); reward = {@code forward_reward_weight·vx} + healthy reward (1)
 * − {@code ctrl_cost_weight·Σa²} (0.5) − contact cost, where contact cost = {@code contact_cost_weight} (5e-4)
 * · Σ clip(cfrc_ext, {@code contact_force_range} (−1, 1))²; healthy when the state is finite and the torso height
 * {@code qpos[2]} is inside {@code healthy_z_range} [0.2, 1] (closed); reset noise U(±0.1) on qpos and 0.1·N(0, 1)
 * on qvel.
 *
 * <ul>
 *   <li>v4: observation {@code qpos[2:]} (13) + {@code qvel} (14) = 27; contact forces (all 14 bodies, +84) and the
 *       contact cost only with {@code use_contact_forces=true}; healthy reward also paid on the terminating step.</li>
 *   <li>v5: observation 27 + clipped {@code cfrc_ext[1:]} (78) = 105 ({@code include_cfrc_ext_in_observation});
 *       contact cost always on; healthy reward only while healthy; {@code main_body} and {@code forward_reward_weight}
 *       options.</li>
 * </ul>
 */
public final class AntEnv extends MujocoEnv {

    private static final Set<String> V4_OPTIONS = Set.of("xml_file", "ctrl_cost_weight", "use_contact_forces",
            "contact_cost_weight", "healthy_reward", "terminate_when_unhealthy", "healthy_z_range",
            "contact_force_range", "reset_noise_scale", "exclude_current_positions_from_observation");
    private static final Set<String> V5_OPTIONS = Set.of("xml_file", "frame_skip", "forward_reward_weight",
            "ctrl_cost_weight", "contact_cost_weight", "healthy_reward", "main_body", "terminate_when_unhealthy",
            "healthy_z_range", "contact_force_range", "reset_noise_scale",
            "exclude_current_positions_from_observation", "include_cfrc_ext_in_observation");

    private final double forwardRewardWeight;
    private final double ctrlCostWeight;
    private final double contactCostWeight;
    private final double healthyReward;
    private final Range healthyZRange;
    private final Range contactForceRange;
    private final boolean contactCost;
    private final int skippedPositions;
    private final int firstObservedContactBody; // -1: contact forces not observed
    private final int mainBody;

    public AntEnv(Version version, Map<String, Object> options) {
        String id = "Ant-" + version.suffix();
        boolean v5 = version == Version.V5;
        var o = new TaskOptions(id, options, v5 ? V5_OPTIONS : V4_OPTIONS);
        forwardRewardWeight = o.number("forward_reward_weight", 1);
        ctrlCostWeight = o.number("ctrl_cost_weight", 0.5);
        contactCostWeight = o.number("contact_cost_weight", 5e-4);
        healthyReward = o.number("healthy_reward", 1);
        healthyZRange = o.range("healthy_z_range", new Range(0.2, 1.0));
        contactForceRange = o.range("contact_force_range", new Range(-1, 1));
        boolean useContactForces = o.flag("use_contact_forces", false);
        contactCost = v5 || useContactForces;
        // v5 drops the world body's row (always zero); v4 observed all rows.
        int firstContactBody = v5 ? (o.flag("include_cfrc_ext_in_observation", true) ? 1 : -1)
                : (useContactForces ? 0 : -1);
        firstObservedContactBody = firstContactBody;
        int skipped = o.flag("exclude_current_positions_from_observation", true) ? 2 : 0;
        skippedPositions = skipped;
        String mainBodyName = o.text("main_body", "1");
        int frameSkip = o.integer("frame_skip", 5);
        double resetNoiseScale = o.number("reset_noise_scale", 0.1);
        boolean terminate = o.flag("terminate_when_unhealthy", true);
        MjModel model = loadModel(o, "ant.xml");
        int contactDim = firstContactBody < 0 ? 0 : 6 * (model.nbody() - firstContactBody);
        super(id, version, model, frameSkip, model.nq() - skipped + model.nv() + contactDim, resetNoiseScale,
                terminate);
        try {
            mainBody = mainBodyName.matches("\\d+") ? checkBody(model, Integer.parseInt(mainBodyName))
                    : model.bodyId(mainBodyName);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private static int checkBody(MjModel model, int body) {
        if (body >= model.nbody()) {
            throw new IllegalArgumentException("main_body " + body + " is not a body id (model has " + model.nbody() + ")");
        }
        return body;
    }

    @Override
    protected double[] trackedPosition() {
        var xpos = data().xpos();
        return new double[] {xpos.get(mainBody, 0), xpos.get(mainBody, 1)};
    }

    @Override
    public boolean isHealthy() {
        var qpos = data().qpos();
        var qvel = data().qvel();
        for (int i = 0; i < qpos.length(); i++) if (!Double.isFinite(qpos.get(i))) return false;
        for (int i = 0; i < qvel.length(); i++) if (!Double.isFinite(qvel.get(i))) return false;
        return healthyZRange.containsClosed(qpos.get(2));
    }

    @Override
    protected void addRewardTerms(Map<String, Double> terms, double[] action, double xVelocity, double yVelocity,
                                  boolean healthy) {
        terms.put(REWARD_FORWARD, forwardRewardWeight * xVelocity);
        terms.put(REWARD_CTRL, -ctrlCostWeight * sumOfSquares(action));
        terms.put(REWARD_CONTACT, contactCost ? -contactCost() : 0.0);
        terms.put(REWARD_SURVIVE, survive(healthyReward, healthy));
    }

    /** {@code contact_cost_weight · Σ clip(cfrc_ext, contact_force_range)²} over every body. */
    public double contactCost() {
        var cfrcExt = data().cfrcExt();
        double sum = 0;
        for (int i = 0; i < cfrcExt.length(); i++) {
            double f = contactForceRange.clip(cfrcExt.get(i));
            sum += f * f;
        }
        return contactCostWeight * sum;
    }

    @Override
    protected void writeObservation(double[] out) {
        var qpos = data().qpos();
        var cfrcExt = data().cfrcExt();
        int pos = put(qpos, skippedPositions, qpos.length() - skippedPositions, out, 0);
        pos = put(data().qvel(), 0, data().qvel().length(), out, pos);
        if (firstObservedContactBody >= 0) {
            int from = 6 * firstObservedContactBody;
            putClipped(cfrcExt, from, cfrcExt.length() - from, contactForceRange.low(), contactForceRange.high(), out,
                    pos);
        }
    }

    @Override
    protected void addResetNoise(double[] qpos, double[] qvel, Rng rng, double scale) {
        uniformPositionGaussianVelocityNoise(qpos, qvel, rng, scale);
    }
}
