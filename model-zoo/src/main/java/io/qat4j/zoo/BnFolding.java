package io.qat4j.zoo;

/**
 * Whether a batch-normalized zoo model folds each normalization into the convolution or dense layer
 * before it during training ({@code io.qat4j.layers.nn.QuantConvBN2D}, {@code QuantDenseBN}), and
 * from which training iteration the folded layers freeze their statistics.
 *
 * @param enabled               fold (requires the model's batch normalization)
 * @param freezeAfterIterations freeze the statistics from this training iteration on; 0 = not by
 *                              iteration count (a {@code BnFreezeListener} can still freeze them by epoch)
 */
public record BnFolding(boolean enabled, int freezeAfterIterations) {
    public BnFolding {
        if (freezeAfterIterations < 0) {
            throw new IllegalArgumentException("freezeAfterIterations must be 0 (never) or an iteration count >= 1, got "
                    + freezeAfterIterations);
        }
        if (!enabled && freezeAfterIterations != 0) {
            throw new IllegalArgumentException("freezeAfterIterations " + freezeAfterIterations + " needs folding "
                    + "enabled; allowed without folding: 0");
        }
    }

    /** Separate normalization layers (the default). */
    public static BnFolding none() {
        return new BnFolding(false, 0);
    }

    /** Folded normalization, statistics frozen from iteration {@code freezeAfterIterations} (0 = not by iterations). */
    public static BnFolding folded(int freezeAfterIterations) {
        return new BnFolding(true, freezeAfterIterations);
    }
}
