package io.qat4j.zoo;

import org.nd4j.linalg.learning.config.IUpdater;

import java.util.Objects;

/**
 * Training-wide settings every zoo model needs: seed, updater and L2 weight decay.
 *
 * @param seed        seed of the weight initialization (and DL4J's dropout RNG)
 * @param updater     the optimizer, e.g. {@code new Adam(1e-3)}
 * @param weightDecay L2 weight decay coefficient applied to weights (not biases); 0 disables it
 */
public record NetSettings(long seed, IUpdater updater, double weightDecay) {
    public NetSettings {
        Objects.requireNonNull(updater, "updater");
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("weightDecay must be >= 0, got " + weightDecay);
        }
    }
}
