package io.qat4j.layers.nn;

/**
 * A layer that folds its batch normalization into its weights ({@link QuantConvBN2D}, {@link QuantDenseBN}):
 * its {@link BnSettings} (DL4J's running-statistics decay and epsilon, and the switch from batch statistics
 * to frozen running statistics).
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

    /** The settings (saved with the configuration). */
    BnSettings getBn();

    /** Replaces the settings. */
    void setBn(BnSettings bn);

    /** Decay of the running mean and variance, in [0, 1). */
    default double getDecay() {
        return getBn().decay();
    }

    /** Epsilon added to every variance before the square root, &gt; 0. */
    default double getEps() {
        return getBn().eps();
    }

    /** Training iteration from which the statistics are frozen; 0 = never by iteration count. */
    default int getFreezeBnAfter() {
        return getBn().freezeBnAfter();
    }

    /** Whether the statistics have been frozen explicitly (saved with the configuration). */
    default boolean isBnFrozen() {
        return getBn().bnFrozen();
    }

    /** Freezes (or unfreezes) the statistics; a phase switch for training listeners. */
    default void setBnFrozen(boolean frozen) {
        setBn(getBn().withBnFrozen(frozen));
    }

    /** Whether the statistics are frozen at training iteration {@code iteration}. */
    default boolean bnFrozenAt(int iteration) {
        return isBnFrozen() || (getFreezeBnAfter() > 0 && iteration >= getFreezeBnAfter());
    }

    /**
     * Checks the sites of a fused layer: the bias site must be float (the exporter quantizes the folded bias).
     *
     * @throws IllegalArgumentException naming the layer, the bad value and the allowed ones
     */
    static QuantSites validate(String layer, QuantSites sites) {
        QuantLayerSupport.requireSites(sites, layer);
        if (!sites.bias().isFloat()) {
            throw new IllegalArgumentException(layer + ": bias site '" + sites.bias() + "' is not allowed; allowed: "
                    + "float (the folded bias β − γμ/σ is quantized by the exporter, at input scale × weight scale)");
        }
        return sites;
    }

    /** The batch-normalization setters of the fused layers' builders, written once. */
    interface Builder<T> {
        /** The settings so far. */
        BnSettings bn();

        /** Replaces the settings. */
        T bn(BnSettings bn);

        /** Running-statistics decay, in [0, 1); default 0.9 (DL4J's). */
        default T decay(double decay) {
            return bn(bn().withDecay(decay));
        }

        /** Epsilon added to the variance, &gt; 0; default 1e-5 (DL4J's). */
        default T eps(double eps) {
            return bn(bn().withEps(eps));
        }

        /** Freeze the statistics from this training iteration on; 0 (default) = never by iteration count. */
        default T freezeBnAfter(int iterations) {
            return bn(bn().withFreezeBnAfter(iterations));
        }

        /** Start with frozen statistics (e.g. to fine-tune a network whose statistics are trained). */
        default T bnFrozen(boolean frozen) {
            return bn(bn().withBnFrozen(frozen));
        }
    }
}
