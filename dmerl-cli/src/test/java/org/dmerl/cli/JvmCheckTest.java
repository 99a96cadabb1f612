package org.dmerl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JvmCheckTest {

    private static final String FLAGGED = "quiet\ndontinline,org.dmerl.tensor.Elementwise::*";

    @Test
    void theParallelCollectorsDefaultsAMissingCompileCommandAndDefaultAlignmentAreEachOneWarning() {
        List<String> w = JvmCheck.warnings(
                Map.of("LoopStripMiningIter", "0", "CompileCommand", "", "ObjectAlignmentInBytes", "8")::get);
        assertEquals(3, w.size(), w.toString());
        assertTrue(w.get(0).contains("-XX:LoopStripMiningIter=1000"), w.get(0));
        assertTrue(w.get(1).contains("dontinline,org.dmerl.tensor.Elementwise::*"), w.get(1));
        assertTrue(w.get(2).contains("-XX:ObjectAlignmentInBytes=64"), w.get(2));
    }

    @Test
    void theFlagsOfBinDmerlGiveNoWarning() {
        assertEquals(List.of(), JvmCheck.warnings(
                Map.of("LoopStripMiningIter", "1000", "CompileCommand", FLAGGED, "ObjectAlignmentInBytes", "64")::get));
    }

    /** Every place that spells out dmerl's JVM flags has all of them. */
    @ParameterizedTest
    @ValueSource(strings = {"bin/jdk.sh", "pom.xml", "tools/devcheck/check.sh"})
    void everyLauncherPassesTheFlags(String file) throws java.io.IOException {
        String text = java.nio.file.Files.readString(java.nio.file.Path.of("..").resolve(file));
        for (String flag : JvmCheck.FLAGS) assertTrue(text.contains(flag), file + " lacks " + flag);
    }

    @Test
    void sweepRunsStartWithTheFlags() {
        List<String> command = SweepCommand.javaCommand();
        assertEquals(JvmCheck.FLAGS, command.subList(1, 1 + JvmCheck.FLAGS.size()));
    }

    /** The tests run with pom.xml's jvm.flags, which must match bin/jdk.sh's: this JVM is checked for real. */
    @Test
    void thisTestJvmRunsWithTheProjectsFlags() {
        assertEquals(List.of(), JvmCheck.warnings());
    }
}
