package org.dmerl.env.mujoco;

import java.util.Map;
import java.util.Set;

/**
 * Humanoid-v4 / Humanoid-v5: a 3D biped that must walk forward without falling.
 *
 * <p>Facts (Gymnasium 1.4): frame_skip 5 (dt 0.015); forward velocity from the mass-weighted centre of mass
 * (Σ body_mass·xipos / Σ body_mass, x-y); reward = {@code forward_reward_weight·vx} (1.25) + healthy reward (5)
 * − {@code ctrl_cost_weight·Σa²} (0.1) − contact cost; healthy when the torso height {@code qpos[2]} is inside
 * {@code healthy_z_range} (1, 2), open; reset noise U(±1e-2) on qpos and qvel.
 *
 * <ul>
 *   <li>v4: observation {@code qpos[2:]} (22) + {@code qvel} (23) + {@code cinert} (140) + {@code cvel} (84)
 *       + {@code qfrc_actuator} (23) + {@code cfrc_ext} (84) = 376; no contact cost (Gymnasium's v4 computes none);
 *       healthy reward also paid on the terminating step.</li>
 *   <li>v5: the world body's rows and the root's actuator forces are dropped: 22 + 23 + {@code cinert[1:]} (130)
 *       + {@code cvel[1:]} (78) + {@code qfrc_actuator[6:]} (17) + {@code cfrc_ext[1:]} (78) = 348, each part
 *       optional ({@code include_*_in_observation}); contact cost = min({@code contact_cost_weight} (5e-7)
 *       · Σ cfrc_ext², {@code contact_cost_range} (−∞, 10)); healthy reward only while healthy.</li>
 * </ul>
 */
public final class HumanoidEnv extends MujocoEnv {

    private static final Set<String> V4_OPTIONS = Set.of("forward_reward_weight", "ctrl_cost_weight",
            "healthy_reward", "terminate_when_unhealthy", "healthy_z_range", "reset_noise_scale",
            "exclude_current_positions_from_observation");
    private static final Set<String> V5_OPTIONS = HopperEnv.union(V4_OPTIONS, "xml_file", "frame_skip",
            "contact_cost_weight", "contact_cost_range", "include_cinert_in_observation",
            "include_cvel_in_observation", "include_qfrc_actuator_in_observation", "include_cfrc_ext_in_observation");

    private final double forwardRewardWeight;
    private final double ctrlCostWeight;
    private final double contactCostWeight;
    private final Range contactCostRange;
    private final double healthyReward;
    private final Range healthyZRange;
    private final boolean v5;
    private final int skippedPositions;
    private final boolean cinert, cvel, qfrcActuator, cfrcExt;
    private final double[] bodyMass;
    private final double totalMass;

    public HumanoidEnv(Version version, Map<String, Object> options) {
        String id = "Humanoid-" + version.suffix();
        boolean isV5 = version == Version.V5;
        v5 = isV5;
        var o = new TaskOptions(id, options, isV5 ? V5_OPTIONS : V4_OPTIONS);
        forwardRewardWeight = o.number("forward_reward_weight", 1.25);
        ctrlCostWeight = o.number("ctrl_cost_weight", 0.1);
        contactCostWeight = o.number("contact_cost_weight", 5e-7);
        contactCostRange = o.range("contact_cost_range", new Range(Double.NEGATIVE_INFINITY, 10));
        healthyReward = o.number("healthy_reward", 5);
        healthyZRange = o.range("healthy_z_range", new Range(1, 2));
        boolean withCinert = o.flag("include_cinert_in_observation", true);
        boolean withCvel = o.flag("include_cvel_in_observation", true);
        boolean withQfrc = o.flag("include_qfrc_actuator_in_observation", true);
        boolean withCfrc = o.flag("include_cfrc_ext_in_observation", true);
        cinert = withCinert;
        cvel = withCvel;
        qfrcActuator = withQfrc;
        cfrcExt = withCfrc;
        int skipped = o.flag("exclude_current_positions_from_observation", true) ? 2 : 0;
        skippedPositions = skipped;
        int frameSkip = o.integer("frame_skip", 5);
        double resetNoiseScale = o.number("reset_noise_scale", 1e-2);
        boolean terminate = o.flag("terminate_when_unhealthy", true);
        MjModel model = loadModel(o, "humanoid.xml");
        // v5 skips body 0 (the world: zero rows) and the free joint's 6 actuator-force entries (always zero).
        int firstBody = isV5 ? 1 : 0, firstDof = isV5 ? 6 : 0;
        int bodies = model.nbody() - firstBody;
        int dim = model.nq() - skipped + model.nv() + (withCinert ? 10 * bodies : 0) + (withCvel ? 6 * bodies : 0)
                + (withQfrc ? model.nv() - firstDof : 0) + (withCfrc ? 6 * bodies : 0);
        double[] masses = model.bodyMass();
        double total = 0;
        for (double m : masses) total += m;
        bodyMass = masses;
        totalMass = total;
        super(id, version, model, frameSkip, dim, resetNoiseScale, terminate);
    }

    /** The x-y centre of mass: Σ body_mass·xipos / Σ body_mass (Gymnasium's {@code mass_center}). */
    @Override
    protected double[] trackedPosition() {
        var xipos = data().xipos();
        double x = 0, y = 0;
        for (int b = 0; b < bodyMass.length; b++) {
            x += bodyMass[b] * xipos.get(b, 0);
            y += bodyMass[b] * xipos.get(b, 1);
        }
        return new double[] {x / totalMass, y / totalMass};
    }

    @Override
    public boolean isHealthy() {
        return healthyZRange.containsOpen(data().qpos().get(2));
    }

    @Override
    protected void addRewardTerms(Map<String, Double> terms, double[] action, double xVelocity, double yVelocity,
                                  boolean healthy) {
        terms.put(REWARD_FORWARD, forwardRewardWeight * xVelocity);
        terms.put(REWARD_CTRL, -ctrlCostWeight * sumOfSquares(action));
        terms.put(REWARD_CONTACT, v5 ? -contactCost() : 0.0);
        terms.put(REWARD_SURVIVE, survive(healthyReward, healthy));
    }

    /** {@code clip(contact_cost_weight · Σ cfrc_ext², contact_cost_range)} (the v5 term). */
    public double contactCost() {
        var forces = data().cfrcExt();
        double sum = 0;
        for (int i = 0; i < forces.length(); i++) sum += forces.get(i) * forces.get(i);
        return contactCostRange.clip(contactCostWeight * sum);
    }

    @Override
    protected void writeObservation(double[] out) {
        var data = data();
        int firstBody = v5 ? 1 : 0, firstDof = v5 ? 6 : 0;
        var qpos = data.qpos();
        int pos = put(qpos, skippedPositions, qpos.length() - skippedPositions, out, 0);
        pos = put(data.qvel(), 0, data.qvel().length(), out, pos);
        if (cinert) pos = put(data.cinert(), 10 * firstBody, data.cinert().length() - 10 * firstBody, out, pos);
        if (cvel) pos = put(data.cvel(), 6 * firstBody, data.cvel().length() - 6 * firstBody, out, pos);
        if (qfrcActuator) pos = put(data.qfrcActuator(), firstDof, data.qfrcActuator().length() - firstDof, out, pos);
        if (cfrcExt) put(data.cfrcExt(), 6 * firstBody, data.cfrcExt().length() - 6 * firstBody, out, pos);
    }
}
