package org.dmerl.env.mujoco;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;

/** Shared helpers: skip (not fail) where MuJoCo is missing, find the repo's native/ folder, capture log records. */
final class MujocoTestSupport {

    private MujocoTestSupport() {}

    static MujocoLibrary library() {
        assumeTrue(MujocoLibrary.isAvailable(), () -> "MuJoCo unavailable: " + MujocoLibrary.unavailableReason().orElse(""));
        return MujocoLibrary.get();
    }

    /** The repository's {@code native/} folder (tests run in the module directory), or null. */
    static Path nativeDir() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("native/mjlayout.c"))) return dir.resolve("native");
        }
        return null;
    }

    /** The C compiler on PATH, or null. */
    static String compiler() {
        String path = System.getenv("PATH");
        if (path == null) return null;
        for (String name : List.of("cc", "gcc")) {
            for (String dir : path.split(java.io.File.pathSeparator)) {
                if (!dir.isBlank() && Files.isExecutable(Path.of(dir, name))) return Path.of(dir, name).toString();
            }
        }
        return null;
    }

    /** Runs a command, returning its exit code; output goes to {@code log}. */
    static int run(List<String> command, Path workDir, StringBuilder log) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true).start();
        log.append(new String(process.getInputStream().readAllBytes()));
        return process.waitFor();
    }

    /** Collects the records published to a logger while installed. */
    static final class CapturingHandler extends Handler {
        final List<LogRecord> records = new ArrayList<>();

        @Override
        public synchronized void publish(LogRecord record) {
            records.add(record);
        }

        synchronized boolean anyContains(String text) {
            return records.stream().anyMatch(r -> r.getMessage().contains(text));
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    }
}
