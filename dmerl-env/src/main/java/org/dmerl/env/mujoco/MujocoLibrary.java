package org.dmerl.env.mujoco;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The loaded MuJoCo shared library: its downcalls, its struct layout table and its warning/error handlers.
 *
 * <p>Loaded once, on first use. The library is looked up in this order: system property {@value #LIBRARY_PROPERTY},
 * environment variable {@value #LIBRARY_ENV} (either is used alone when set), then {@code java.library.path}, the
 * usual system directories and the platform loader's own search, under the names {@code libmujoco.so} and
 * {@code libmujoco.so.2.2.2}. The layout table is {@value #LAYOUT_PROPERTY} if set, else the bundled table for the
 * library's version (2.2.2 ships with this library). {@code mj_version()} must equal the table's version; a
 * mismatch fails loudly, naming both, instead of reading memory at wrong offsets.
 *
 * <p>MuJoCo warnings go to {@code java.util.logging} (logger {@code org.dmerl.env.mujoco}) instead of stdout and
 * {@code MUJOCO_LOG.TXT}. Fatal errors ({@code mju_error}) inside simulation calls become {@link MujocoException}s
 * through the small C guard in {@link MujocoGuard}; without the guard the JVM is halted after logging, because
 * MuJoCo cannot safely continue after {@code mju_error} and a Java upcall can neither unwind nor throw.
 *
 * <p>If the library cannot be loaded, {@link #get()} throws a {@link MujocoException} saying why (every time, the
 * JVM stays up) and {@link #isAvailable()} is false.
 */
public final class MujocoLibrary {

    public static final String LIBRARY_PROPERTY = "mujoco.library";
    public static final String LIBRARY_ENV = "MUJOCO_LIBRARY";
    public static final String LAYOUT_PROPERTY = "mujoco.layout";

    static final Logger LOG = Logger.getLogger("org.dmerl.env.mujoco");

    private static final Linker LINKER = Linker.nativeLinker();
    private static final FunctionDescriptor MODEL_DATA = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS);
    private static final FunctionDescriptor MESSAGE = FunctionDescriptor.ofVoid(ADDRESS);

    /** Loading happens at most once; a failure is kept and reported to every caller. */
    private static final class Holder {
        static final Object INSTANCE = loadOrFailure();
    }

    private final String libraryName;
    private final int version;
    private final MujocoLayout layout;
    private final MujocoGuard guard; // null when errors cannot be caught (see class comment)

    // Downcalls (signatures are identical in MuJoCo 2.2.2 and 3.x).
    final MethodHandle mjLoadXML;          // mjModel* (const char* file, const mjVFS* vfs, char* error, int size)
    final MethodHandle mjDeleteModel;      // void (mjModel*)
    final MethodHandle mjMakeData;         // mjData* (const mjModel*)
    final MethodHandle mjDeleteData;       // void (mjData*)
    final MethodHandle mjName2Id;          // int (const mjModel*, int type, const char* name)
    final MethodHandle mjuWarningS;        // void (const char* format, const char* text), for tests
    final MethodHandle mjuErrorS;          // void (const char* format, const char* text), for tests
    final EngineCall mjStep;
    final EngineCall mjForward;
    final EngineCall mjResetData;
    final EngineCall mjRnePostConstraint;
    final MemorySegment mjMakeDataAddress;
    final MemorySegment mjuErrorSAddress;

    /** An engine function {@code void f(const mjModel*, mjData*)}: its address (for the guard) and its handle. */
    record EngineCall(String name, MemorySegment address, MethodHandle handle) {}

    private MujocoLibrary(SymbolLookup lookup, String libraryName, int version, MujocoLayout layout) throws IOException {
        this.libraryName = libraryName;
        this.version = version;
        this.layout = layout;
        mjLoadXML = downcall(lookup, "mj_loadXML", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
        mjDeleteModel = downcall(lookup, "mj_deleteModel", MESSAGE);
        mjMakeData = downcall(lookup, "mj_makeData", FunctionDescriptor.of(ADDRESS, ADDRESS));
        mjDeleteData = downcall(lookup, "mj_deleteData", MESSAGE);
        mjName2Id = downcall(lookup, "mj_name2id", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        mjuWarningS = downcall(lookup, "mju_warning_s", MODEL_DATA);
        mjuErrorS = downcall(lookup, "mju_error_s", MODEL_DATA);
        mjStep = engineCall(lookup, "mj_step");
        mjForward = engineCall(lookup, "mj_forward");
        mjResetData = engineCall(lookup, "mj_resetData");
        mjRnePostConstraint = engineCall(lookup, "mj_rnePostConstraint");
        mjMakeDataAddress = symbol(lookup, "mj_makeData");
        mjuErrorSAddress = symbol(lookup, "mju_error_s");
        checkNumericWidths();
        guard = MujocoGuard.load();
        installHandlers(lookup);
    }

    /** The loaded library, loading it on first use. */
    public static MujocoLibrary get() {
        Object instance = Holder.INSTANCE;
        if (instance instanceof MujocoLibrary library) return library;
        var failure = (MujocoException) instance;
        // A fresh exception per caller, so each stack trace shows where MuJoCo was needed.
        throw new MujocoException(failure.getMessage(), failure);
    }

    public static boolean isAvailable() {
        return Holder.INSTANCE instanceof MujocoLibrary;
    }

    /** Why MuJoCo cannot be used here, or empty if it can. */
    public static Optional<String> unavailableReason() {
        return Holder.INSTANCE instanceof MujocoException e ? Optional.of(e.getMessage()) : Optional.empty();
    }

    /** {@code mj_version()}, e.g. 222. */
    public int version() {
        return version;
    }

    /** The version as {@code major.minor.patch}, e.g. {@code 2.2.2}. */
    public String versionString() {
        return MujocoLayout.versionString(version);
    }

    /** The path or name the library was loaded from. */
    public String libraryName() {
        return libraryName;
    }

    public MujocoLayout layout() {
        return layout;
    }

    /** Whether MuJoCo fatal errors become {@link MujocoException}s (true) or halt the JVM after logging (false). */
    public boolean guardsFatalErrors() {
        return guard != null;
    }

    @Override
    public String toString() {
        return "MuJoCo " + versionString() + " (" + libraryName + ", layout " + layout.source()
                + (guard != null ? ", fatal errors guarded by " + guard.path() : ", fatal errors unguarded") + ")";
    }

    // ---------------------------------------------------------------------------------------------- engine calls

    /**
     * Runs {@code fn(m, d)} {@code repeat} times, then {@code after(m, d)} if not null, as one guarded native call.
     * A MuJoCo fatal error inside becomes a {@link MujocoException}.
     */
    void run(EngineCall fn, MemorySegment m, MemorySegment d, int repeat, EngineCall after) {
        if (guard != null) {
            int rc = guard.call(fn.address(), m, d, repeat, after == null ? MemorySegment.NULL : after.address());
            if (rc != 0) throw fatal(fn.name());
            return;
        }
        try {
            for (int i = 0; i < repeat; i++) fn.handle().invokeExact(m, d);
            if (after != null) after.handle().invokeExact(m, d);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** {@code mj_makeData(m)}, guarded like {@link #run}. */
    MemorySegment makeData(MemorySegment m) {
        MemorySegment d;
        if (guard != null) {
            d = guard.make(mjMakeDataAddress, m);
            if (d.equals(MemorySegment.NULL)) throw fatal("mj_makeData");
            return d;
        }
        try {
            d = (MemorySegment) mjMakeData.invokeExact(m);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (d.equals(MemorySegment.NULL)) throw new MujocoException("mj_makeData returned NULL (out of memory?)");
        return d;
    }

    /** Raises {@code mju_error} with {@code message} inside a guarded call: for tests of the error path. */
    void raiseErrorForTest(String message) {
        if (guard == null) throw new IllegalStateException("no MuJoCo error guard: mju_error would halt the JVM");
        try (Arena arena = Arena.ofConfined()) {
            int rc = guard.call(mjuErrorSAddress, arena.allocateFrom("%s"), arena.allocateFrom(message), 1,
                    MemorySegment.NULL);
            if (rc != 0) throw fatal("mju_error_s");
        }
    }

    /** Raises {@code mju_warning} with {@code message}: for tests of the warning route. */
    void raiseWarningForTest(String message) {
        try (Arena arena = Arena.ofConfined()) {
            mjuWarningS.invokeExact(arena.allocateFrom("%s"), arena.allocateFrom(message));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private MujocoException fatal(String call) {
        String message = guard.lastMessage();
        LOG.severe("MuJoCo error in " + call + ": " + message);
        return new MujocoException("MuJoCo error in " + call + ": " + message);
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException e) return e;
        if (t instanceof Error e) throw e;
        return new MujocoException("native call failed: " + t, t);
    }

    // ---------------------------------------------------------------------------------------------- loading

    private static Object loadOrFailure() {
        try {
            return load();
        } catch (MujocoException e) {
            LOG.log(Level.FINE, "MuJoCo unavailable", e);
            return e;
        } catch (RuntimeException | IOException | LinkageError e) {
            return new MujocoException("MuJoCo library could not be loaded: " + e, e);
        }
    }

    private static MujocoLibrary load() throws IOException {
        var found = findLibrary();
        SymbolLookup lookup = found.lookup();
        MethodHandle mjVersion = downcall(lookup, "mj_version", FunctionDescriptor.of(JAVA_INT));
        int version;
        try {
            version = (int) mjVersion.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
        MujocoLayout layout = findLayout(version);
        requireMatchingVersion(layout, version, found.name());
        var library = new MujocoLibrary(lookup, found.name(), version, layout);
        LOG.fine(() -> "loaded " + library);
        return library;
    }

    /** Refuses a layout table made for another MuJoCo version than the library's {@code mj_version()}. */
    static void requireMatchingVersion(MujocoLayout layout, int libraryVersion, String libraryName) {
        if (layout.version() == libraryVersion) return;
        throw new MujocoException("MuJoCo version mismatch: the layout table " + layout.source() + " is for MuJoCo "
                + MujocoLayout.versionString(layout.version()) + " (mjVERSION_HEADER " + layout.version()
                + ") but the library " + libraryName + " is MuJoCo " + MujocoLayout.versionString(libraryVersion)
                + " (mj_version() = " + libraryVersion + "). Generate a table from that release's headers with "
                + "native/mjlayout.c and pass it with -D" + LAYOUT_PROPERTY + "=FILE, or point -D"
                + LIBRARY_PROPERTY + " at a matching library.");
    }

    private record Found(String name, SymbolLookup lookup) {}

    private static Found findLibrary() {
        String explicit = System.getProperty(LIBRARY_PROPERTY);
        String origin = "-D" + LIBRARY_PROPERTY;
        if (explicit == null || explicit.isBlank()) {
            explicit = System.getenv(LIBRARY_ENV);
            origin = LIBRARY_ENV;
        }
        if (explicit != null && !explicit.isBlank()) {
            // An explicit choice is used alone: silently falling back to another MuJoCo would hide the mistake.
            Path path = Path.of(explicit);
            if (!Files.isRegularFile(path)) {
                throw new MujocoException("MuJoCo library " + path + " (from " + origin + ") does not exist");
            }
            try {
                return new Found(path.toAbsolutePath().toString(), SymbolLookup.libraryLookup(path, Arena.global()));
            } catch (IllegalArgumentException e) {
                throw new MujocoException("MuJoCo library " + path + " (from " + origin + ") cannot be loaded: "
                        + e.getMessage(), e);
            }
        }
        List<String> tried = new ArrayList<>();
        for (Path path : candidatePaths()) {
            if (!Files.isRegularFile(path)) continue;
            tried.add(path.toString());
            try {
                return new Found(path.toString(), SymbolLookup.libraryLookup(path, Arena.global()));
            } catch (IllegalArgumentException e) {
                tried.set(tried.size() - 1, path + " (" + e.getMessage() + ")");
            }
        }
        // The platform loader's own search (LD_LIBRARY_PATH, ld.so cache, DYLD_LIBRARY_PATH, PATH).
        for (String name : List.of(System.mapLibraryName("mujoco"), "libmujoco.so.2.2.2")) {
            tried.add(name);
            try {
                return new Found(name, SymbolLookup.libraryLookup(name, Arena.global()));
            } catch (IllegalArgumentException _) {
                // try the next name
            }
        }
        throw new MujocoException("MuJoCo library not found (tried " + String.join(", ", tried) + "). Install it "
                + "(Debian/Ubuntu: apt-get install libmujoco-dev) or point -D" + LIBRARY_PROPERTY + " or "
                + LIBRARY_ENV + " at libmujoco.so.");
    }

    private static List<Path> candidatePaths() {
        var dirs = new ArrayList<String>();
        for (String dir : System.getProperty("java.library.path", "").split(java.io.File.pathSeparator)) {
            if (!dir.isBlank()) dirs.add(dir);
        }
        dirs.addAll(List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
                "/usr/local/lib", "/opt/homebrew/lib"));
        var paths = new ArrayList<Path>();
        for (String dir : dirs) {
            // The unversioned name comes from libmujoco-dev; the runtime-only package has just the versioned one.
            for (String name : List.of(System.mapLibraryName("mujoco"), "libmujoco.so.2.2.2")) {
                paths.add(Path.of(dir, name));
            }
        }
        return paths;
    }

    private static MujocoLayout findLayout(int version) throws IOException {
        String file = System.getProperty(LAYOUT_PROPERTY);
        if (file != null && !file.isBlank()) {
            Path path = Path.of(file);
            if (!Files.isRegularFile(path)) {
                throw new MujocoException("MuJoCo layout table " + path + " (from -D" + LAYOUT_PROPERTY
                        + ") does not exist");
            }
            return MujocoLayout.load(path);
        }
        MujocoLayout bundled = MujocoLayout.resource(MujocoLayout.resourceName(version));
        // No table for this version: use the default one, whose version check then names both versions.
        return bundled != null ? bundled : MujocoLayout.resource(MujocoLayout.DEFAULT_RESOURCE);
    }

    private void checkNumericWidths() {
        if (layout.size("mjOption.timestep") != Double.BYTES) {
            throw new MujocoException("this MuJoCo build uses " + layout.size("mjOption.timestep") * 8
                    + "-bit mjtNum; only double precision builds are supported");
        }
    }

    // ---------------------------------------------------------------------------------------------- handlers

    private void installHandlers(SymbolLookup lookup) {
        try {
            var lookupHere = MethodHandles.lookup();
            MethodType type = MethodType.methodType(void.class, MemorySegment.class);
            MemorySegment warning = LINKER.upcallStub(lookupHere.findStatic(MujocoLibrary.class, "onWarning", type),
                    MESSAGE, Arena.global());
            MemorySegment fatal = LINKER.upcallStub(lookupHere.findStatic(MujocoLibrary.class, "onUnguardedError",
                    type), MESSAGE, Arena.global());
            MemorySegment error = fatal;
            if (guard != null) {
                guard.setFallback(fatal);
                error = guard.errorHandler();
            }
            // The handlers are exported global function pointers: void (*mju_user_warning)(const char*).
            global(lookup, "mju_user_warning").set(ADDRESS, 0, warning);
            global(lookup, "mju_user_error").set(ADDRESS, 0, error);
        } catch (ReflectiveOperationException e) {
            throw new MujocoException("cannot install MuJoCo message handlers: " + e, e);
        }
    }

    private static MemorySegment global(SymbolLookup lookup, String name) {
        return symbol(lookup, name).reinterpret(ADDRESS.byteSize());
    }

    /** mju_user_warning: MuJoCo's warnings (e.g. "Nan, Inf or huge value in QACC") go to the log, not a file. */
    private static void onWarning(MemorySegment message) {
        try {
            LOG.warning("MuJoCo warning: " + text(message));
        } catch (Throwable _) {
            // an exception escaping an upcall would kill the JVM; a lost log line is the lesser harm
        }
    }

    /**
     * mju_user_error outside a guarded call (or with no guard at all). MuJoCo must not continue after an error and
     * a Java upcall cannot unwind its C caller, so the only safe ending is to halt, after saying why.
     */
    private static void onUnguardedError(MemorySegment message) {
        String text = "MuJoCo fatal error outside a guarded call: " + safeText(message)
                + " -- halting the JVM (MuJoCo cannot continue after mju_error; a C compiler lets"
                + " org.dmerl.env.mujoco build its error guard, see MujocoGuard)";
        try {
            LOG.severe(text);
            for (var handler : LOG.getHandlers()) handler.flush();
            System.err.println(text);
            System.err.flush();
        } catch (Throwable _) {
            // halt regardless
        }
        Runtime.getRuntime().halt(1);
    }

    private static String safeText(MemorySegment message) {
        try {
            return text(message);
        } catch (Throwable _) {
            return "(unreadable message)";
        }
    }

    static String text(MemorySegment cString) {
        if (cString.equals(MemorySegment.NULL)) return "(null)";
        return cString.reinterpret(Long.MAX_VALUE).getString(0).strip();
    }

    // ---------------------------------------------------------------------------------------------- lookup helpers

    static MemorySegment symbol(SymbolLookup lookup, String name) {
        return lookup.find(name).orElseThrow(() -> new MujocoException("MuJoCo library has no symbol " + name));
    }

    static MethodHandle downcall(SymbolLookup lookup, String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(symbol(lookup, name), descriptor);
    }

    private static EngineCall engineCall(SymbolLookup lookup, String name) {
        MemorySegment address = symbol(lookup, name);
        return new EngineCall(name, address, LINKER.downcallHandle(address, MODEL_DATA));
    }
}
