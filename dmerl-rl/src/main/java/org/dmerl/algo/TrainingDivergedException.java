package org.dmerl.algo;

/** A loss or value became NaN or infinite; the run stops with what it has written so far intact. */
public final class TrainingDivergedException extends RuntimeException {
    public TrainingDivergedException(String message) {
        super(message);
    }
}
