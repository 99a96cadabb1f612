package org.dmerl.env.mujoco;

import org.dmerl.env.EnvRegistry;

/**
 * Child-JVM program for {@link MujocoTasksTest}: builds Hopper-v5 twice under whatever {@code -Dmujoco.*} settings
 * the test passes (a missing library, a mismatched layout table) and prints what happened.
 */
public final class MakeHopperMain {
    private MakeHopperMain() {}

    public static void main(String[] args) {
        for (int attempt = 1; attempt <= 2; attempt++) {
            try {
                EnvRegistry.make("Hopper-v5").close();
                System.out.println("attempt " + attempt + ": built");
            } catch (MujocoException e) {
                System.out.println("attempt " + attempt + ": " + e.getMessage());
            }
        }
        System.out.println("available=" + MujocoLibrary.isAvailable());
        System.out.println("classic env still works: " + EnvRegistry.make("Pendulum-v1").reset(1).length);
    }
}
