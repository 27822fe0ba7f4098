package io.qat4j.layers.nn;

import io.qat4j.layers.quant.QuantSpec;

/**
 * The quantization setters every quantized layer builder offers, written once.
 *
 * @param <T> the builder type
 */
public interface QuantSitesBuilder<T> {

    /** The sites set so far. */
    QuantSites currentSites();

    /** Sets all four sites. */
    T quant(QuantSites sites);

    /** Spec of the input site, e.g. {@code uint8}. */
    default T inputQuant(String spec) {
        return quant(currentSites().withInput(QuantSpec.parse(spec)));
    }

    /** Spec of the weight site, e.g. {@code int(bits=4, axis=channel)}. */
    default T weightQuant(String spec) {
        return quant(currentSites().withWeights(QuantSpec.parse(spec)));
    }

    /** Spec of the bias site, e.g. {@code int(bits=16)}. */
    default T biasQuant(String spec) {
        return quant(currentSites().withBias(QuantSpec.parse(spec)));
    }

    /** Spec of the output site, e.g. {@code int(bits=4, signed=false, observer=ema)}. */
    default T outputQuant(String spec) {
        return quant(currentSites().withOutput(QuantSpec.parse(spec)));
    }
}
