import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.ClassNameFilter;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Minimal JUnit Platform runner (no console launcher offline). Arguments: class-path roots to scan (the copied
 * target/test-classes folders). Every test class in them whose name matches the console launcher's standard pattern
 * (Test*, *Test, *Tests, nested classes of those) runs. Prints one line per finished test, the summary, and each failure
 * with its full stack trace. Exit: 0 all passed, 1 failures, 2 nothing found / bad arguments.
 */
public final class RunTests {

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        Set<Path> roots = new LinkedHashSet<>();
        for (String a : args) {
            Path p = Path.of(a).toAbsolutePath();
            if (!Files.isDirectory(p)) {
                out.println("RunTests: not a directory: " + p);
                System.exit(2);
            }
            roots.add(p);
        }
        if (roots.isEmpty()) {
            out.println("usage: RunTests <test-classes dir>...");
            System.exit(2);
        }
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(DiscoverySelectors.selectClasspathRoots(roots))
                .filters(ClassNameFilter.includeClassNamePatterns(ClassNameFilter.STANDARD_INCLUDE_PATTERN))
                .build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        TestExecutionListener progress = new TestExecutionListener() {
            private final java.util.Map<String, Long> started = new java.util.concurrent.ConcurrentHashMap<>();
            private TestPlan plan;

            @Override
            public void testPlanExecutionStarted(TestPlan testPlan) {
                plan = testPlan;
                out.println("RunTests: scanning " + roots + " (" + testPlan.countTestIdentifiers(TestIdentifier::isTest)
                        + " tests before parameterized expansion)");
            }

            @Override
            public void executionStarted(TestIdentifier id) {
                started.put(id.getUniqueId(), System.nanoTime());
            }

            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                out.println("[SKIP ] " + name(id) + "  (" + reason + ")");
            }

            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                Long t0 = started.remove(id.getUniqueId());
                double ms = t0 == null ? 0 : (System.nanoTime() - t0) / 1e6;
                boolean container = !id.isTest();
                if (container && result.getStatus() == TestExecutionResult.Status.SUCCESSFUL) {
                    if (id.getSource().filter(s -> s instanceof org.junit.platform.engine.support.descriptor.ClassSource).isPresent())
                        out.printf(java.util.Locale.ROOT, "[CLASS] %s  %.0f ms%n", id.getLegacyReportingName(), ms);
                    return;
                }
                String tag = switch (result.getStatus()) {
                    case SUCCESSFUL -> "[ OK  ]";
                    case ABORTED -> "[ABORT]";
                    case FAILED -> "[FAIL ]";
                };
                out.printf(java.util.Locale.ROOT, "%s %s  %.1f ms%s%n", tag, name(id), ms,
                        result.getThrowable().map(t -> "  -> " + t).orElse(""));
            }

            /** "SimpleClassName > [template >] test display name" */
            private String name(TestIdentifier id) {
                if (plan == null) return id.getLegacyReportingName();
                StringBuilder path = new StringBuilder(id.getDisplayName());
                java.util.Optional<TestIdentifier> p = plan.getParent(id);
                while (p.isPresent() && p.get().getParentIdObject().isPresent()) {   // stop below the engine
                    TestIdentifier t = p.get();
                    String label = t.getSource().filter(s -> s instanceof org.junit.platform.engine.support.descriptor.ClassSource)
                            .map(s -> ((org.junit.platform.engine.support.descriptor.ClassSource) s).getJavaClass().getSimpleName())
                            .orElse(t.getDisplayName());
                    path.insert(0, label + " > ");
                    p = plan.getParent(t);
                }
                return path.toString();
            }
        };
        long t0 = System.nanoTime();
        launcher.execute(request, summary, progress);
        TestExecutionSummary s = summary.getSummary();
        out.println();
        out.println("==================== SUMMARY ====================");
        s.printTo(out);
        out.printf(java.util.Locale.ROOT, "wall time %.1f s%n", (System.nanoTime() - t0) / 1e9);
        if (!s.getFailures().isEmpty()) {
            out.println("==================== FAILURES (" + s.getFailures().size() + ") ====================");
            int i = 0;
            for (TestExecutionSummary.Failure f : s.getFailures()) {
                out.println();
                out.println("---- failure " + (++i) + ": " + f.getTestIdentifier().getUniqueId());
                out.println("     " + f.getTestIdentifier().getLegacyReportingName());
                f.getException().printStackTrace(out);
            }
            out.flush();
        }
        long failed = s.getTotalFailureCount();
        long found = s.getTestsFoundCount();
        out.println(failed == 0 && found > 0 ? "RunTests: PASSED (" + s.getTestsSucceededCount() + " tests)"
                : found == 0 ? "RunTests: NO TESTS FOUND" : "RunTests: FAILED (" + failed + " failures)");
        out.flush();
        System.exit(failed > 0 ? 1 : found == 0 ? 2 : 0);
    }
}
