package io.qat4j.inference.format;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.List;

/**
 * One layer of an export, in execution order: op type, inputs, shapes, geometry, tensors and requantization.
 *
 * <p>Fields that an op does not use are null (omitted in JSON). Per op (see {@code docs/export-format.md}):
 * conv2d / depthwise_conv2d / dense and their binary_ / ternary_ variants compute
 * acc = bias[c] + sum (x - zp_x)(w - zp_w[c]), y = clamp(requant(acc, c) + zp_y, clamp); max_pool and
 * avg_pool work on codes of the input's quantization; global_avg_pool sums each channel's centered codes and
 * requantizes the sum (per tensor, or not at all); relu / clamp clamp codes; add requantizes both inputs
 * (TFLite style, with {@code left_shift}); flatten only reshapes; pad_channels adds {@code channel_padding}
 * channels of real zeros (the input's zero point) before and after the input's channels.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LayerSpec(
    @JsonProperty("name") String name,
    @JsonProperty("op") String op,
    @JsonProperty("inputs") List<String> inputs,
    @JsonProperty("input_shapes") List<List<Integer>> inputShapes,
    @JsonProperty("output") ActivationSpec output,
    @JsonProperty("kernel") List<Integer> kernel,
    @JsonProperty("stride") List<Integer> stride,
    @JsonProperty("padding") List<Integer> padding,
    @JsonProperty("dilation") List<Integer> dilation,
    @JsonProperty("depth_multiplier") Integer depthMultiplier,
    @JsonProperty("count_include_pad") Boolean countIncludePad,
    @JsonProperty("weights") TensorSpec weights,
    @JsonProperty("bias") TensorSpec bias,
    @JsonProperty("requant") Requant requant,
    @JsonProperty("input_requant") List<Requant> inputRequant,
    @JsonProperty("left_shift") Integer leftShift,
    @JsonProperty("clamp") List<Integer> clamp,
    @JsonProperty("accumulator_bits") Integer accumulatorBits,
    @JsonProperty("channel_padding") List<Integer> channelPadding) {

  /** Op types of format version 1. */
  public static final List<String> OPS = List.of("conv2d", "depthwise_conv2d", "dense", "binary_conv2d",
      "ternary_conv2d", "binary_dense", "ternary_dense", "max_pool", "avg_pool", "global_avg_pool", "relu", "clamp",
      "add", "flatten", "pad_channels");

  /** Validates name, op, inputs and the output activation. */
  public LayerSpec {
    if (name == null || !name.matches("[A-Za-z_][A-Za-z0-9_.\\-]*") || name.equals("input")) {
      throw new IllegalArgumentException("layer name '" + name
          + "' not allowed; allowed: [A-Za-z_][A-Za-z0-9_.-]*, not 'input'");
    }
    if (!OPS.contains(op)) {
      throw new IllegalArgumentException("op '" + op + "' of layer " + name + " not allowed; allowed: " + OPS);
    }
    int arity = op.equals("add") ? 2 : 1;
    if (inputs == null || inputs.size() != arity) {
      throw new IllegalArgumentException("layer " + name + " (" + op + ") needs " + arity + " input(s), got "
          + inputs);
    }
    if (output == null || output.shape() == null) {
      throw new IllegalArgumentException("layer " + name + " needs an output with a shape");
    }
    if (clamp != null && (clamp.size() != 2 || clamp.get(0) > clamp.get(1) || clamp.get(0) < output.qmin()
        || clamp.get(1) > output.qmax())) {
      throw new IllegalArgumentException("clamp " + clamp + " of layer " + name + " not allowed; allowed: [lo, hi] with "
          + output.qmin() + " <= lo <= hi <= " + output.qmax());
    }
    if (op.equals("pad_channels") != (channelPadding != null)) {
      throw new IllegalArgumentException("layer " + name + " (" + op + "): channel_padding " + (channelPadding == null
          ? "is required" : channelPadding + " not allowed") + "; allowed: [before, after] with pad_channels only");
    }
    if (channelPadding != null && (channelPadding.size() != 2 || channelPadding.stream()
        .anyMatch(v -> v == null || v < 0))) {
      throw new IllegalArgumentException("channel_padding " + channelPadding + " of layer " + name
          + " not allowed; allowed: [before, after], two integers >= 0");
    }
    if (op.equals("global_avg_pool") && requant != null && (Requant.SIGN.equals(requant.kind())
        || requant.channels() != 1)) {
      throw new IllegalArgumentException("requant of layer " + name + " (global_avg_pool) has kind " + requant.kind()
          + " and " + requant.channels() + " channel(s); allowed: one (per tensor) shift, multiplier or "
          + "single_round_multiplier, or no requant (identity)");
    }
    inputs = List.copyOf(inputs);
    channelPadding = channelPadding == null ? null : List.copyOf(channelPadding);
  }

  /** The clamp range [lo, hi], defaulting to the output's full code range. */
  public int clampMin() {
    return clamp == null ? output.qmin() : clamp.get(0);
  }

  /** Upper end of the clamp range, defaulting to the output's qmax. */
  public int clampMax() {
    return clamp == null ? output.qmax() : clamp.get(1);
  }

  /** A builder starting from name, op and inputs. */
  public static Builder builder(String name, String op, String... inputs) {
    return new Builder(name, op, List.of(inputs));
  }

  /** Step-by-step construction of a {@link LayerSpec}; unset fields stay null. */
  public static final class Builder {
    private final String name;
    private final String op;
    private final List<String> inputs;
    private List<List<Integer>> inputShapes;
    private ActivationSpec output;
    private List<Integer> kernel;
    private List<Integer> stride;
    private List<Integer> padding;
    private List<Integer> dilation;
    private Integer depthMultiplier;
    private Boolean countIncludePad;
    private TensorSpec weights;
    private TensorSpec bias;
    private Requant requant;
    private List<Requant> inputRequant;
    private Integer leftShift;
    private List<Integer> clamp;
    private Integer accumulatorBits;
    private List<Integer> channelPadding;

    private Builder(String name, String op, List<String> inputs) {
      this.name = name;
      this.op = op;
      this.inputs = inputs;
    }

    /** Input shapes, one per input (NCHW). */
    @SafeVarargs
    public final Builder inputShapes(List<Integer>... shapes) {
      this.inputShapes = new ArrayList<>(List.of(shapes));
      return this;
    }

    /** Output activation. */
    public Builder output(ActivationSpec output) {
      this.output = output;
      return this;
    }

    /** Kernel [kH, kW]. */
    public Builder kernel(int kh, int kw) {
      this.kernel = List.of(kh, kw);
      return this;
    }

    /** Stride [sH, sW]. */
    public Builder stride(int sh, int sw) {
      this.stride = List.of(sh, sw);
      return this;
    }

    /** Padding [top, left, bottom, right] (ONNX order). */
    public Builder padding(int top, int left, int bottom, int right) {
      this.padding = List.of(top, left, bottom, right);
      return this;
    }

    /** Dilation [dH, dW]. */
    public Builder dilation(int dh, int dw) {
      this.dilation = List.of(dh, dw);
      return this;
    }

    /** Depth multiplier of a depthwise convolution. */
    public Builder depthMultiplier(int m) {
      this.depthMultiplier = m;
      return this;
    }

    /** Whether avg_pool divides by the full window including padding. */
    public Builder countIncludePad(boolean b) {
      this.countIncludePad = b;
      return this;
    }

    /** Weight tensor. */
    public Builder weights(TensorSpec t) {
      this.weights = t;
      return this;
    }

    /** Bias tensor (int32). */
    public Builder bias(TensorSpec t) {
      this.bias = t;
      return this;
    }

    /** Output requantization. */
    public Builder requant(Requant r) {
      this.requant = r;
      return this;
    }

    /** Per-input requantization of an add, with its left shift. */
    public Builder inputRequant(Requant a, Requant b, int leftShift) {
      this.inputRequant = List.of(a, b);
      this.leftShift = leftShift;
      return this;
    }

    /** Clamp range of the output codes. */
    public Builder clamp(int lo, int hi) {
      this.clamp = List.of(lo, hi);
      return this;
    }

    /** Accumulator bit width needed. */
    public Builder accumulatorBits(int bits) {
      this.accumulatorBits = bits;
      return this;
    }

    /** Zero channels added before and after the input's channels (pad_channels). */
    public Builder channelPadding(int before, int after) {
      this.channelPadding = List.of(before, after);
      return this;
    }

    /** The validated spec. */
    public LayerSpec build() {
      return new LayerSpec(name, op, inputs, inputShapes, output, kernel, stride, padding, dilation,
          depthMultiplier, countIncludePad, weights, bias, requant, inputRequant, leftShift, clamp,
          accumulatorBits, channelPadding);
    }
  }
}
