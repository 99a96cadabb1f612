package org.dmerl.env;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** EnvCheck passes every registered env and reports each kind of contract breach. */
class EnvCheckTest {

    static Stream<String> ids() {
        return EnvRegistry.ids().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ids")
    void everyRegisteredEnvPasses(String id) {
        EnvCheck.Report report = EnvCheck.check(id, 2, 17);
        assumeFalse(report.problems().size() == 1 && report.problems().getFirst().startsWith("cannot create")
                && report.problems().getFirst().toLowerCase().contains("library"), () -> "skipped: " + report.problems());
        assertTrue(report.ok(), report.summary());
        assertEquals(id, report.env());
        assertEquals(2, report.episodes());
        assertTrue(report.obsDim() > 0 && report.actionDim() > 0);
        assertTrue(Double.isFinite(report.randomReturnMean()) && report.randomReturnStd() >= 0, report.summary());
        assertTrue(report.stepsPerSecond() > 0, report.summary());
    }

    @Test
    void reportsEveryKindOfBreachOfABrokenEnv() {
        EnvCheck.Report report = EnvCheck.check("Broken-v0", BrokenEnv::new, 3, 1);
        String all = String.join("\n", report.problems());
        assertFalse(report.ok());
        assertTrue(all.contains("reset(1) twice"), all);
        assertTrue(all.contains("was accepted"), all);
        assertTrue(all.contains("not the sum"), all);
        assertTrue(all.contains("is NaN"), all);
        assertTrue(all.contains("diverge") || all.contains("start differently"), all);
        assertTrue(report.summary().contains("PROBLEM"), report.summary());
    }

    @Test
    void anEnvThatCannotBeBuiltIsAReportNotACrash() {
        EnvCheck.Report report = EnvCheck.check("Missing-v0", () -> {
            throw new IllegalStateException("native library libfoo missing");
        }, 1, 0);
        assertEquals(1, report.problems().size());
        assertTrue(report.problems().getFirst().contains("libfoo"), report.problems().toString());
    }

    @Test
    void anUnknownIdIsAUsageError() {
        assertThrows(IllegalArgumentException.class, () -> EnvCheck.check("NoSuchEnv-v0", 1, 0));
    }

    /** Breaks the contract on purpose: random resets, NaN observations, wrong reward sums, accepts any action. */
    private static final class BrokenEnv implements Env {
        private static int created;
        private final int instance = created++;
        private int calls;
        private int t;

        @Override public String id() { return "Broken-v0"; }
        @Override public BoxSpace observationSpace() { return BoxSpace.unbounded(2); }
        @Override public BoxSpace actionSpace() { return BoxSpace.uniform(1, -1, 1); }
        @Override public double[] reset(long seed) { return reset(); }

        @Override
        public double[] reset() {
            t = 0;
            return new double[] {calls++ + instance, 0};
        }

        @Override
        public StepResult step(double[] action) {
            t++;
            double[] obs = {t, t == 3 ? Double.NaN : 0};
            return new StepResult(obs, 1.0, t >= 5, false, Map.of("reward_forward", 0.5));
        }
    }
}
