package io.qat4j.training.config;

import java.util.Map;

/**
 * One entry of {@code quantization.layers}: precision overrides for the layer with a given name, or for every layer
 * of a given kind. Exactly one of {@code name} and {@code kind} is set; a null precision means "not overridden".
 *
 * @param name layer name, or null
 * @param kind one of {@link ConfigNames#LAYER_KINDS}, or null
 */
public record LayerOverride(String name, String kind, Precision weights, Precision activations, Precision gradients,
                            Precision errors) {

    /** The precisions of this entry as a site override. */
    public SiteOverride precisions() {
        return new SiteOverride(weights, activations, gradients, errors);
    }

    static LayerOverride from(Map<String, Object> m) {
        return new LayerOverride((String) m.get("name"), (String) m.get("kind"), Precision.from(m.get("weights")),
                Precision.from(m.get("activations")), Precision.from(m.get("gradients")),
                Precision.from(m.get("errors")));
    }
}
