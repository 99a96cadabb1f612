package org.dmerl.env.mujoco;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A compiled MuJoCo model ({@code mjModel}). Read-only after loading, so one model may back several {@link MjData}
 * stepped on different threads.
 *
 * <p>Closing frees the native model (and first closes every {@link MjData} made from it). A model that is never
 * closed is freed when it becomes unreachable, but native memory is not visible to the garbage collector, so close
 * models deterministically (try-with-resources).
 */
public final class MjModel implements AutoCloseable {

    /** {@code mjtIntegrator}. */
    public enum Integrator { EULER, RK4, IMPLICIT, IMPLICITFAST }

    /** {@code mjtSolver}. */
    public enum Solver { PGS, CG, NEWTON }

    // mjtObj values used here; identical in MuJoCo 2.x and 3.x.
    private static final int OBJ_BODY = 1;
    private static final int OBJ_JOINT = 3;
    private static final int OBJ_GEOM = 5;
    private static final int ERROR_BUFFER = 1000;

    static final Cleaner CLEANER = Cleaner.create();

    private final MujocoLibrary lib;
    private final String source;
    private final Arena arena;
    private final MemorySegment struct;
    private final Cleaner.Cleanable cleanable;
    private final Set<MjData> openData = ConcurrentHashMap.newKeySet();
    private final int nq, nv, nu, na, nbody, njnt, ngeom;

    private MjModel(MujocoLibrary lib, MemorySegment raw, String source) {
        this.lib = lib;
        this.source = source;
        // Shared, so data stepped on worker threads may use the model; closing it invalidates every view at once.
        this.arena = Arena.ofShared();
        this.struct = raw.reinterpret(lib.layout().size("mjModel"), arena, null);
        this.cleanable = CLEANER.register(this, new Release(lib, arena, raw));
        nq = size("mjModel.nq");
        nv = size("mjModel.nv");
        nu = size("mjModel.nu");
        na = size("mjModel.na");
        nbody = size("mjModel.nbody");
        njnt = size("mjModel.njnt");
        ngeom = size("mjModel.ngeom");
    }

    /** Frees the native model once, whether from {@link #close()} or after the model became unreachable. */
    private record Release(MujocoLibrary lib, Arena arena, MemorySegment raw) implements Runnable {
        @Override
        public void run() {
            arena.close();
            try {
                lib.mjDeleteModel.invokeExact(raw);
            } catch (Throwable t) {
                throw MujocoLibrary.rethrow(t);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- loading

    /**
     * Compiles MJCF text. MuJoCo 2.2.2 has no load-from-string call, so the text goes through a temporary file;
     * relative asset paths in it (meshes, textures) would resolve against the temporary directory, so load models
     * with assets with {@link #fromFile}.
     *
     * @throws MujocoException with MuJoCo's compiler message when the XML is malformed or invalid
     */
    public static MjModel fromXml(String xml) {
        return fromXml(xml, "XML string");
    }

    private static MjModel fromXml(String xml, String source) {
        MujocoLibrary lib = MujocoLibrary.get();
        Path file = null;
        try {
            file = Files.createTempFile("dmerl-mujoco-", ".xml");
            Files.writeString(file, xml, StandardCharsets.UTF_8);
            return load(lib, file, source);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the MuJoCo model to a temporary file", e);
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException _) {
                    // a stray temp file is harmless
                }
            }
        }
    }

    /** Compiles an MJCF file. */
    public static MjModel fromFile(Path file) {
        MujocoLibrary lib = MujocoLibrary.get();
        if (!Files.isRegularFile(file)) throw new MujocoException("MuJoCo model file " + file + " does not exist");
        return load(lib, file, file.toString());
    }

    /** Compiles a model bundled with this library, e.g. {@code hopper.xml}. */
    public static MjModel fromResource(String name) {
        MujocoLibrary.get(); // fail on a missing library before reading resources
        try (InputStream in = MjModel.class.getResourceAsStream(name)) {
            if (in == null) throw new MujocoException("no bundled MuJoCo model " + name);
            return fromXml(new String(in.readAllBytes(), StandardCharsets.UTF_8), "classpath:" + name);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read bundled MuJoCo model " + name, e);
        }
    }

    private static MjModel load(MujocoLibrary lib, Path file, String source) {
        try (Arena temp = Arena.ofConfined()) {
            MemorySegment error = temp.allocate(ERROR_BUFFER);
            MemorySegment raw;
            try {
                raw = (MemorySegment) lib.mjLoadXML.invokeExact(temp.allocateFrom(file.toAbsolutePath().toString()),
                        MemorySegment.NULL, error, ERROR_BUFFER);
            } catch (Throwable t) {
                throw MujocoLibrary.rethrow(t);
            }
            String message = error.getString(0).strip();
            if (raw.equals(MemorySegment.NULL)) {
                throw new MujocoException("MuJoCo could not load the model from " + source + ": "
                        + (message.isEmpty() ? "(no message)" : message));
            }
            if (!message.isEmpty()) MujocoLibrary.LOG.warning("MuJoCo model " + source + ": " + message);
            return new MjModel(lib, raw, source);
        }
    }

    /** Where the model came from (a file, a bundled resource or "XML string"). */
    public String source() {
        return source;
    }

