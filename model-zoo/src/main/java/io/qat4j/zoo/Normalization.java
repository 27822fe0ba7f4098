package io.qat4j.zoo;

import io.qat4j.layers.nn.DeviationBatchNorm;
import io.qat4j.layers.nn.NormKind;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Layer;

import java.util.List;

/**
 * The batch normalization a zoo model puts after its convolutions and hidden dense layers (the
 * {@code batch_norm} model option).
 *
 * <ul>
 *   <li>{@code NONE} ({@code false}): no normalization.</li>
 *   <li>{@code STANDARD} ({@code true} or {@code standard}): DL4J's {@code BatchNormalization}.</li>
 *   <li>{@code RANGE} ({@code range}): RangeBN, σ estimated from the batch range (Banner et al.,
 *       arXiv:1805.11046), a {@link DeviationBatchNorm} of kind {@link NormKind#RANGE}.</li>
 *   <li>{@code L1} ({@code l1}): L1BN, σ estimated from the mean absolute deviation (Wu et al.,
 *       arXiv:1802.09769), a {@link DeviationBatchNorm} of kind {@link NormKind#L1}.</li>
 * </ul>
 * All three layers keep DL4J's defaults (decay 0.9, learned γ and β) and have no activation of their
 * own: the models put the activation in the layer after them.
 */
public enum Normalization {
    NONE, STANDARD, RANGE, L1;

    /** The names {@link #fromName} accepts. */
    public static final List<String> NAMES = List.of("false", "true", "standard", "range", "l1");

    /**
     * Parses a {@code batch_norm} value: {@code false}, {@code true}, {@code standard}, {@code range}
     * or {@code l1}; the error names the allowed values.
     */
    public static Normalization fromName(String name) {
        return switch (name) {
            case "false" -> NONE;
            case "true", "standard" -> STANDARD;
            case "range" -> RANGE;
            case "l1" -> L1;
            default -> throw new IllegalArgumentException("unknown batch_norm '" + name + "'; allowed: "
                    + String.join(", ", NAMES));
        };
    }

    /** Whether the models get normalization layers at all. */
    public boolean isPresent() {
        return this != NONE;
    }

    /** The normalization layer named {@code name}. */
    Layer layer(String name) {
        return switch (this) {
            case STANDARD -> new BatchNormalization.Builder().name(name).build();
            case RANGE -> new DeviationBatchNorm.Builder(NormKind.RANGE).name(name).build();
            case L1 -> new DeviationBatchNorm.Builder(NormKind.L1).name(name).build();
            case NONE -> throw new IllegalStateException("no normalization layer for " + this);
        };
    }
}
