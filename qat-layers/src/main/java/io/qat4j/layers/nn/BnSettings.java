package io.qat4j.layers.nn;

import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.io.Serializable;
import java.util.Objects;

/**
 * The batch-normalization settings of a layer with folded normalization ({@link FusedBatchNorm}): DL4J's
 * running-statistics decay and epsilon, and the two switches from batch statistics to frozen running
 * statistics (an iteration count, and an explicit flag that training listeners set and the model saves).
 * Immutable; validated on construction.
 */
public final class BnSettings implements Serializable {
    private static final long serialVersionUID = 1L;

    /** DL4J's defaults: decay 0.9, epsilon 1e-5, never frozen. */
    public static final BnSettings DEFAULTS = new BnSettings();

    @JsonProperty("decay")
    private final double decay;
    @JsonProperty("eps")
    private final double eps;
    @JsonProperty("freezeBnAfter")
    private final int freezeBnAfter;
    @JsonProperty("bnFrozen")
    private final boolean bnFrozen;

    /** For JSON deserialization: the defaults. */
    private BnSettings() {
        this(FusedBatchNorm.DEFAULT_DECAY, FusedBatchNorm.DEFAULT_EPS, 0, false);
    }

    /**
     * @throws IllegalArgumentException for a decay outside [0, 1), a non-positive or infinite epsilon, or a
     *     negative iteration count
     */
    public BnSettings(double decay, double eps, int freezeBnAfter, boolean bnFrozen) {
        if (!(decay >= 0 && decay < 1)) {
            throw new IllegalArgumentException("batch-norm decay " + decay + " is not allowed; allowed: [0, 1) (default "
                    + FusedBatchNorm.DEFAULT_DECAY + ")");
        }
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("batch-norm eps " + eps + " is not allowed; allowed: a finite number > 0 "
                    + "(default " + FusedBatchNorm.DEFAULT_EPS + ")");
        }
        if (freezeBnAfter < 0) {
            throw new IllegalArgumentException("freezeBnAfter " + freezeBnAfter + " is not allowed; allowed: 0 (never) "
                    + "or an iteration count >= 1");
        }
        this.decay = decay;
        this.eps = eps;
        this.freezeBnAfter = freezeBnAfter;
        this.bnFrozen = bnFrozen;
    }

    public double decay() {
        return decay;
    }

    public double eps() {
        return eps;
    }

    public int freezeBnAfter() {
        return freezeBnAfter;
    }

    public boolean bnFrozen() {
        return bnFrozen;
    }

    public BnSettings withDecay(double d) {
        return new BnSettings(d, eps, freezeBnAfter, bnFrozen);
    }

    public BnSettings withEps(double e) {
        return new BnSettings(decay, e, freezeBnAfter, bnFrozen);
    }

    public BnSettings withFreezeBnAfter(int iterations) {
        return new BnSettings(decay, eps, iterations, bnFrozen);
    }

    public BnSettings withBnFrozen(boolean frozen) {
        return new BnSettings(decay, eps, freezeBnAfter, frozen);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BnSettings b && Double.compare(decay, b.decay) == 0 && Double.compare(eps, b.eps) == 0
                && freezeBnAfter == b.freezeBnAfter && bnFrozen == b.bnFrozen;
    }

    @Override
    public int hashCode() {
        return Objects.hash(decay, eps, freezeBnAfter, bnFrozen);
    }

    @Override
    public String toString() {
        return "decay=" + decay + ", eps=" + eps + ", freezeBnAfter=" + freezeBnAfter + ", bnFrozen=" + bnFrozen;
    }
}
