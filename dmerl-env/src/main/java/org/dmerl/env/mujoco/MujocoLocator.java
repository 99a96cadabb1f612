package org.dmerl.env.mujoco;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the MuJoCo library and its layout table come from (see {@link MujocoLibrary} for the order), and the check
 * that the two belong together.
 */
final class MujocoLocator {

    private MujocoLocator() {}

    /** Refuses a layout table made for another MuJoCo version than the library's {@code mj_version()}. */
    static void requireMatchingVersion(MujocoLayout layout, int libraryVersion, String libraryName) {
        if (layout.version() == libraryVersion) return;
        throw new MujocoException("MuJoCo version mismatch: the layout table " + layout.source() + " is for MuJoCo "
                + MujocoLayout.versionString(layout.version()) + " (mjVERSION_HEADER " + layout.version()
                + ") but the library " + libraryName + " is MuJoCo " + MujocoLayout.versionString(libraryVersion)
                + " (mj_version() = " + libraryVersion + "). Generate a table from that release's headers with "
                + "native/mjlayout.c and pass it with -D" + MujocoLibrary.LAYOUT_PROPERTY + "=FILE, or point -D"
                + MujocoLibrary.LIBRARY_PROPERTY + " at a matching library.");
    }

    /** A loaded library and the path or name it was found under. */
    record Found(String name, SymbolLookup lookup) {}

    static Found findLibrary() {
        String explicit = System.getProperty(MujocoLibrary.LIBRARY_PROPERTY);
        String origin = "-D" + MujocoLibrary.LIBRARY_PROPERTY;
        if (explicit == null || explicit.isBlank()) {
            explicit = System.getenv(MujocoLibrary.LIBRARY_ENV);
            origin = MujocoLibrary.LIBRARY_ENV;
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
                + "(Debian/Ubuntu: apt-get install libmujoco-dev) or point -D" + MujocoLibrary.LIBRARY_PROPERTY + " or "
                + MujocoLibrary.LIBRARY_ENV + " at libmujoco.so.");
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

    static MujocoLayout findLayout(int version) throws IOException {
        String file = System.getProperty(MujocoLibrary.LAYOUT_PROPERTY);
        if (file != null && !file.isBlank()) {
            Path path = Path.of(file);
            if (!Files.isRegularFile(path)) {
                throw new MujocoException("MuJoCo layout table " + path + " (from -D" + MujocoLibrary.LAYOUT_PROPERTY
                        + ") does not exist");
            }
            return MujocoLayout.load(path);
        }
        MujocoLayout bundled = MujocoLayout.resource(MujocoLayout.resourceName(version));
        // No table for this version: use the default one, whose version check then names both versions.
        return bundled != null ? bundled : MujocoLayout.resource(MujocoLayout.DEFAULT_RESOURCE);
    }
}
