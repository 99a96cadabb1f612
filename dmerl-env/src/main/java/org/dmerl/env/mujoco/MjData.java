package org.dmerl.env.mujoco;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;

/**
 * The simulation state of one {@link MjModel} ({@code mjData}): positions, velocities, controls and everything MuJoCo
 * computes from them. Not thread-safe; use one {@code MjData} per thread (several may share one model).
 *
 * <p>The array views ({@link #qpos()}, {@link #cfrcExt()}, ...) are made once: MuJoCo never moves them. Each is
 * checked to lie inside {@code d->buffer}, which cheaply catches a layout table that does not fit the library.
 */
public final class MjData implements AutoCloseable {

    private final MjModel model;
    private final MujocoLibrary lib;
    private final Arena arena;
    private final MemorySegment struct;
    private final Cleaner.Cleanable cleanable;
    private final MjArray qpos, qvel, act, ctrl, qacc, xpos, xipos, subtreeCom, cinert, cvel;
    private final MjArray actuatorForce, qfrcActuator, cfrcInt, cfrcExt;

    MjData(MjModel model, MemorySegment raw) {
        this.model = model;
        this.lib = model.library();
        var layout = lib.layout();
        // Shared, so a vector env may step this data on a worker thread; closing invalidates all views at once.
        this.arena = Arena.ofShared();
        this.struct = raw.reinterpret(layout.size("mjData"), arena, null);
        this.cleanable = MjModel.CLEANER.register(this, new Release(lib, arena, raw));
        int nq = model.nq(), nv = model.nv(), nu = model.nu(), na = model.na(), nbody = model.nbody();
        try {
            qpos = array("qpos", nq, 1);
            qvel = array("qvel", nv, 1);
            act = array("act", na, 1);
            ctrl = array("ctrl", nu, 1);
            qacc = array("qacc", nv, 1);
            xpos = array("xpos", nbody, 3);
            xipos = array("xipos", nbody, 3);
            subtreeCom = array("subtree_com", nbody, 3);
            cinert = array("cinert", nbody, 10);
            cvel = array("cvel", nbody, 6);
            actuatorForce = array("actuator_force", nu, 1);
            qfrcActuator = array("qfrc_actuator", nv, 1);
            cfrcInt = array("cfrc_int", nbody, 6);
            cfrcExt = array("cfrc_ext", nbody, 6);
        } catch (RuntimeException e) {
            cleanable.clean();
            throw e;
        }
    }

    private record Release(MujocoLibrary lib, Arena arena, MemorySegment raw) implements Runnable {
        @Override
        public void run() {
            arena.close();
            try {
                lib.mjDeleteData.invokeExact(raw);
            } catch (Throwable t) {
                throw MujocoLibrary.rethrow(t);
            }
        }
    }

    /** A view of {@code mjData.<field>}, refused unless it lies inside MuJoCo's main buffer. */
    private MjArray array(String field, int rows, int cols) {
        var layout = lib.layout();
        long bytes = (long) rows * cols * Double.BYTES;
        MemorySegment pointer = struct.get(ADDRESS, layout.offset("mjData." + field));
        if (bytes > 0) {
            long buffer = struct.get(ADDRESS, layout.offset("mjData.buffer")).address();
            long nbuffer = layout.size("mjData.nbuffer") == 8 ? struct.get(JAVA_LONG, layout.offset("mjData.nbuffer"))
                    : struct.get(JAVA_INT, layout.offset("mjData.nbuffer"));
            long start = pointer.address();
            if (start < buffer || start + bytes > buffer + nbuffer) {
                throw new MujocoException("mjData." + field + " does not lie inside mjData.buffer: the layout table "
                        + layout.source() + " does not match the MuJoCo library " + lib.libraryName());
            }
        }
        return new MjArray(field, pointer.reinterpret(bytes, arena, null), rows, cols, this);
    }

    public MjModel model() {
        return model;
    }

    // ---------------------------------------------------------------------------------------------- simulation

    /** {@code mj_step}: one physics step of {@code opt.timestep}. */
    public void step() {
        lib.run(lib.mjStep, model.struct(), struct, 1, null);
    }

    /** {@code mj_step} {@code nstep} times. */
    public void step(int nstep) {
        lib.run(lib.mjStep, model.struct(), struct, nstep, null);
    }

    /**
     * {@code mj_step} {@code nstep} times, then {@code mj_rnePostConstraint} so that {@code cfrc_ext},
     * {@code cfrc_int} and {@code cacc} describe the new state: Gymnasium's {@code do_simulation}, in one native call.
     */
    public void simulate(int nstep) {
        lib.run(lib.mjStep, model.struct(), struct, nstep, lib.mjRnePostConstraint);
    }

    /** {@code mj_forward}: recomputes every derived quantity from qpos, qvel, ctrl and act, without integrating. */
    public void forward() {
        lib.run(lib.mjForward, model.struct(), struct, 1, null);
    }

    /** {@code mj_rnePostConstraint}: fills {@code cacc}, {@code cfrc_int} and {@code cfrc_ext}. */
    public void rnePostConstraint() {
        lib.run(lib.mjRnePostConstraint, model.struct(), struct, 1, null);
    }

    /** {@code mj_resetData}: back to {@code qpos0}, zero velocity, zero control, time 0. */
    public void reset() {
        lib.run(lib.mjResetData, model.struct(), struct, 1, null);
    }

    // ---------------------------------------------------------------------------------------------- state

    /** Simulation time in seconds. */
    public double time() {
        return struct.get(JAVA_DOUBLE, lib.layout().offset("mjData.time"));
    }

    /** Number of contacts found by the last collision pass. */
    public int ncon() {
        return struct.get(JAVA_INT, lib.layout().offset("mjData.ncon"));
    }

    public MjArray qpos() { return qpos; }
    public MjArray qvel() { return qvel; }
    public MjArray act() { return act; }
    public MjArray ctrl() { return ctrl; }
    public MjArray qacc() { return qacc; }
    /** Body frame positions, nbody x 3. */
    public MjArray xpos() { return xpos; }
    /** Body centre-of-mass positions, nbody x 3. */
    public MjArray xipos() { return xipos; }
    public MjArray subtreeCom() { return subtreeCom; }
    /** Com-based body inertia and mass, nbody x 10. */
    public MjArray cinert() { return cinert; }
    /** Com-based velocity [3D rotation; 3D translation], nbody x 6. */
    public MjArray cvel() { return cvel; }
    public MjArray actuatorForce() { return actuatorForce; }
    /** Actuator force in joint space, nv. */
    public MjArray qfrcActuator() { return qfrcActuator; }
    public MjArray cfrcInt() { return cfrcInt; }
    /** Com-based external (contact) force on each body, nbody x 6; valid after {@link #rnePostConstraint()}. */
    public MjArray cfrcExt() { return cfrcExt; }

    /** Frees the native data. Idempotent; afterwards every view throws {@link IllegalStateException}. */
    @Override
    public void close() {
        model.forget(this);
        cleanable.clean();
    }
}
