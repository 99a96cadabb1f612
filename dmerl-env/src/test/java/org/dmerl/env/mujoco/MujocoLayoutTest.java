package org.dmerl.env.mujoco;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The struct layout table: its format, the version check, and that the checked-in table matches the headers. */
class MujocoLayoutTest {

    @Test
    void parsesVersionAndNameOffsetSizeLines() throws Exception {
        var layout = MujocoLayout.parse(new StringReader("""
                # comment
                version 222
                mjData 0 41176
                mjData.qpos 40376 8
                """), "test");
        assertEquals(222, layout.version());
        assertEquals(40376, layout.offset("mjData.qpos"));
        assertEquals(8, layout.size("mjData.qpos"));
        assertEquals(41176, layout.size("mjData"));
        var missing = assertThrows(MujocoException.class, () -> layout.offset("mjData.nope"));
        assertTrue(missing.getMessage().contains("mjData.nope"), missing.getMessage());
    }

    @Test
    void decodesBothVersionEncodings() {
        assertEquals("2.2.2", MujocoLayout.versionString(222));
        assertEquals("3.14.0", MujocoLayout.versionString(3014000));
        assertEquals("mujoco-2.2.2.layout", MujocoLayout.resourceName(222));
    }

    @Test
    void aTableForAnotherVersionIsRefusedNamingBothVersions() {
        var layout = new MujocoLayout(222, "mujoco-2.2.2.layout", Map.of());
        var e = assertThrows(MujocoException.class,
                () -> MujocoLocator.requireMatchingVersion(layout, 3014000, "/opt/libmujoco.so.3.14.0"));
        assertTrue(e.getMessage().contains("2.2.2") && e.getMessage().contains("3.14.0"), e.getMessage());
        assertTrue(e.getMessage().contains("mjlayout.c"), "should say how to fix it: " + e.getMessage());
        assertDoesNotThrow(() -> MujocoLocator.requireMatchingVersion(layout, 222, "libmujoco.so"));
    }

    @Test
    void bundledTableHasEveryFieldTheBindingReads() throws Exception {
        var layout = MujocoLayout.resource(MujocoLayout.DEFAULT_RESOURCE);
        assertNotNull(layout);
        assertEquals(222, layout.version());
        for (String field : List.of("mjModel", "mjModel.nq", "mjModel.opt", "mjOption.timestep", "mjModel.body_mass",
                "mjModel.actuator_ctrlrange", "mjData", "mjData.buffer", "mjData.nbuffer", "mjData.qpos", "mjData.qvel",
                "mjData.ctrl", "mjData.xpos", "mjData.xipos", "mjData.cinert", "mjData.cvel", "mjData.qfrc_actuator",
                "mjData.cfrc_ext", "mjData.time")) {
            assertDoesNotThrow(() -> layout.entry(field), field);
        }
    }

    /** Regenerates the table from the installed headers with native/mjlayout.c and compares (skips without gcc). */
    @Test
    void checkedInTableMatchesTheInstalledHeaders(@TempDir Path tmp) throws Exception {
        Path nativeDir = MujocoTestSupport.nativeDir();
        String cc = MujocoTestSupport.compiler();
        assumeTrue(nativeDir != null, "native/mjlayout.c not found from " + Path.of("").toAbsolutePath());
        assumeTrue(cc != null, "no C compiler");
        assumeTrue(Files.isRegularFile(Path.of("/usr/include/mujoco/mujoco.h")), "no MuJoCo headers");
        var log = new StringBuilder();
        Path exe = tmp.resolve("mjlayout");
        int rc = MujocoTestSupport.run(List.of(cc, "-I/usr/include", nativeDir.resolve("mjlayout.c").toString(), "-o",
                exe.toString()), tmp, log);
        assertEquals(0, rc, "compiling mjlayout.c failed: " + log);
        Path generated = tmp.resolve("generated.layout");
        assertEquals(0, MujocoTestSupport.run(List.of(exe.toString(), generated.toString()), tmp, log), log.toString());
        var fresh = MujocoLayout.load(generated);
        var bundled = MujocoLayout.resource(MujocoLayout.resourceName(fresh.version()));
        assumeTrue(bundled != null, "no bundled table for the installed headers' version " + fresh.version());
        assertEquals(fresh.entries(), bundled.entries(), "regenerate " + MujocoLayout.resourceName(fresh.version())
                + " with native/mjlayout.c");
    }
}
