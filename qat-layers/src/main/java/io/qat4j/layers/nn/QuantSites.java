package io.qat4j.layers.nn;

import io.qat4j.layers.quant.QuantSpec;

import org.nd4j.shade.jackson.annotation.JsonIgnore;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.io.Serializable;
import java.util.Objects;

/**
 * The four quantization sites every quantized layer has: its input, its weights, its bias and its
 * output. Each holds a {@link QuantSpec}; {@code float} means the site is not quantized.
 *
 * <p>Activation sites (input, output) whose spec names an observer keep the observed range in the
 * layer's parameters ({@code qin}, {@code qout}), so it is saved with the model. The layer supplies
 * the channel axis of per-channel specs: output channels for weights, axis 1 for activations.
 *
 * <p>Sites with a learned quantizer ({@code pact}, {@code lsq}, {@code qil}, {@code ttq}) add that
 * quantizer's trained parameters to the layer (see {@link QuantParamInitializer}). PACT applies to
 * activation sites only, TTQ to weights only, and no learned quantizer to the bias.
 *
 * <p>Example: {@code QuantSites.of("float", "int(bits=4, axis=channel, narrow=true)", "float", "uint4")}.
 */
public final class QuantSites implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The four sites of a quantized layer. */
    public enum Site {
        INPUT, WEIGHTS, BIAS, OUTPUT;

        /** True for the activation sites (input and output). */
        public boolean isActivation() {
            return this == INPUT || this == OUTPUT;
        }
    }

    @JsonProperty("input")
    private QuantSpec input = QuantSpec.FLOAT;
    @JsonProperty("weights")
    private QuantSpec weights = QuantSpec.FLOAT;
    @JsonProperty("bias")
    private QuantSpec bias = QuantSpec.FLOAT;
    @JsonProperty("output")
    private QuantSpec output = QuantSpec.FLOAT;

    /** For JSON deserialization; all sites float. */
    public QuantSites() {
    }

    public QuantSites(QuantSpec input, QuantSpec weights, QuantSpec bias, QuantSpec output) {
        this.input = Objects.requireNonNull(input, "input");
        this.weights = Objects.requireNonNull(weights, "weights");
        this.bias = Objects.requireNonNull(bias, "bias");
        this.output = Objects.requireNonNull(output, "output");
        checkLearned(Site.INPUT, input);
        checkLearned(Site.WEIGHTS, weights);
        checkLearned(Site.BIAS, bias);
        checkLearned(Site.OUTPUT, output);
    }

    /** Rejects a learned quantizer at a site it does not apply to. */
    private static void checkLearned(Site site, QuantSpec spec) {
        if (!spec.isLearned()) {
            return;
        }
        String where = site.name().toLowerCase(java.util.Locale.ROOT);
        if (site == Site.BIAS) {
            throw new IllegalArgumentException("learned quantizer '" + spec + "' at the bias site; learned quantizers "
                    + "(pact, lsq, qil, ttq) apply to the input, weights and output sites; quantize biases with int or fixed");
        }
        if (site == Site.WEIGHTS && spec.kind() == io.qat4j.layers.quant.QuantKind.PACT) {
            throw new IllegalArgumentException("pact clips activations to [0, alpha] and cannot quantize weights ('" + spec
                    + "' at the weights site); for weights use lsq, qil, ttq or sawb");
        }
        if (site.isActivation() && spec.kind() == io.qat4j.layers.quant.QuantKind.TTQ) {
            throw new IllegalArgumentException("ttq ternarizes weights and cannot quantize activations ('" + spec
                    + "' at the " + where + " site); for activations use pact, lsq or qil");
        }
    }

    /** All four sites float: the layer behaves exactly like its float DL4J twin. */
    public static QuantSites none() {
        return new QuantSites();
    }

    /** Parses four spec strings (input, weights, bias, output). */
    public static QuantSites of(String input, String weights, String bias, String output) {
        return new QuantSites(QuantSpec.parse(input), QuantSpec.parse(weights), QuantSpec.parse(bias),
                QuantSpec.parse(output));
    }

    public QuantSpec input() {
        return input;
    }

    public QuantSpec weights() {
        return weights;
    }

    public QuantSpec bias() {
        return bias;
    }

    public QuantSpec output() {
        return output;
    }

    /** The spec of one site. */
    public QuantSpec spec(Site site) {
        return switch (site) {
            case INPUT -> input;
            case WEIGHTS -> weights;
            case BIAS -> bias;
            case OUTPUT -> output;
        };
    }

    public QuantSites withInput(QuantSpec spec) {
        return new QuantSites(spec, weights, bias, output);
    }

    public QuantSites withWeights(QuantSpec spec) {
        return new QuantSites(input, spec, bias, output);
    }

    public QuantSites withBias(QuantSpec spec) {
        return new QuantSites(input, weights, spec, output);
    }

    public QuantSites withOutput(QuantSpec spec) {
        return new QuantSites(input, weights, bias, spec);
    }

    /** True when no site is quantized. */
    @JsonIgnore
    public boolean isFloat() {
        return input.isFloat() && weights.isFloat() && bias.isFloat() && output.isFloat();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantSites s && input.equals(s.input) && weights.equals(s.weights) && bias.equals(s.bias)
                && output.equals(s.output);
    }

    @Override
    public int hashCode() {
        return Objects.hash(input, weights, bias, output);
    }

    @Override
    public String toString() {
        return "QuantSites(input=" + input + ", weights=" + weights + ", bias=" + bias + ", output=" + output + ")";
    }
}
