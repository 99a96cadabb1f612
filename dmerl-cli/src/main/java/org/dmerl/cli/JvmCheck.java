package org.dmerl.cli;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import com.sun.management.HotSpotDiagnosticMXBean;

/**
 * Warns about JVM settings that silently slow dmerl down: the flags {@code bin/dmerl} passes ({@code DMERL_JVM_FLAGS}
 * in bin/jdk.sh) are missing when the jar is started by hand or embedded with other flags.
 */
final class JvmCheck {

    private JvmCheck() {}

    /**
     * The flags of every dmerl JVM, for the JVMs dmerl starts itself ({@code dmerl sweep}'s runs). bin/jdk.sh,
     * pom.xml and tools/devcheck/check.sh spell them out again (JvmCheckTest compares).
     */
    static final List<String> FLAGS = List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
            "-XX:CompileCommand=quiet", "-XX:CompileCommand=dontinline,org.dmerl.tensor.Elementwise::*",
            "-XX:+UseCountedLoopSafepoints", "-XX:LoopStripMiningIter=1000", "-XX:ObjectAlignmentInBytes=64");

    /** One line per problem with this JVM's settings; empty when it runs as {@code bin/dmerl} starts it. */
    static List<String> warnings() {
        try {
            HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            return warnings(name -> vm.getVMOption(name).getValue());
        } catch (RuntimeException | LinkageError notHotSpot) {
            return List.of();   // another JVM, or a runtime without jdk.management: nothing to say
        }
    }

    /** The warnings for a JVM whose option values {@code option} returns (its VM option name to its value). */
    static List<String> warnings(UnaryOperator<String> option) {
        List<String> out = new ArrayList<>();
        if ("0".equals(option.apply("LoopStripMiningIter"))) {
            out.add("loop strip mining is off (the Parallel and Serial collectors turn it off), and the matrix products "
                    + "run about 2.4 times slower; add -XX:+UseCountedLoopSafepoints -XX:LoopStripMiningIter=1000");
        }
        if (!option.apply("CompileCommand").contains("dontinline,org.dmerl.tensor.Elementwise::")) {
            out.add("the elementwise kernels can be compiled into a slow, allocating form; add "
                    + "-XX:CompileCommand=quiet '-XX:CompileCommand=dontinline,org.dmerl.tensor.Elementwise::*'");
        }
        String alignment = option.apply("ObjectAlignmentInBytes");
        if (alignment != null && Integer.parseInt(alignment) % 64 != 0) {
            out.add("objects are not aligned to cache lines, and the matrix products run about 8 % slower on AVX-512; "
                    + "add -XX:ObjectAlignmentInBytes=64");
        }
        return out;
    }

    /** Prints {@link #warnings()} to standard error, each as one "dmerl: warning:" line. */
    static void report() {
        for (String w : warnings()) System.err.println("dmerl: warning: " + w + " (bin/dmerl passes these flags)");
    }
}
