package org.dmerl.env.mujoco;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The C error guard ({@code mjguard.c}, bundled as a resource): turns MuJoCo's fatal errors into return codes.
 *
 * <p>{@code mju_error} must not return into MuJoCo, and an exception escaping a Java upcall kills the JVM, so pure
 * Java cannot recover from it. The guard wraps each engine call in {@code setjmp}, and its error handler
 * {@code longjmp}s back with the message; the jump crosses only MuJoCo's C frames. The guard needs no MuJoCo headers,
 * so one build serves every MuJoCo version.
 *
 * <p>Where it comes from: system property {@value #PROPERTY} or environment variable {@value #ENV} (a path to a
 * built {@code libdmerl_mjguard.so}, or {@code none} to go without); otherwise it is compiled once with the system C
 * compiler ({@code cc}, {@code gcc} or {@code clang}) into {@code $XDG_CACHE_HOME/dmerl} (default
 * {@code ~/.cache/dmerl}) and reused from there, or into a temporary directory when that cache is not writable.
 * With no compiler the library still works, but a MuJoCo fatal error then halts the JVM after logging.
 */
final class MujocoGuard {

    static final String PROPERTY = "mujoco.guard";
    static final String ENV = "MUJOCO_GUARD_LIBRARY";
    private static final String SOURCE = "mjguard.c";

    private final Path path;
    private final MethodHandle call;      // int (fn, m, d, repeat, after)
    private final MethodHandle make;      // void* (fn, m)
    private final MethodHandle message;   // const char* ()
    private final MethodHandle setFallback;
    private final MemorySegment onError;

    private MujocoGuard(Path path) {
        this.path = path;
        var lookup = SymbolLookup.libraryLookup(path, Arena.global());
        var linker = Linker.nativeLinker();
        call = linker.downcallHandle(MujocoLibrary.symbol(lookup, "dmerl_mjguard_call"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
        make = linker.downcallHandle(MujocoLibrary.symbol(lookup, "dmerl_mjguard_make"),
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        message = linker.downcallHandle(MujocoLibrary.symbol(lookup, "dmerl_mjguard_message"),
                FunctionDescriptor.of(ADDRESS));
        setFallback = linker.downcallHandle(MujocoLibrary.symbol(lookup, "dmerl_mjguard_set_fallback"),
                FunctionDescriptor.ofVoid(ADDRESS));
        onError = MujocoLibrary.symbol(lookup, "dmerl_mjguard_on_error");
    }

    /** The guard, or null when it is switched off or cannot be built here (then a warning is logged). */
    static MujocoGuard load() {
        String configured = System.getProperty(PROPERTY);
        String origin = "-D" + PROPERTY;
        if (configured == null || configured.isBlank()) {
            configured = System.getenv(ENV);
            origin = ENV;
        }
        if (configured != null && !configured.isBlank()) {
            if (configured.equalsIgnoreCase("none")) return null;
            Path path = Path.of(configured);
            try {
                return new MujocoGuard(path.toAbsolutePath());
            } catch (RuntimeException e) {
                throw new MujocoException("MuJoCo error guard " + path + " (from " + origin + ") cannot be loaded: "
                        + e.getMessage(), e);
            }
        }
        try {
            return new MujocoGuard(buildCached());
        } catch (IOException | RuntimeException e) {
            MujocoLibrary.LOG.warning("MuJoCo error guard unavailable (" + e.getMessage() + "); a MuJoCo fatal error "
                    + "will halt the JVM. Install a C compiler or set -D" + PROPERTY + "=path/to/libdmerl_mjguard.so.");
            return null;
        }
    }

    Path path() {
        return path;
    }

    MemorySegment errorHandler() {
        return onError;
    }

    void setFallback(MemorySegment handler) {
        try {
            setFallback.invokeExact(handler);
        } catch (Throwable t) {
            throw MujocoLibrary.rethrow(t);
        }
    }

    int call(MemorySegment fn, MemorySegment m, MemorySegment d, int repeat, MemorySegment after) {
        try {
            return (int) call.invokeExact(fn, m, d, repeat, after);
        } catch (Throwable t) {
            throw MujocoLibrary.rethrow(t);
        }
    }

    MemorySegment make(MemorySegment fn, MemorySegment m) {
        try {
            return (MemorySegment) make.invokeExact(fn, m);
        } catch (Throwable t) {
            throw MujocoLibrary.rethrow(t);
        }
    }

    /** The message of this thread's last caught MuJoCo error. */
    String lastMessage() {
        try {
            return MujocoMessages.text((MemorySegment) message.invokeExact());
        } catch (Throwable t) {
            throw MujocoLibrary.rethrow(t);
        }
    }

    // ---------------------------------------------------------------------------------------------- building

    /** Compiles the bundled source once per source version and machine; later JVMs reuse the library. */
    static Path buildCached() throws IOException {
        byte[] source;
        try (InputStream in = MujocoGuard.class.getResourceAsStream(SOURCE)) {
            if (in == null) throw new IOException("resource " + SOURCE + " is missing");
            source = in.readAllBytes();
        }
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "");
        String name = "libdmerl_mjguard-" + sha256(source).substring(0, 16) + "-" + arch + librarySuffix();
        Path dir = cacheDir();
        try {
            Files.createDirectories(dir);
            if (!Files.isWritable(dir)) throw new IOException(dir + " is not writable");
        } catch (IOException e) {
            // No usable cache (read-only home in CI, say): build into a directory of this JVM only.
            dir = Files.createTempDirectory("dmerl-mjguard-");
            dir.toFile().deleteOnExit();
            Path library = compile(source, dir, dir.resolve(name));
            library.toFile().deleteOnExit();
            return library;
        }
        Path library = dir.resolve(name);
        if (Files.isRegularFile(library)) return library;
        return compile(source, dir, library);
    }

    /** Compiles {@code source} into {@code target} (written under a temporary name, then moved into place). */
    static Path compile(byte[] source, Path dir, Path target) throws IOException {
        String compiler = findCompiler();
        Files.createDirectories(dir);
        Path work = Files.createTempDirectory(dir, "build-");
        try {
            Path c = Files.write(work.resolve(SOURCE), source);
            Path out = work.resolve(target.getFileName());
            var command = List.of(compiler, "-O2", "-shared", "-fPIC", "-o", out.toString(), c.toString());
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String log;
            try (InputStream in = process.getInputStream()) {
                log = new String(in.readAllBytes());
            }
            if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0 || !Files.isRegularFile(out)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " failed: " + log.strip());
            }
            try {
                Files.move(out, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException _) {
                Files.move(out, target, StandardCopyOption.REPLACE_EXISTING);
            }
            MujocoLibrary.LOG.fine(() -> "built MuJoCo error guard " + target);
            return target;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while compiling the MuJoCo error guard", e);
        } finally {
            try (var files = Files.list(work)) {
                for (Path p : files.toList()) Files.deleteIfExists(p);
            }
            Files.deleteIfExists(work);
        }
    }

    private static String findCompiler() throws IOException {
        String path = System.getenv("PATH");
        if (path != null) {
            for (String name : List.of("cc", "gcc", "clang")) {
                for (String dir : path.split(java.io.File.pathSeparator)) {
                    if (!dir.isBlank() && Files.isExecutable(Path.of(dir, name))) return Path.of(dir, name).toString();
                }
            }
        }
        throw new IOException("no C compiler (cc, gcc or clang) on PATH");
    }

    private static Path cacheDir() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("dmerl");
    }

    private static String librarySuffix() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        return os.contains("mac") ? ".dylib" : os.contains("win") ? ".dll" : ".so";
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
