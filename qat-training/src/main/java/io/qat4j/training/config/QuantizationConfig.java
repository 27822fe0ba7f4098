package io.qat4j.training.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code quantization:} section.
 *
 * @param weights     default precision of weights
 * @param activations default precision of activations
 * @param gradients   default precision of weight gradients
 * @param errors      default precision of back-propagated errors
 * @param firstLayer  overrides for the first trainable layer (fields may be null)
 * @param lastLayer   overrides for the last trainable layer (fields may be null)
 * @param layers      per-layer overrides by name or kind, in the order written
 * @param fixedPoint  network-wide settings of fixed-point training
 */
public record QuantizationConfig(Precision weights, Precision activations, Precision gradients, Precision errors,
                                 SiteOverride firstLayer, SiteOverride lastLayer, List<LayerOverride> layers,
                                 FixedPointConfig fixedPoint) {

    /** Without fixed-point training settings. */
    public QuantizationConfig(Precision weights, Precision activations, Precision gradients, Precision errors,
                              SiteOverride firstLayer, SiteOverride lastLayer, List<LayerOverride> layers) {
        this(weights, activations, gradients, errors, firstLayer, lastLayer, layers, FixedPointConfig.NONE);
    }

    /** True if nothing anywhere is quantized (every precision given is float, no fixed-point setting). */
    public boolean isFloatEverywhere() {
        return weights.isFloat() && activations.isFloat() && gradients.isFloat() && errors.isFloat()
                && firstLayer.isFloat() && lastLayer.isFloat()
                && layers.stream().allMatch(l -> l.precisions().isFloat()) && fixedPoint.isNone();
    }

    @SuppressWarnings("unchecked")
    static QuantizationConfig from(Map<String, Object> m) {
        List<LayerOverride> layers = new ArrayList<>();
        for (Object o : (List<Object>) m.get("layers")) {
            layers.add(LayerOverride.from((Map<String, Object>) o));
        }
        return new QuantizationConfig(Precision.from(m.get("weights")), Precision.from(m.get("activations")),
                Precision.from(m.get("gradients")), Precision.from(m.get("errors")),
                SiteOverride.from((Map<String, Object>) m.get("first_layer")),
                SiteOverride.from((Map<String, Object>) m.get("last_layer")), List.copyOf(layers),
                FixedPointConfig.from((Map<String, Object>) m.get("fixed_point")));
    }
}
