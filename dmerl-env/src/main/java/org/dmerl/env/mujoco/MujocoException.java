package org.dmerl.env.mujoco;

/**
 * A MuJoCo failure turned into a Java exception: the library cannot be loaded or does not match its layout table, a
 * model does not compile, or MuJoCo raised a fatal error ({@code mju_error}) inside a guarded call.
 */
public class MujocoException extends RuntimeException {

    public MujocoException(String message) {
        super(message);
    }

    public MujocoException(String message, Throwable cause) {
        super(message, cause);
    }
}
