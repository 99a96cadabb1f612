package org.dmerl.env.mujoco;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.dmerl.env.Env;
import org.dmerl.env.EnvRegistry;
import org.dmerl.env.StepResult;
import org.dmerl.env.TimeLimit;
import org.dmerl.env.mujoco.MujocoEnv.Version;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The ten registered tasks: shapes, time limits and the reset/step facts of environments.md. */
class MujocoTasksTest {

    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of("Hopper-v4", 11, 3, 1.0, 0.008), Arguments.of("Hopper-v5", 11, 3, 1.0, 0.008),
                Arguments.of("HalfCheetah-v4", 17, 6, 1.0, 0.05), Arguments.of("HalfCheetah-v5", 17, 6, 1.0, 0.05),
                Arguments.of("Walker2d-v4", 17, 6, 1.0, 0.008), Arguments.of("Walker2d-v5", 17, 6, 1.0, 0.008),
                Arguments.of("Ant-v4", 27, 8, 1.0, 0.05), Arguments.of("Ant-v5", 105, 8, 1.0, 0.05),
                Arguments.of("Humanoid-v4", 376, 17, 0.4, 0.015), Arguments.of("Humanoid-v5", 348, 17, 0.4, 0.015));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void registeredTaskHasGymnasiumsSpacesTimestepAndTimeLimit(String id, int obsDim, int actDim, double bound,
                                                                double dt) {
        MujocoTestSupport.library();
        try (Env env = EnvRegistry.make(id)) {
            assertEquals(id, env.id());
            assertEquals(obsDim, env.observationSpace().dim(), "observation dim");
            assertEquals(actDim, env.actionSpace().dim(), "action dim");
            for (int i = 0; i < actDim; i++) {
                assertEquals(-bound, env.actionSpace().low()[i]);
                assertEquals(bound, env.actionSpace().high()[i]);
            }
            assertEquals(1000, env.unwrap(TimeLimit.class).orElseThrow().maxEpisodeSteps());
            var raw = env.unwrap(MujocoEnv.class).orElseThrow();
            assertEquals(dt, raw.dt(), 1e-15);
            assertEquals(obsDim, env.reset(3).length);
        }
    }

    @Test
    void observationOptionsChangeTheDimensionsAsInGymnasium() {
        MujocoTestSupport.library();
        assertEquals(12, dim("Hopper-v5", Map.of("exclude_current_positions_from_observation", false)));
        assertEquals(18, dim("HalfCheetah-v4", Map.of("exclude_current_positions_from_observation", "false")));
        assertEquals(111, dim("Ant-v4", Map.of("use_contact_forces", true)));
        assertEquals(27, dim("Ant-v5", Map.of("include_cfrc_ext_in_observation", false)));
        assertEquals(350, dim("Humanoid-v5", Map.of("exclude_current_positions_from_observation", false)));
        assertEquals(348 - 130, dim("Humanoid-v5", Map.of("include_cinert_in_observation", false)));
        assertEquals(45, dim("Humanoid-v5", Map.of("include_cinert_in_observation", false,
                "include_cvel_in_observation", false, "include_qfrc_actuator_in_observation", false,
                "include_cfrc_ext_in_observation", false)));
    }

    @Test
    void unknownOrMalformedOptionsAreRejectedByName() {
        var unknown = assertThrows(IllegalArgumentException.class,
                () -> new HopperEnv(Version.V5, Map.of("ctrl_cost_wieght", 0.1)));
        assertTrue(unknown.getMessage().contains("ctrl_cost_wieght"), unknown.getMessage());
        var v4Only = assertThrows(IllegalArgumentException.class, () -> new HopperEnv(Version.V4, Map.of("frame_skip", 2)));
        assertTrue(v4Only.getMessage().contains("frame_skip"), v4Only.getMessage());
        var badRange = assertThrows(IllegalArgumentException.class,
                () -> new HopperEnv(Version.V5, Map.of("healthy_z_range", "1,0")));
        assertTrue(badRange.getMessage().contains("healthy_z_range"), badRange.getMessage());
    }

    @Test
    void frameSkipAndRewardWeightsAreOptions() {
        MujocoTestSupport.library();
        try (var env = new HopperEnv(Version.V5, Map.of("frame_skip", 2, "ctrl_cost_weight", 0.5,
                "healthy_z_range", List.of(0.5, 3)))) {
            assertEquals(0.004, env.dt(), 1e-15);
            env.reset(0);
            StepResult step = env.step(new double[] {1, 0, 0});
            assertEquals(-0.5, step.terms().get(MujocoEnv.REWARD_CTRL));
            assertEquals(0.004, env.data().time(), 1e-12);
        }
    }

    // ------------------------------------------------------------------------------------------ reset

    @Test
    void resetAddsBoundedUniformNoiseToQpos0AndZeroVelocity() {
        MujocoTestSupport.library();
        try (var env = new HopperEnv(Version.V5, Map.of())) {
            double[] qpos0 = env.model().qpos0();
            double maxQpos = 0, maxQvel = 0;
            for (int episode = 0; episode < 50; episode++) {
                if (episode == 0) env.reset(11); else env.reset();
                assertEquals(0.0, env.data().time());
                for (int i = 0; i < qpos0.length; i++) {
                    maxQpos = Math.max(maxQpos, Math.abs(env.data().qpos().get(i) - qpos0[i]));
                }
                for (int i = 0; i < env.model().nv(); i++) {
                    maxQvel = Math.max(maxQvel, Math.abs(env.data().qvel().get(i)));
                }
            }
            assertTrue(maxQpos <= 5e-3 && maxQpos > 4e-3, "qpos noise " + maxQpos);
            assertTrue(maxQvel <= 5e-3 && maxQvel > 4e-3, "qvel noise " + maxQvel);
        }
        try (var env = new HopperEnv(Version.V5, Map.of("reset_noise_scale", 0))) {
            env.reset(5);
            assertArrayEquals(env.model().qpos0(), env.data().qpos().toArray());
            assertArrayEquals(new double[6], env.data().qvel().toArray());
        }
    }

    @Test
    void cheetahAndAntResetVelocityNoiseIsGaussianWithStdPointOne() {
        MujocoTestSupport.library();
        for (var env : List.<MujocoEnv>of(new HalfCheetahEnv(Version.V5, Map.of()), new AntEnv(Version.V5, Map.of()))) {
            try (env) {
                double sum = 0, sumSq = 0, maxQpos = 0;
                int n = 0;
                double[] qpos0 = env.model().qpos0();
                env.reset(21);
                for (int episode = 0; episode < 300; episode++) {
                    env.reset();
                    for (double v : env.data().qvel().toArray()) {
                        sum += v;
                        sumSq += v * v;
                        n++;
                    }
                    for (int i = 0; i < qpos0.length; i++) {
                        // mj_forward normalises the ant's root quaternion (qpos[3..6]) in place, as in Gymnasium.
                        if (env instanceof AntEnv && i >= 3 && i < 7) continue;
                        maxQpos = Math.max(maxQpos, Math.abs(env.data().qpos().get(i) - qpos0[i]));
                    }
                }
                double std = Math.sqrt(sumSq / n - (sum / n) * (sum / n));
                assertEquals(0.1, std, 0.01, env.id() + " qvel noise std");
                assertTrue(maxQpos <= 0.1 && maxQpos > 0.09, env.id() + " qpos noise " + maxQpos);
            }
        }
    }

    @Test
    void sameSeedSameEpisodeAndDifferentSeedsDiffer() {
        MujocoTestSupport.library();
        try (var env = new HumanoidEnv(Version.V5, Map.of())) {
            double[] a = env.reset(42), b = env.reset(42), c = env.reset(43);
            assertArrayEquals(a, b);
            assertFalse(java.util.Arrays.equals(a, c));
        }
    }

    @Test
    void stepBeforeResetIsRefused() {
        MujocoTestSupport.library();
        try (var env = new HopperEnv(Version.V5, Map.of())) {
            assertThrows(IllegalStateException.class, () -> env.step(new double[3]));
        }
    }

    // ------------------------------------------------------------------------------------------ step and reward

    @Test
    void actionIsWrittenUnclippedAndMujocoClampsItToTheControlRange() {
        MujocoTestSupport.library();
        try (var big = new HopperEnv(Version.V5, Map.of()); var unit = new HopperEnv(Version.V5, Map.of())) {
            big.reset(8);
            unit.reset(8);
            StepResult a = big.step(new double[] {5, -5, 5});
            StepResult b = unit.step(new double[] {1, -1, 1});
            assertEquals(5.0, big.data().ctrl().get(0), "ctrl holds the raw action");
            assertArrayEquals(b.observation(), a.observation(), "MuJoCo clamps ctrl to ctrlrange");
            assertEquals(-1e-3 * 75, a.terms().get(MujocoEnv.REWARD_CTRL), 1e-15, "cost of the unclipped action");
        }
    }

    @Test
    void hopperForwardRewardIsTheRootVelocityInFlight() {
        MujocoTestSupport.library();
        try (var env = new HopperEnv(Version.V5, Map.of())) {
            double[] qpos = env.model().qpos0();
            qpos[1] = 3.0; // high above the floor: no contact, and the x slide has no damping
            double[] qvel = new double[6];
            qvel[0] = 2.0;
            env.setState(qpos, qvel);
            StepResult step = env.step(new double[3]);
            assertEquals(2.0, step.terms().get(MujocoEnv.REWARD_FORWARD), 1e-9);
            assertEquals(0.0, step.terms().get(MujocoEnv.REWARD_CTRL), 0.0);
            assertEquals(1.0, step.terms().get(MujocoEnv.REWARD_SURVIVE));
            assertRewardIsExactlyTheSum(step);
            assertFalse(step.terminated());
            assertFalse(step.truncated(), "MuJoCo envs never truncate; the TimeLimit does");
        }
    }

    @Test
    void hopperHealthFollowsHeightAngleAndStateRanges() {
        MujocoTestSupport.library();
        try (var env = new HopperEnv(Version.V5, Map.of())) {
            assertTrue(healthy(env, 1, 1.25));
            assertFalse(healthy(env, 1, 0.7), "z must exceed 0.7 (open interval)");
            assertTrue(healthy(env, 1, 0.71));
            assertTrue(healthy(env, 1, 150), "z has no upper bound and is outside the state-range check");
            assertTrue(healthy(env, 2, 0.19));
            assertFalse(healthy(env, 2, 0.2));
            assertFalse(healthy(env, 2, -0.2));
            assertTrue(healthy(env, 0, 1000), "x is not checked");
            assertFalse(healthy(env, 4, 100), "joint angles must stay inside (-100, 100)");
            env.setState(env.model().qpos0(), new double[] {0, 0, 0, 0, 0, 100});
            assertFalse(env.isHealthy(), "velocities must stay inside (-100, 100)");
        }
    }

    @Test
    void walkerHealthUsesHeightTwoAndAngleOne() {
        MujocoTestSupport.library();
        try (var env = new Walker2dEnv(Version.V5, Map.of())) {
            assertTrue(healthy(env, 1, 1.25));
            assertFalse(healthy(env, 1, 0.8));
            assertFalse(healthy(env, 1, 2.0));
            assertTrue(healthy(env, 2, 0.99));
            assertFalse(healthy(env, 2, -1.0));
        }
    }

    @Test
    void antHealthIsAClosedHeightRangeAndFiniteState() {
        MujocoTestSupport.library();
        try (var env = new AntEnv(Version.V5, Map.of())) {
            assertTrue(healthy(env, 2, 1.0), "closed interval");
            assertTrue(healthy(env, 2, 0.2));
            assertFalse(healthy(env, 2, 1.0001));
            assertFalse(healthy(env, 2, 0.1999));
            env.reset(1);
            env.data().qvel().set(3, Double.NaN);
            assertFalse(env.isHealthy(), "a non-finite state is unhealthy");
        }
    }

    @Test
    void humanoidHealthIsAnOpenHeightRange() {
        MujocoTestSupport.library();
        try (var env = new HumanoidEnv(Version.V5, Map.of())) {
            assertTrue(healthy(env, 2, 1.4));
            assertFalse(healthy(env, 2, 1.0));
            assertFalse(healthy(env, 2, 2.0));
            assertTrue(healthy(env, 2, 1.999));
        }
    }

    /** v4 pays the healthy reward on the terminating step (when termination is on); v5 pays it only while healthy. */
    @Test
    void terminationAndTheHealthyRewardDifferBetweenV4AndV5() {
        MujocoTestSupport.library();
        for (Version version : Version.values()) {
            for (boolean terminate : new boolean[] {true, false}) {
                try (var env = new HopperEnv(version, Map.of("terminate_when_unhealthy", terminate))) {
                    double[] qpos = env.model().qpos0();
                    qpos[1] = 0.3; // fallen
                    env.setState(qpos, new double[6]);
                    StepResult step = env.step(new double[3]);
                    assertEquals(terminate, step.terminated(), version + " terminate=" + terminate);
                    double expected = version == Version.V4 && terminate ? 1.0 : 0.0;
                    assertEquals(expected, step.terms().get(MujocoEnv.REWARD_SURVIVE), version + " terminate=" + terminate);
                    assertRewardIsExactlyTheSum(step);
                }
            }
        }
    }

    @Test
    void halfCheetahNeverTerminatesEvenUpsideDown() {
        MujocoTestSupport.library();
        try (var env = new HalfCheetahEnv(Version.V5, Map.of())) {
            double[] qpos = env.model().qpos0();
            qpos[2] = Math.PI;
            env.setState(qpos, new double[9]);
            StepResult step = env.step(new double[6]);
            assertFalse(step.terminated());
            assertEquals(Map.of(), without(step.terms(), MujocoEnv.REWARD_FORWARD, MujocoEnv.REWARD_CTRL));
        }
    }

    @Test
    void observationsAreQposWithoutRootPositionThenClippedVelocities() {
        MujocoTestSupport.library();
        try (var env = new Walker2dEnv(Version.V5, Map.of())) {
            double[] qpos = env.model().qpos0();
            qpos[0] = 7;
            double[] qvel = new double[9];
            qvel[0] = 25;
            qvel[8] = -11;
            qvel[4] = 3;
            env.setState(qpos, qvel);
            double[] obs = env.observation();
            assertEquals(qpos[1], obs[0], "x is excluded, obs starts at the height");
            assertEquals(10, obs[8], "qvel clipped to 10");
            assertEquals(-10, obs[16]);
            assertEquals(3, obs[12]);
        }
    }

    @Test
    void antV5ObservesClippedContactForcesAndPaysTheirCost() {
        MujocoTestSupport.library();
        try (var env = new AntEnv(Version.V5, Map.of())) {
            env.reset(4);
            StepResult step = null;
            for (int t = 0; t < 30; t++) step = env.step(new double[8]); // settle onto the floor
            var forces = env.data().cfrcExt();
            double expected = 0;
            for (int i = 0; i < forces.length(); i++) expected += Math.pow(Math.clamp(forces.get(i), -1, 1), 2);
            assertTrue(expected > 0, "the ant should touch the floor");
            assertEquals(-5e-4 * expected, step.terms().get(MujocoEnv.REWARD_CONTACT), 1e-15);
            double[] obs = step.observation();
            for (int i = 0; i < 78; i++) assertEquals(Math.clamp(forces.get(6 + i), -1, 1), obs[27 + i], "obs " + (27 + i));
            assertRewardIsExactlyTheSum(step);
        }
        try (var env = new AntEnv(Version.V4, Map.of())) {
            env.reset(4);
            for (int t = 0; t < 30; t++) assertEquals(0.0, env.step(new double[8]).terms().get(MujocoEnv.REWARD_CONTACT));
        }
    }

    @Test
    void antForwardRewardFollowsTheTorsoFrame() {
        MujocoTestSupport.library();
        try (var env = new AntEnv(Version.V5, Map.of())) {
            env.reset(9);
            double before = env.data().xpos().get(1, 0);
            StepResult step = env.step(new double[] {1, -1, 1, -1, 1, -1, 1, -1});
            double after = env.data().xpos().get(1, 0);
            assertEquals((after - before) / 0.05, step.terms().get(MujocoEnv.REWARD_FORWARD), 1e-12);
        }
    }

    @Test
    void humanoidForwardRewardIsTheCentreOfMassVelocityInFlight() {
        MujocoTestSupport.library();
        try (var env = new HumanoidEnv(Version.V5, Map.of())) {
            double[] qpos = env.model().qpos0();
            qpos[2] = 1.9; // feet well above the floor
            double[] qvel = new double[23];
            qvel[0] = 1.0;
            env.setState(qpos, qvel);
            StepResult step = env.step(new double[17]);
            // Internal forces cannot move the centre of mass: its x velocity stays 1.
            assertEquals(1.25, step.terms().get(MujocoEnv.REWARD_FORWARD), 1e-6);
            assertEquals(0.0, step.terms().get(MujocoEnv.REWARD_CONTACT), 0.0, "no contact in flight");
            assertEquals(5.0, step.terms().get(MujocoEnv.REWARD_SURVIVE));
        }
    }

    @Test
    void humanoidV5ContactCostIsCappedAtTen() {
        MujocoTestSupport.library();
        try (var env = new HumanoidEnv(Version.V5, Map.of()); var v4 = new HumanoidEnv(Version.V4, Map.of())) {
            env.reset(2);
            v4.reset(2);
            StepResult step = null, stepV4 = null;
            for (int t = 0; t < 60; t++) {
                step = env.step(new double[17]);
                stepV4 = v4.step(new double[17]);
            }
            var forces = env.data().cfrcExt();
            double sum = 0;
            for (int i = 0; i < forces.length(); i++) sum += forces.get(i) * forces.get(i);
            assertTrue(sum > 0, "the humanoid should have landed");
            assertEquals(-Math.min(5e-7 * sum, 10), step.terms().get(MujocoEnv.REWARD_CONTACT), 1e-15);
            assertEquals(0.0, stepV4.terms().get(MujocoEnv.REWARD_CONTACT), "v4 has no contact cost");
        }
    }

    @Test
    void humanoidV5ObservationDropsTheWorldRowsAndRootForces() {
        MujocoTestSupport.library();
        try (var env = new HumanoidEnv(Version.V5, Map.of())) {
            env.reset(6);
            double[] obs = env.step(new double[17]).observation();
            var d = env.data();
            int pos = 45;
            for (int i = 10; i < 140; i++) assertEquals(d.cinert().get(i), obs[pos++], "cinert");
            for (int i = 6; i < 84; i++) assertEquals(d.cvel().get(i), obs[pos++], "cvel");
            for (int i = 6; i < 23; i++) assertEquals(d.qfrcActuator().get(i), obs[pos++], "qfrc_actuator");
            for (int i = 6; i < 84; i++) assertEquals(d.cfrcExt().get(i), obs[pos++], "cfrc_ext");
            assertEquals(348, pos);
        }
    }

    @Test
    void timeLimitTruncatesAtStep1000() {
        MujocoTestSupport.library();
        try (Env env = EnvRegistry.make("HalfCheetah-v5")) {
            env.reset(0);
            double[] action = new double[6];
            for (int t = 1; t < 1000; t++) assertFalse(env.step(action).done(), "step " + t);
            StepResult last = env.step(action);
            assertTrue(last.truncated());
            assertFalse(last.terminated());
        }
    }

    /** Without libmujoco, building a MuJoCo env throws a clear exception each time, and the JVM carries on. */
    @Test
    void aMissingLibraryGivesAClearExceptionNotACrash(@TempDir Path dir) throws Exception {
        String out = makeHopperInChildJvm(dir, "-Dmujoco.library=" + dir.resolve("libmujoco-missing.so"));
        assertTrue(out.contains("attempt 1: MuJoCo library") && out.contains("does not exist"), out);
        assertTrue(out.contains("attempt 2: MuJoCo library"), out);
        assertTrue(out.contains("available=false") && out.contains("classic env still works: 3"), out);
    }

    /** A layout table (-Dmujoco.layout) for another MuJoCo version is refused, naming both versions. */
    @Test
    void aLayoutTableForAnotherVersionIsRefusedAtLoad(@TempDir Path dir) throws Exception {
        MujocoTestSupport.library();
        Path table = dir.resolve("mujoco-3.14.0.layout");
        java.nio.file.Files.writeString(table, "version 3014000\nmjData.qpos 160688 8\n");
        String out = makeHopperInChildJvm(dir, "-Dmujoco.layout=" + table);
        assertTrue(out.contains("attempt 1: MuJoCo version mismatch") && out.contains("3.14.0")
                && out.contains("MuJoCo 2.2.2"), out);
        assertTrue(out.contains("available=false"), out);
    }

    private static String makeHopperInChildJvm(Path dir, String property) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", property, "-cp",
                System.getProperty("java.class.path"), MakeHopperMain.class.getName()));
        var log = new StringBuilder();
        assertEquals(0, MujocoTestSupport.run(command, dir, log), log.toString());
        return log.toString();
    }

    // ------------------------------------------------------------------------------------------ helpers

    private static int dim(String id, Map<String, Object> options) {
        try (Env env = EnvRegistry.make(id, options)) {
            assertEquals(env.observationSpace().dim(), env.reset(1).length);
            return env.observationSpace().dim();
        }
    }

    private static boolean healthy(MujocoEnv env, int index, double value) {
        double[] qpos = env.model().qpos0();
        qpos[index] = value;
        env.setState(qpos, new double[env.model().nv()]);
        return env.isHealthy();
    }

    private static void assertRewardIsExactlyTheSum(StepResult step) {
        double sum = 0;
        for (double term : step.terms().values()) sum += term;
        assertEquals(step.reward(), sum, 0.0, "reward vs terms " + step.terms());
    }

    private static Map<String, Double> without(Map<String, Double> terms, String... keys) {
        var rest = new java.util.HashMap<>(terms);
        for (String key : keys) rest.remove(key);
        return rest;
    }
}
