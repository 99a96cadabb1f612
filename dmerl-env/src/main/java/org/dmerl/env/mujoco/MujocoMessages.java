package org.dmerl.env.mujoco;

import static java.lang.foreign.ValueLayout.ADDRESS;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * MuJoCo's message handlers, as Java upcalls. MuJoCo's defaults print to stdout and append to
 * {@code MUJOCO_LOG.TXT} in the working directory (warnings), or wait for Enter and {@code exit(1)} (errors); these
 * log to {@code java.util.logging} instead and never touch the working directory.
 */
final class MujocoMessages {

    private static final FunctionDescriptor MESSAGE = FunctionDescriptor.ofVoid(ADDRESS);

    private MujocoMessages() {}

    /** Points mju_user_warning at the log and mju_user_error at the guard (or, without one, at a logged halt). */
    static void install(SymbolLookup lookup, MujocoGuard guard) {
        try {
            var lookupHere = MethodHandles.lookup();
            var linker = Linker.nativeLinker();
            MethodType type = MethodType.methodType(void.class, MemorySegment.class);
            MemorySegment warning = linker.upcallStub(lookupHere.findStatic(MujocoMessages.class, "onWarning", type),
                    MESSAGE, Arena.global());
            MemorySegment fatal = linker.upcallStub(
                    lookupHere.findStatic(MujocoMessages.class, "onUnguardedError", type), MESSAGE, Arena.global());
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
        return MujocoLibrary.symbol(lookup, name).reinterpret(ADDRESS.byteSize());
    }

    /** mju_user_warning: MuJoCo's warnings (e.g. "Nan, Inf or huge value in QACC") go to the log, not a file. */
    private static void onWarning(MemorySegment message) {
        try {
            MujocoLibrary.LOG.warning("MuJoCo warning: " + text(message));
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
            MujocoLibrary.LOG.severe(text);
            for (var handler : MujocoLibrary.LOG.getHandlers()) handler.flush();
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
}
