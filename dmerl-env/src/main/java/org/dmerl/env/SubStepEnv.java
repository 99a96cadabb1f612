package org.dmerl.env;

/**
 * An environment some of whose steps are not steps of the real environment (e.g. the diffusion sub-steps of a
 * diffusion-augmented MDP). Training loops count real steps with it.
 */
public interface SubStepEnv {

    /** Whether the last {@code step} advanced the real environment. */
    boolean lastStepWasReal();

    /** Agent steps per real environment step. */
    int subSteps();
}
