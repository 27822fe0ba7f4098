package io.qat4j.layers.nn;

/**
 * The batch-normalization settings of a layer that folds its normalization into its weights
 * ({@link QuantConvBN2D}, {@link QuantDenseBN}): the running-statistics decay and epsilon of DL4J's
 * {@code BatchNormalization}, and the switch from batch statistics to frozen running statistics.
 *
 * <p>The statistics are frozen when {@link #isBnFrozen()} is set (by {@link BnFreezeListener} or by
 * hand) or, with {@code freezeBnAfter = N > 0}, from training iteration N on (DL4J's iteration count,
 * which the network saves). Until then the layer normalizes with batch statistics and updates the
 * running ones; afterwards it uses the running statistics only and leaves them alone.
 */
public interface FusedBatchNorm {

    /** DL4J's default running-statistics decay: {@code running = decay · running + (1 − decay) · batch}. */
    double DEFAULT_DECAY = 0.9;
    /** DL4J's default epsilon added to the variance. */
    double DEFAULT_EPS = 1e-5;

    /** Decay of the running mean and variance, in [0, 1). */
    double getDecay();

    /** Epsilon added to every variance before the square root, &gt; 0. */
    double getEps();

    /** Training iteration from which the statistics are frozen; 0 = never by iteration count. */
    int getFreezeBnAfter();

    /** Whether the statistics have been frozen explicitly (saved with the configuration). */
    boolean isBnFrozen();

    /** Freezes (or unfreezes) the statistics; a phase switch for training listeners. */
    void setBnFrozen(boolean frozen);

    /** Whether the statistics are frozen at training iteration {@code iteration}. */
    default boolean bnFrozenAt(int iteration) {
        return isBnFrozen() || (getFreezeBnAfter() > 0 && iteration >= getFreezeBnAfter());
    }

    /**
     * Checks the batch-normalization settings and the sites of a fused layer.
     *
     * @throws IllegalArgumentException naming the bad value and the allowed ones
     */
    static void validate(String layer, double decay, double eps, int freezeBnAfter, QuantSites sites) {
        QuantLayerSupport.requireSites(sites, layer);
        if (!(decay >= 0 && decay < 1)) {
            throw new IllegalArgumentException(layer + ": batch-norm decay " + decay + " is not allowed; allowed: [0, 1) "
                    + "(default " + DEFAULT_DECAY + ")");
        }
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException(layer + ": batch-norm eps " + eps + " is not allowed; allowed: a finite "
                    + "number > 0 (default " + DEFAULT_EPS + ")");
        }
        if (freezeBnAfter < 0) {
            throw new IllegalArgumentException(layer + ": freezeBnAfter " + freezeBnAfter + " is not allowed; allowed: "
                    + "0 (never) or an iteration count >= 1");
        }
        if (!sites.bias().isFloat()) {
            throw new IllegalArgumentException(layer + ": bias site '" + sites.bias() + "' is not allowed; allowed: "
                    + "float (the folded bias β − γμ/σ is quantized by the exporter, at input scale × weight scale)");
        }
    }
}
