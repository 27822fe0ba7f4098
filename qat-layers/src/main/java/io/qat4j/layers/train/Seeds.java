package io.qat4j.layers.train;

/**
 * Seeds of stochastic rounding in the backward paths: one stream per layer, iteration and tensor, so that
 * a run resumed from a checkpoint draws the same random numbers as the uninterrupted run.
 */
final class Seeds {
    /** Stream of the error handed back by a layer. */
    static final int ERRORS = 11;
    /** Stream of the loss gradient entering the output layer. */
    static final int LOSS = 12;
    /** Streams of weight gradients, updates and stored weights (plus the parameter's stream offset 0 / 1). */
    static final int GRADIENTS = 20;
    static final int UPDATES = 30;
    static final int MASTER = 40;
    static final int STATE = 50;

    private Seeds() {
    }

    static long of(int layerIndex, long iteration, int stream) {
        long z = (iteration + 1L) * 0x9E3779B97F4A7C15L + layerIndex * 1_000_003L + stream * 0x632BE59BD9B4E019L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
