package io.qat4j.inference.format;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Set;

/**
 * An integer parameter tensor (weights or bias) stored in its own file, with its quantization.
 *
 * <p>real = (q - zero_point[c]) * scale[c], c = index along {@code axis} (always 0 for weights, the output
 * channel) or a single entry when {@code axis} is null (per tensor). Binary weights are stored as -1/+1,
 * ternary as -1/0/+1; their per-channel scale is folded into the layer's requantization multiplier.
 * Bias is int32 at scale input_scale * weight_scale[c] (Jacob et al., arXiv:1712.05877, section 2.4).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TensorSpec(
    @JsonProperty("file") String file,
    @JsonProperty("shape") List<Integer> shape,
    @JsonProperty("dtype") String dtype,
    @JsonProperty("bits") int bits,
    @JsonProperty("signed") boolean signed,
    @JsonProperty("quantizer") String quantizer,
    @JsonProperty("axis") Integer axis,
    @JsonProperty("scale") List<Double> scale,
    @JsonProperty("zero_point") List<Integer> zeroPoint,
    @JsonProperty("q_format") String qFormat) {

  /** Quantizer kinds a tensor may declare (the QuantSpec names of qat-layers plus "bias"). */
  public static final Set<String> QUANTIZERS =
      Set.of("int", "fixed", "binary", "ternary", "pow2", "dorefa_w", "bias");

  /** Validates the fields. */
  public TensorSpec {
    if (file == null || file.isBlank() || file.contains("/") || file.contains("\\") || !file.endsWith(".npy")) {
      throw new IllegalArgumentException("tensor file '" + file + "' not allowed; allowed: a plain file name ending in .npy");
    }
    Formats.checkShape(shape, "tensor " + file);
    Npy.checkDtype(dtype);
    if ("binary".equals(quantizer)) {
      if (bits != 1 || !signed) {
        throw new IllegalArgumentException("binary tensor " + file + " must have bits=1, signed=true, got bits="
            + bits + ", signed=" + signed);
      }
    } else {
      Formats.checkBits(bits, signed, "tensor " + file);
    }
    if (!QUANTIZERS.contains(quantizer)) {
      throw new IllegalArgumentException("quantizer '" + quantizer + "' not allowed; allowed: " + Formats.sorted(QUANTIZERS));
    }
    if (axis != null && (axis < 0 || axis >= shape.size())) {
      throw new IllegalArgumentException("axis " + axis + " of tensor " + file + " not allowed; allowed: null or 0.."
          + (shape.size() - 1));
    }
    int channels = axis == null ? 1 : shape.get(axis);
    if (scale == null || scale.size() != channels) {
      throw new IllegalArgumentException("tensor " + file + " needs " + channels + " scale(s), got "
          + (scale == null ? "none" : scale.size()));
    }
    if (zeroPoint == null || zeroPoint.size() != channels) {
      throw new IllegalArgumentException("tensor " + file + " needs " + channels + " zero point(s), got "
          + (zeroPoint == null ? "none" : zeroPoint.size()));
    }
    shape = List.copyOf(shape);
    scale = List.copyOf(scale);
    zeroPoint = List.copyOf(zeroPoint);
  }

  /** Smallest code of the tensor's format (-1 for binary). */
  public int qmin() {
    return "binary".equals(quantizer) ? -1 : Formats.qmin(bits, signed);
  }

  /** Largest code of the tensor's format (+1 for binary). */
  public int qmax() {
    return "binary".equals(quantizer) ? 1 : Formats.qmax(bits, signed);
  }

  /** Number of elements. */
  public int size() {
    return Formats.product(shape);
  }
}
