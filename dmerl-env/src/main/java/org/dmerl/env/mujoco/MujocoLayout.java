package org.dmerl.env.mujoco;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Byte offsets and sizes of the MuJoCo struct fields the binding reads, for one MuJoCo version.
 *
 * <p>The table is the output of {@code native/mjlayout.c} compiled against that version's headers: lines
 * {@code version <mjVERSION_HEADER>} and {@code <name> <offset> <size>} ({@code mjData.qpos 40376 8}, and
 * {@code mjData 0 41176} for a struct's size); {@code #} starts a comment. Offsets are never typed by hand because
 * every MuJoCo release moves them.
 *
 * @param version the {@code mjVERSION_HEADER} the table was generated from (222 for 2.2.2, 3014000 for 3.14.0)
 * @param source  where the table came from, for error messages
 */
public record MujocoLayout(int version, String source, Map<String, Entry> entries) {

    /** One field (or, with offset 0, one struct): where it lies and how many bytes it takes. */
    public record Entry(long offset, long size) {}

    /** The table checked into this library, for the MuJoCo version it ships with. */
    public static final String DEFAULT_RESOURCE = "mujoco-2.2.2.layout";

    public MujocoLayout {
        entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    }

    public static MujocoLayout parse(Reader reader, String source) throws IOException {
        var entries = new LinkedHashMap<String, Entry>();
        Integer version = null;
        var lines = new BufferedReader(reader);
        int lineNumber = 0;
        for (String line; (line = lines.readLine()) != null; ) {
            lineNumber++;
            line = line.strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            String[] parts = line.split("\\s+");
            try {
                if (parts[0].equals("version") && parts.length == 2) {
                    version = Integer.parseInt(parts[1]);
                } else if (parts.length == 3) {
                    entries.put(parts[0], new Entry(Long.parseLong(parts[1]), Long.parseLong(parts[2])));
                } else {
                    throw new NumberFormatException("expected 'name offset size'");
                }
            } catch (NumberFormatException e) {
                throw new IOException(source + ":" + lineNumber + ": cannot read layout line '" + line + "' ("
                        + e.getMessage() + ")", e);
            }
        }
        if (version == null) throw new IOException(source + " has no 'version' line; is it a mjlayout table?");
        return new MujocoLayout(version, source, entries);
    }

    public static MujocoLayout load(Path file) throws IOException {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return parse(reader, file.toString());
        }
    }

    /** A table bundled with this library ({@code org/dmerl/env/mujoco/<name>}), or null if there is none. */
    public static MujocoLayout resource(String name) throws IOException {
        try (InputStream in = MujocoLayout.class.getResourceAsStream(name)) {
            if (in == null) return null;
            return parse(new InputStreamReader(in, StandardCharsets.UTF_8), "classpath:org/dmerl/env/mujoco/" + name);
        }
    }

    /** The bundled table's name for a MuJoCo version, e.g. {@code mujoco-2.2.2.layout}. */
    public static String resourceName(int version) {
        return "mujoco-" + versionString(version) + ".layout";
    }

    /**
     * Decodes {@code mjVERSION_HEADER}: MuJoCo 2.x used {@code 100·major + 10·minor + patch} (222), 3.x uses
     * {@code 1000000·major + 1000·minor + patch} (3014000).
     */
    public static String versionString(int version) {
        if (version >= 1_000_000) {
            return (version / 1_000_000) + "." + (version / 1000 % 1000) + "." + (version % 1000);
        }
        return (version / 100) + "." + (version / 10 % 10) + "." + (version % 10);
    }

    public Entry entry(String name) {
        Entry entry = entries.get(name);
        if (entry == null) {
            throw new MujocoException("MuJoCo layout table " + source + " has no entry '" + name
                    + "'; regenerate it with native/mjlayout.c from this library's headers");
        }
        return entry;
    }

    public long offset(String name) {
        return entry(name).offset();
    }

    public long size(String name) {
        return entry(name).size();
    }
}
