package org.dmerl.env.mujoco;

import static org.junit.jupiter.api.Assertions.*;

import java.util.stream.Stream;
import org.dmerl.env.mujoco.MjModel.Integrator;
import org.dmerl.env.mujoco.MjModel.Solver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bundled MJCF models, compiled, against the published facts of Gymnasium's models (sizes, timestep, integrator,
 * solver, per-body masses). The expected masses are those of Gymnasium's own assets compiled by MuJoCo 2.2.2; they
 * follow from the geometry (capsule/sphere volumes times density, or HalfCheetah's total mass of 14 kg).
 */
class MujocoModelsTest {

    record Facts(String file, int nq, int nv, int nu, int nbody, double timestep, Integrator integrator, double[] masses) {}

    static Stream<Arguments> models() {
        double[] hopper = {0, 3.665191429, 4.057890511, 2.781356696, 5.315574770};
        double[] cheetah = {0, 6.250209205, 1.543514644, 1.587447699, 1.095397490, 1.438075314, 1.200836820,
                0.884518828};
        double[] walker = {0, 3.665191429, 4.057890511, 2.781356696, 3.166725395, 4.057890511, 2.781356696,
                3.166725395};
        double[] ant = {0, 0.327249235, 0.039157754, 0.039157754, 0.067592205, 0.039157754, 0.039157754, 0.067592205,
                0.039157754, 0.039157754, 0.067592205, 0.039157754, 0.039157754, 0.067592205};
        double[] humanoid = {0, 8.907462370, 2.261946711, 6.616194128, 4.751750929, 2.755696167, 1.767145868,
                4.751750929, 2.755696167, 1.767145868, 1.661080485, 1.229540193, 1.661080485, 1.229540193};
        return Stream.of(
                new Facts("hopper.xml", 6, 6, 3, 5, 0.002, Integrator.RK4, hopper),
                new Facts("half_cheetah.xml", 9, 9, 6, 8, 0.01, Integrator.EULER, cheetah),
                new Facts("walker2d.xml", 9, 9, 6, 8, 0.002, Integrator.RK4, walker),
                new Facts("walker2d_v5.xml", 9, 9, 6, 8, 0.002, Integrator.RK4, walker),
                new Facts("ant.xml", 15, 14, 8, 14, 0.01, Integrator.RK4, ant),
                new Facts("humanoid.xml", 24, 23, 17, 14, 0.003, Integrator.RK4, humanoid)).map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void compiledModelMatchesThePublishedFacts(Facts facts) {
        MujocoTestSupport.library();
        try (var model = MjModel.fromResource(facts.file())) {
            assertEquals(facts.nq(), model.nq(), "nq");
            assertEquals(facts.nv(), model.nv(), "nv");
            assertEquals(facts.nu(), model.nu(), "nu");
            assertEquals(facts.nbody(), model.nbody(), "nbody");
            assertEquals(facts.timestep(), model.timestep(), "timestep");
            assertEquals(facts.integrator(), model.integrator(), "integrator");
            assertArrayEquals(facts.masses(), model.bodyMass(), 1e-8, "body masses");
            for (boolean limited : model.actuatorCtrlLimited()) assertTrue(limited, "ctrllimited");
        }
    }

    @Test
    void halfCheetahWeighsFourteenKilograms() {
        MujocoTestSupport.library();
        try (var model = MjModel.fromResource("half_cheetah.xml")) {
            assertEquals(14.0, model.bodySubtreeMass()[0], 1e-9);
        }
    }

    @Test
    void humanoidUsesPgsWithFiftyIterations() {
        MujocoTestSupport.library();
        try (var model = MjModel.fromResource("humanoid.xml")) {
            assertEquals(Solver.PGS, model.solver());
            assertEquals(50, model.iterations());
            double[] range = model.actuatorCtrlRange();
            for (int i = 0; i < model.nu(); i++) {
                assertEquals(-0.4, range[2 * i]);
                assertEquals(0.4, range[2 * i + 1]);
            }
        }
    }

    @Test
    void walkerV5HasFriction19OnBothFeetAndV4OnlyOnTheLeft() {
        MujocoTestSupport.library();
        try (var v4 = MjModel.fromResource("walker2d.xml"); var v5 = MjModel.fromResource("walker2d_v5.xml")) {
            assertEquals(0.9, friction(v4, "foot_geom"));
            assertEquals(1.9, friction(v4, "foot_left_geom"));
            assertEquals(1.9, friction(v5, "foot_geom"));
            assertEquals(1.9, friction(v5, "foot_left_geom"));
        }
    }

    @Test
    void actuatorGearsAreThePublishedOnes() {
        MujocoTestSupport.library();
        assertArrayEquals(new double[] {200, 200, 200}, gears("hopper.xml"));
        assertArrayEquals(new double[] {120, 90, 60, 120, 60, 30}, gears("half_cheetah.xml"));
        assertArrayEquals(new double[] {100, 100, 100, 100, 100, 100}, gears("walker2d.xml"));
        assertArrayEquals(new double[] {150, 150, 150, 150, 150, 150, 150, 150}, gears("ant.xml"));
        assertArrayEquals(new double[] {100, 100, 100, 100, 100, 300, 200, 100, 100, 300, 200, 25, 25, 25, 25, 25, 25},
                gears("humanoid.xml"));
    }

    private static double friction(MjModel model, String geom) {
        return model.geomFriction()[3 * model.geomId(geom)];
    }

    private static double[] gears(String file) {
        try (var model = MjModel.fromResource(file)) {
            double[] gear = model.actuatorGear();
            double[] first = new double[model.nu()];
            for (int i = 0; i < first.length; i++) first[i] = gear[6 * i];
            return first;
        }
    }
}