    // ---------------------------------------------------------------------------------------------- sizes and options

    public int nq() { return nq; }
    public int nv() { return nv; }
    public int nu() { return nu; }
    public int na() { return na; }
    public int nbody() { return nbody; }
    public int njnt() { return njnt; }
    public int ngeom() { return ngeom; }

    /** {@code opt.timestep}, the physics step in seconds. */
    public double timestep() {
        return struct.get(JAVA_DOUBLE, optionOffset("mjOption.timestep"));
    }

    public Integrator integrator() {
        return Integrator.values()[struct.get(JAVA_INT, optionOffset("mjOption.integrator"))];
    }

    public Solver solver() {
        return Solver.values()[struct.get(JAVA_INT, optionOffset("mjOption.solver"))];
    }

    public int iterations() {
        return struct.get(JAVA_INT, optionOffset("mjOption.iterations"));
    }

    // ---------------------------------------------------------------------------------------------- model arrays

    /** {@code qpos0}: the default pose (what {@code mj_resetData} restores). */
    public double[] qpos0() { return doubles("mjModel.qpos0", nq); }

    /** {@code body_mass}, one per body, body 0 (the world) first. */
    public double[] bodyMass() { return doubles("mjModel.body_mass", nbody); }

    public double[] bodySubtreeMass() { return doubles("mjModel.body_subtreemass", nbody); }

    /** {@code body_inertia}: principal moments, nbody x 3, row-major. */
    public double[] bodyInertia() { return doubles("mjModel.body_inertia", 3 * nbody); }

    /** {@code jnt_range}: njnt x 2 (low, high), row-major; radians for hinges. */
    public double[] jointRange() { return doubles("mjModel.jnt_range", 2 * njnt); }

    public double[] dofArmature() { return doubles("mjModel.dof_armature", nv); }

    public double[] dofDamping() { return doubles("mjModel.dof_damping", nv); }

    /** {@code geom_friction}: ngeom x 3 (sliding, torsional, rolling), row-major. */
    public double[] geomFriction() { return doubles("mjModel.geom_friction", 3 * ngeom); }

    /** {@code actuator_ctrlrange}: nu x 2 (low, high), row-major. */
    public double[] actuatorCtrlRange() { return doubles("mjModel.actuator_ctrlrange", 2 * nu); }

    /** {@code actuator_gear}: nu x 6, row-major. */
    public double[] actuatorGear() { return doubles("mjModel.actuator_gear", 6 * nu); }

    public boolean[] actuatorCtrlLimited() {
        byte[] bytes = pointer("mjModel.actuator_ctrllimited", nu).toArray(JAVA_BYTE);
        boolean[] limited = new boolean[nu];
        for (int i = 0; i < nu; i++) limited[i] = bytes[i] != 0;
        return limited;
    }

    // ---------------------------------------------------------------------------------------------- names

    /** The id of body {@code name} (0 is the world). */
    public int bodyId(String name) { return requireId(OBJ_BODY, "body", name); }

    public int jointId(String name) { return requireId(OBJ_JOINT, "joint", name); }

    public int geomId(String name) { return requireId(OBJ_GEOM, "geom", name); }

    private int requireId(int type, String kind, String name) {
        int id;
        try (Arena temp = Arena.ofConfined()) {
            id = (int) lib.mjName2Id.invokeExact(struct, type, temp.allocateFrom(name));
        } catch (Throwable t) {
            throw MujocoLibrary.rethrow(t);
        }
        if (id < 0) throw new IllegalArgumentException("model " + source() + " has no " + kind + " named '" + name + "'");
        return id;
    }

    // ---------------------------------------------------------------------------------------------- data

    /** A fresh {@code mjData} for this model; close it (or this model) to free its ~3 MB. */
    public MjData makeData() {
        MemorySegment raw = lib.makeData(struct);
        MjData data = new MjData(this, raw);
        openData.add(data);
        return data;
    }

    /** Frees the model after closing every {@link MjData} made from it. Idempotent. */
    @Override
    public void close() {
        var data = new ArrayList<>(openData);
        for (MjData d : data) d.close();
        cleanable.clean();
    }

    @Override
    public String toString() {
        return "MjModel(" + source() + ", nq=" + nq + ", nv=" + nv + ", nu=" + nu + ", nbody=" + nbody + ")";
    }

    // ---------------------------------------------------------------------------------------------- package-private

    MujocoLibrary library() { return lib; }

    MemorySegment struct() { return struct; }

    void forget(MjData data) { openData.remove(data); }

    private int size(String field) {
        long offset = lib.layout().offset(field);
        // MuJoCo 3.14 widened the size fields to int64 (mjtSize).
        long value = lib.layout().size(field) == 8 ? struct.get(JAVA_LONG, offset) : struct.get(JAVA_INT, offset);
        return Math.toIntExact(value);
    }

    private long optionOffset(String field) {
        return lib.layout().offset("mjModel.opt") + lib.layout().offset(field);
    }

    private MemorySegment pointer(String field, long bytes) {
        return struct.get(ADDRESS, lib.layout().offset(field)).reinterpret(bytes, arena, null);
    }

    private double[] doubles(String field, int count) {
        return pointer(field, (long) count * Double.BYTES).toArray(JAVA_DOUBLE);
    }
}
