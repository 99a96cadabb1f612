package org.dmerl.env.mujoco;

/** Registers the MuJoCo locomotion tasks. */
public final class MujocoEnvs {
    private MujocoEnvs() {}

    public static void registerAll() {
        // filled in by the MuJoCo binding work (issue 3)
    }
}
