package io.qat4j.layers.nn;

import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.train.GradientSpec;

import org.nd4j.shade.jackson.annotation.JsonIgnore;
import org.nd4j.shade.jackson.annotation.JsonInclude;
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
 * <p>A fifth, backward-only site, {@code errors}, quantizes the error the layer hands to the previous
 * layer (fixed-point training, {@link io.qat4j.layers.train.ErrorSite}); it is {@code float} unless set
 * with {@link #withErrors(GradientSpec)}.
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
    @JsonIgnore
    private GradientSpec errors = GradientSpec.FLOAT;
    @JsonIgnore
    private QuantSpec accumulation = QuantSpec.FLOAT;
    @JsonIgnore
    private int chunk = DEFAULT_CHUNK;
    @JsonIgnore
    private boolean accumulateBackward;

    /** Default chunk of {@link #withAccumulation}: 64 products (Wang et al.). */
    public static final int DEFAULT_CHUNK = 64;

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

    /** The four forward sites and the error site. */
    public QuantSites(QuantSpec input, QuantSpec weights, QuantSpec bias, QuantSpec output, GradientSpec errors) {
        this(input, weights, bias, output);
        this.errors = Objects.requireNonNull(errors, "errors").requireAllowedFor("errors");
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

    /** JSON: the accumulator format, left out when float. */
    @JsonProperty("accumulation")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    private QuantSpec accumulationForJson() {
        return accumulation.isFloat() ? null : accumulation;
    }

    @JsonProperty("accumulation")
    private void accumulationFromJson(QuantSpec spec) {
        this.accumulation = spec == null ? QuantSpec.FLOAT : spec;
    }

    @JsonProperty("chunk")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    private Integer chunkForJson() {
        return accumulation.isFloat() ? null : chunk;
    }

    @JsonProperty("chunk")
    private void chunkFromJson(Integer c) {
        this.chunk = c == null ? DEFAULT_CHUNK : c;
    }

    /** JSON: written only when the backward products are emulated too. */
    @JsonProperty("accumulate_backward")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    private Boolean accumulateBackwardForJson() {
        return accumulateBackward && !accumulation.isFloat() ? Boolean.TRUE : null;
    }

    @JsonProperty("accumulate_backward")
    private void accumulateBackwardFromJson(Boolean b) {
        this.accumulateBackward = Boolean.TRUE.equals(b);
    }

    /** JSON: the error site, left out when float (so float-error layers serialize as before). */
    @JsonProperty("errors")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    private GradientSpec errorsForJson() {
        return errors.isFloat() ? null : errors;
    }

    @JsonProperty("errors")
    private void errorsFromJson(GradientSpec spec) {
        this.errors = spec == null ? GradientSpec.FLOAT : spec.requireAllowedFor("errors");
    }

    /** The error site: what the error handed to the previous layer is quantized to ({@code float}: untouched). */
    public GradientSpec errors() {
        return errors;
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
        return keepAccumulation(new QuantSites(spec, weights, bias, output, errors));
    }

    public QuantSites withWeights(QuantSpec spec) {
        return keepAccumulation(new QuantSites(input, spec, bias, output, errors));
    }

    public QuantSites withBias(QuantSpec spec) {
        return keepAccumulation(new QuantSites(input, weights, spec, output, errors));
    }

    public QuantSites withOutput(QuantSpec spec) {
        return keepAccumulation(new QuantSites(input, weights, bias, spec, errors));
    }

    private QuantSites keepAccumulation(QuantSites s) {
        s.accumulation = accumulation;
        s.chunk = chunk;
        s.accumulateBackward = accumulateBackward;
        return s;
    }

    public QuantSites withErrors(GradientSpec spec) {
        return keepAccumulation(new QuantSites(input, weights, bias, output, spec));
    }

    /**
     * The format of the layer's matrix-product accumulator, emulated with chunk-based accumulation in the forward
     * pass of convolution (im2col product), dense and output layers
     * ({@link io.qat4j.layers.train.ChunkedAccumulation}); {@code float}: float32.
     */
    public QuantSpec accumulation() {
        return accumulation;
    }

    /** Products per chunk of the emulated accumulation. */
    public int accumulationChunk() {
        return chunk;
    }

    /**
     * Whether the backward products (weight gradient, bias gradient and the error handed back) of convolution and
     * dense layers are accumulated in {@link #accumulation()} too; otherwise only the forward product is.
     */
    public boolean accumulateBackward() {
        return accumulateBackward && !accumulation.isFloat();
    }

    /** Same sites with an accumulator format and chunk (e.g. {@code fp16}, 64) for the forward products. */
    public QuantSites withAccumulation(QuantSpec spec, int chunkSize) {
        return withAccumulation(spec, chunkSize, false);
    }

    /** Same sites with an accumulator format and chunk, for the forward and, with {@code backward}, backward products. */
    public QuantSites withAccumulation(QuantSpec spec, int chunkSize, boolean backward) {
        io.qat4j.layers.train.ChunkedAccumulation.check(spec, chunkSize);
        QuantSites s = new QuantSites(input, weights, bias, output, errors);
        s.accumulation = spec;
        s.chunk = chunkSize;
        s.accumulateBackward = backward;
        return s;
    }

    /** True when no site is quantized. */
    @JsonIgnore
    public boolean isFloat() {
        return input.isFloat() && weights.isFloat() && bias.isFloat() && output.isFloat() && errors.isFloat()
                && accumulation.isFloat();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantSites s && input.equals(s.input) && weights.equals(s.weights) && bias.equals(s.bias)
                && output.equals(s.output) && errors.equals(s.errors) && accumulation.equals(s.accumulation)
                && (accumulation.isFloat() || (chunk == s.chunk && accumulateBackward == s.accumulateBackward));
    }

    @Override
    public int hashCode() {
        return errors.isFloat() && accumulation.isFloat() ? Objects.hash(input, weights, bias, output)
                : Objects.hash(input, weights, bias, output, errors, accumulation, accumulateBackward());
    }

    @Override
    public String toString() {
        return "QuantSites(input=" + input + ", weights=" + weights + ", bias=" + bias + ", output=" + output
                + (errors.isFloat() ? "" : ", errors=" + errors)
                + (accumulation.isFloat() ? "" : ", accumulation=" + accumulation + "/" + chunk
                + (accumulateBackward ? " forward and backward" : "")) + ")";
    }
}
