package io.qat4j.training.config;

import io.qat4j.layers.quant.QuantSpec;

import java.util.Map;

/**
 * The {@code quantization.fixed_point:} section: network-wide settings of fixed-point training.
 *
 * @param masterWeights  format the weights are stored in between steps ({@code float}: float32 master weights,
 *                       mixed-precision style; a quantizer spec such as {@code fixed(m=0, n=7)}: pure fixed point)
 * @param weightClip     0, or clip weights to [-c, c] after every update (WAGE: 1 - 2^(1-k_W))
 * @param updates        precision of the weight update after the updater ({@code float}: none)
 * @param optimizerState format of momentum / Adam moments ({@code float}: float32)
 * @param lossScale      static loss scale, a power of two (1: none)
 * @param wageScale      WAGE's constant layer scale α and initialization, from each layer's weight bits
 * @param accumulation   format of the matrix-product accumulator of convolution, dense and output layers
 *                       ({@code float}: float32), emulated with chunk-based accumulation
 * @param accumulationChunk products per chunk
 * @param accumulationBackward whether the backward products of convolution and dense layers use it too
 */
public record FixedPointConfig(QuantSpec masterWeights, double weightClip, Precision updates, QuantSpec optimizerState,
                               double lossScale, boolean wageScale, QuantSpec accumulation, int accumulationChunk,
                               boolean accumulationBackward) {

    /** Nothing set. */
    public static final FixedPointConfig NONE = new FixedPointConfig(QuantSpec.FLOAT, 0, Precision.FLOAT, QuantSpec.FLOAT,
            1, false, QuantSpec.FLOAT, 64, false);

    /** True when every setting is at its default (nothing network-wide to do). */
    public boolean isNone() {
        return equals(NONE);
    }

    static FixedPointConfig from(Map<String, Object> m) {
        return new FixedPointConfig(QuantSpec.parse((String) m.get("master_weights")),
                ((Number) m.get("weight_clip")).doubleValue(), Precision.from(m.get("updates")),
                QuantSpec.parse((String) m.get("optimizer_state")), ((Number) m.get("loss_scale")).doubleValue(),
                (Boolean) m.get("wage_scale"), QuantSpec.parse((String) m.get("accumulation")),
                ((Number) m.get("accumulation_chunk")).intValue(), (Boolean) m.get("accumulation_backward"));
    }
}
