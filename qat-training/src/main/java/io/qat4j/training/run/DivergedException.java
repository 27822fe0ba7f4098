package io.qat4j.training.run;

/** The training loss became NaN or infinite; the run stops and keeps its last good checkpoint. */
public final class DivergedException extends RuntimeException {
    public DivergedException(String message) {
        super(message);
    }
}
