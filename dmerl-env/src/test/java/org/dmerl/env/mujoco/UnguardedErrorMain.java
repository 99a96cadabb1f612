package org.dmerl.env.mujoco;

/** Child-JVM program for {@link MujocoBindingTest}: raises a MuJoCo fatal error with no guard installed. */
public final class UnguardedErrorMain {
    private UnguardedErrorMain() {}

    public static void main(String[] args) {
        MujocoLibrary.get().raiseUnguardedErrorForTest("deliberate unguarded failure");
        System.out.println("still running after mju_error");
    }
}
