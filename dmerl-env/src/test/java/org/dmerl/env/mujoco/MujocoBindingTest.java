package org.dmerl.env.mujoco;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The FFM binding itself: loading, model compilation, data views, message handlers, errors and native memory. */
class MujocoBindingTest {

    private static final String BALL = """
            <mujoco>
              <worldbody>
                <geom type="plane" size="1 1 .1"/>
                <body name="ball" pos="0 0 1">
                  <freejoint/>
                  <geom type="sphere" size=".1" mass="2"/>
                </body>
              </worldbody>
            </mujoco>
            """;

    @Test
    void libraryReportsTheVersionOfItsLayoutTable() {
        MujocoLibrary lib = MujocoTestSupport.library();
        assertEquals(lib.layout().version(), lib.version());
        assertTrue(lib.toString().contains(lib.versionString()), lib.toString());
    }

    @Test
    void compilesAModelFromAStringAndReadsItsSizes() {
        MujocoTestSupport.library();
        try (var model = MjModel.fromXml(BALL)) {
            assertEquals(7, model.nq());
            assertEquals(6, model.nv());
            assertEquals(0, model.nu());
            assertEquals(2, model.nbody());
            assertEquals(0.002, model.timestep());
            assertEquals(MjModel.Integrator.EULER, model.integrator());
            assertEquals(2.0, model.bodyMass()[1], 1e-12);
            assertEquals(1, model.bodyId("ball"));
            assertThrows(IllegalArgumentException.class, () -> model.bodyId("no_such_body"));
        }
    }

    @Test
    void malformedXmlGivesAnExceptionWithMujocosMessage() {
        MujocoTestSupport.library();
        var e = assertThrows(MujocoException.class, () -> MjModel.fromXml("<mujoco><worldbody><bogus/></worldbody></mujoco>"));
        assertTrue(e.getMessage().contains("could not load") && e.getMessage().contains("bogus"), e.getMessage());
        var notXml = assertThrows(MujocoException.class, () -> MjModel.fromXml("this is not xml"));
        assertTrue(notXml.getMessage().length() > "MuJoCo could not load the model from XML string: ".length(),
                notXml.getMessage());
    }

    @Test
    void dataViewsReadAndWriteMujocosArrays() {
        MujocoTestSupport.library();
        try (var model = MjModel.fromXml(BALL); var data = model.makeData()) {
            assertEquals(1.0, data.qpos().get(2));
            data.qvel().set(2, 3.0);
            data.forward();
            assertEquals(1.0, data.xpos().get(1, 2), 1e-12);
            data.step(10);
            assertEquals(0.02, data.time(), 1e-12);
            assertTrue(data.qpos().get(2) > 1.0, "ball thrown up should rise: " + data.qpos());
            data.reset();
            assertEquals(0.0, data.time());
            assertArrayEquals(model.qpos0(), data.qpos().toArray());
        }
    }

    @Test
    void closedDataAndModelRefuseAccessInsteadOfCrashing() {
        MujocoTestSupport.library();
        var model = MjModel.fromXml(BALL);
        var data = model.makeData();
        var qpos = data.qpos();
        data.close();
        data.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> qpos.get(0));
        var other = model.makeData();
        model.close();
        assertThrows(IllegalStateException.class, () -> other.qpos().get(0), "closing the model closes its data");
        assertThrows(IllegalStateException.class, model::timestep);
    }

    @Test
    void warningsGoToJavaLoggingAndNoLogFileIsWritten() {
        MujocoLibrary lib = MujocoTestSupport.library();
        Path logFile = Path.of("MUJOCO_LOG.TXT");
        boolean existed = Files.exists(logFile);
        var handler = new MujocoTestSupport.CapturingHandler();
        Logger logger = Logger.getLogger("org.dmerl.env.mujoco");
        logger.addHandler(handler);
        try (var model = MjModel.fromXml(BALL); var data = model.makeData()) {
            lib.raiseWarningForTest("test warning 42");
            assertTrue(handler.anyContains("test warning 42"), "warning not logged");
            // A NaN state makes MuJoCo warn (and reset the data) from inside mj_step.
            data.qpos().set(2, Double.NaN);
            data.step();
            assertTrue(handler.anyContains("Nan"), "MuJoCo's instability warning not logged: " + handler.records);
            assertTrue(Double.isFinite(data.qpos().get(2)), "MuJoCo resets a diverged state");
        } finally {
            logger.removeHandler(handler);
        }
        assertEquals(existed, Files.exists(logFile), "MuJoCo wrote MUJOCO_LOG.TXT into the working directory");
    }

    @Test
    void aMujocoFatalErrorBecomesAnExceptionAndTheJvmCarriesOn() {
        MujocoLibrary lib = MujocoTestSupport.library();
        assumeTrue(lib.guardsFatalErrors(), "no C compiler here to build the error guard");
        var e = assertThrows(MujocoException.class, () -> lib.raiseErrorForTest("deliberate failure 7"));
        assertTrue(e.getMessage().contains("deliberate failure 7"), e.getMessage());
        try (var model = MjModel.fromXml(BALL); var data = model.makeData()) {
            data.step(5);
            assertEquals(0.01, data.time(), 1e-12);
        }
    }

    /** Without the guard an error cannot be unwound: the JVM must say why and stop, not hang or write log files. */
    @Test
    void anUnguardedFatalErrorIsLoggedAndHaltsTheChildJvm(@TempDir Path dir) throws Exception {
        MujocoTestSupport.library();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Dmujoco.guard=none",
                "-cp", System.getProperty("java.class.path"), UnguardedErrorMain.class.getName()));
        var log = new StringBuilder();
        int rc = MujocoTestSupport.run(command, dir, log);
        assertEquals(1, rc, log.toString());
        assertTrue(log.toString().contains("deliberate unguarded failure"), log.toString());
        assertFalse(log.toString().contains("still running"), log.toString());
        assertFalse(Files.exists(dir.resolve("MUJOCO_LOG.TXT")), "MUJOCO_LOG.TXT written");
    }

    /** 100k env resets (mj_resetData + noise + mj_forward) must not grow native memory. */
    @Test
    void residentMemoryStaysFlatOver100kResets() {
        MujocoTestSupport.library();
        try (var env = new HopperEnv(MujocoEnv.Version.V5, java.util.Map.of())) {
            env.reset(1);
            for (int i = 0; i < 2_000; i++) env.reset(); // warm up JIT and malloc arenas
            System.gc();
            long before = residentKb();
            for (int i = 0; i < 100_000; i++) env.reset();
            System.gc();
            long after = residentKb();
            assertTrue(after - before < 16 * 1024, "RSS grew by " + (after - before) + " kB over 100k resets");
        }
    }

    /** Each mjData holds ~3 MB, so 300 leaked make/close cycles would add ~900 MB. */
    @Test
    void residentMemoryStaysFlatOverRepeatedDataCreation() {
        MujocoTestSupport.library();
        try (var model = MjModel.fromResource("hopper.xml")) {
            for (int i = 0; i < 20; i++) model.makeData().close();
            System.gc();
            long before = residentKb();
            for (int i = 0; i < 300; i++) {
                try (var data = model.makeData()) {
                    data.step();
                }
            }
            System.gc();
            long after = residentKb();
            assertTrue(after - before < 64 * 1024, "RSS grew by " + (after - before) + " kB over 300 mjData");
        }
    }

    private static long residentKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", ""));
            }
        } catch (java.io.IOException _) {
            // fall through
        }
        org.junit.jupiter.api.Assumptions.abort("no /proc/self/status");
        return 0;
    }
}
