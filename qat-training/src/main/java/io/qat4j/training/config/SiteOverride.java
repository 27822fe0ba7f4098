package io.qat4j.training.config;

import java.util.Map;

/**
 * Precision overrides for one site ({@code quantization.first_layer} or {@code last_layer}); a null field means "not
 * overridden".
 */
public record SiteOverride(Precision weights, Precision activations, Precision gradients, Precision errors) {

    /** True if no precision is overridden. */
    public boolean isEmpty() {
        return weights == null && activations == null && gradients == null && errors == null;
    }

    /** True if every precision given here is float (an empty override is float). */
    public boolean isFloat() {
        return isFloatOrNull(weights) && isFloatOrNull(activations) && isFloatOrNull(gradients)
                && isFloatOrNull(errors);
    }

    static boolean isFloatOrNull(Precision p) {
        return p == null || p.isFloat();
    }

    static SiteOverride from(Map<String, Object> m) {
        return new SiteOverride(Precision.from(m.get("weights")), Precision.from(m.get("activations")),
                Precision.from(m.get("gradients")), Precision.from(m.get("errors")));
    }
}
