package io.qat4j.inference.format;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * Quantization of an activation tensor (the model input or a layer output): per-tensor affine codes.
 *
 * <p>real = (q - zero_point) * scale, q in [qmin, qmax] of a {@code bits}-bit signed or unsigned integer.
 * With {@code quantizer} "binary" (BNN activations) the codes are -1 and +1 ({@code bits} 1, signed, zero point 0;
 * one bit per value in hardware, 1 = +1, 0 = -1); otherwise the field is omitted.
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
    @JsonProperty("q_format") String qFormat,
    @JsonProperty("quantizer") String quantizer) {

  /** The {@code quantizer} value of binary (+-1) activations. */
  public static final String BINARY = "binary";

  /** Validates bit width, scale and zero point. */
  public ActivationSpec {
    if (quantizer != null && !quantizer.equals(BINARY)) {
      throw new IllegalArgumentException("activation quantizer '" + quantizer + "' not allowed; allowed: binary "
          + "(or no quantizer field for integer codes)");
    }
    if (BINARY.equals(quantizer)) {
      if (bits != 1 || !signed || zeroPoint != 0) {
        throw new IllegalArgumentException("binary activation needs bits 1, signed true, zero_point 0; got bits "
            + bits + ", signed " + signed + ", zero_point " + zeroPoint);
      }
    } else {
      Formats.checkBits(bits, signed, "activation");
    }
    if (!(scale > 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("activation scale " + scale + " not allowed; allowed: finite > 0");
    }
    if (quantizer == null && (zeroPoint < Formats.qmin(bits, signed) || zeroPoint > Formats.qmax(bits, signed))) {
      throw new IllegalArgumentException("activation zero_point " + zeroPoint + " outside ["
          + Formats.qmin(bits, signed) + ", " + Formats.qmax(bits, signed) + "]");
    }
    shape = shape == null ? null : List.copyOf(shape);
  }

  /** An activation spec whose {@code q_format} is derived from the scale (null unless a power of two). */
  public static ActivationSpec of(List<Integer> shape, int bits, boolean signed, double scale, int zeroPoint) {
    return new ActivationSpec(shape, bits, signed, scale, zeroPoint,
        zeroPoint == 0 ? Formats.qFormat(bits, signed, scale) : null, null);
  }

  /** Binary activations: codes -1 / +1, real = q * scale. */
  public static ActivationSpec binary(List<Integer> shape, double scale) {
    return new ActivationSpec(shape, 1, true, scale, 0, null, BINARY);
  }

  /** The same quantization with another shape. */
  public ActivationSpec withShape(List<Integer> newShape) {
    return new ActivationSpec(newShape, bits, signed, scale, zeroPoint, qFormat, quantizer);
  }

  /** Whether the codes are -1 / +1. */
  public boolean isBinary() {
    return BINARY.equals(quantizer);
  }

  /** Smallest code, -2^(bits-1) (signed) or 0 (unsigned); -1 for binary. */
  public int qmin() {
    return isBinary() ? -1 : Formats.qmin(bits, signed);
  }

  /** Largest code, 2^(bits-1)-1 (signed) or 2^bits-1 (unsigned); +1 for binary. */
  public int qmax() {
    return isBinary() ? 1 : Formats.qmax(bits, signed);
  }

  /** Number of elements of {@link #shape()}. */
  public int size() {
    return Formats.product(shape);
  }
}
