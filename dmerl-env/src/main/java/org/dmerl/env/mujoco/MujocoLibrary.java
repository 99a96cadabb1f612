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
    private static final FunctionDescriptor POINTER_ARG = FunctionDescriptor.ofVoid(ADDRESS);

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
        mjDeleteModel = downcall(lookup, "mj_deleteModel", POINTER_ARG);
        mjMakeData = downcall(lookup, "mj_makeData", FunctionDescriptor.of(ADDRESS, ADDRESS));
        mjDeleteData = downcall(lookup, "mj_deleteData", POINTER_ARG);
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
        MujocoMessages.install(lookup, guard);
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

    /** Raises {@code mju_error} outside any guard: the JVM halts. Only for a test that runs it in a child JVM. */
    void raiseUnguardedErrorForTest(String message) {
        try (Arena arena = Arena.ofConfined()) {
            mjuErrorS.invokeExact(arena.allocateFrom("%s"), arena.allocateFrom(message));
        } catch (Throwable t) {
            throw rethrow(t);
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
        var found = MujocoLocator.findLibrary();
        SymbolLookup lookup = found.lookup();
        MethodHandle mjVersion = downcall(lookup, "mj_version", FunctionDescriptor.of(JAVA_INT));
        int version;
        try {
            version = (int) mjVersion.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
        MujocoLayout layout = MujocoLocator.findLayout(version);
        MujocoLocator.requireMatchingVersion(layout, version, found.name());
        var library = new MujocoLibrary(lookup, found.name(), version, layout);
        LOG.fine(() -> "loaded " + library);
        return library;
    }

    private void checkNumericWidths() {
        if (layout.size("mjOption.timestep") != Double.BYTES) {
            throw new MujocoException("this MuJoCo build uses " + layout.size("mjOption.timestep") * 8
                    + "-bit mjtNum; only double precision builds are supported");
        }
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
