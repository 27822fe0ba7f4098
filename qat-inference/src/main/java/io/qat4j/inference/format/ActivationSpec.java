package io.qat4j.inference.format;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * Quantization of an activation tensor (the model input or a layer output): per-tensor affine codes.
 *
 * <p>real = (q - zero_point) * scale, q in [qmin, qmax] of a {@code bits}-bit signed or unsigned integer.
 * {@code shape} is NCHW (or [N, F] after flatten / dense) with N = 1. See {@code docs/export-format.md}
 * ("Activation quantization"); Jacob et al., arXiv:1712.05877, eq. (1).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ActivationSpec(
    @JsonProperty("shape") List<Integer> shape,
    @JsonProperty("bits") int bits,
    @JsonProperty("signed") boolean signed,
    @JsonProperty("scale") double scale,
    @JsonProperty("zero_point") int zeroPoint,
    @JsonProperty("q_format") String qFormat) {

  /** Validates bit width, scale and zero point. */
  public ActivationSpec {
    Formats.checkBits(bits, signed, "activation");
    if (!(scale > 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("activation scale " + scale + " not allowed; allowed: finite > 0");
    }
    if (zeroPoint < Formats.qmin(bits, signed) || zeroPoint > Formats.qmax(bits, signed)) {
      throw new IllegalArgumentException("activation zero_point " + zeroPoint + " outside ["
          + Formats.qmin(bits, signed) + ", " + Formats.qmax(bits, signed) + "]");
    }
    shape = shape == null ? null : List.copyOf(shape);
  }

  /** An activation spec whose {@code q_format} is derived from the scale (null unless a power of two). */
  public static ActivationSpec of(List<Integer> shape, int bits, boolean signed, double scale, int zeroPoint) {
    return new ActivationSpec(shape, bits, signed, scale, zeroPoint,
        zeroPoint == 0 ? Formats.qFormat(bits, signed, scale) : null);
  }

  /** Smallest code, -2^(bits-1) (signed) or 0 (unsigned). */
  public int qmin() {
    return Formats.qmin(bits, signed);
  }

  /** Largest code, 2^(bits-1)-1 (signed) or 2^bits-1 (unsigned). */
  public int qmax() {
    return Formats.qmax(bits, signed);
  }

  /** Number of elements of {@link #shape()}. */
  public int size() {
    return Formats.product(shape);
  }
}
