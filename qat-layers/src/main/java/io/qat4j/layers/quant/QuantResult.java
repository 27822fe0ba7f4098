package io.qat4j.layers.quant;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What a forward pass produced: the fake-quantized output and what hardware would store.
 *
 * <p>{@code output = (codes - zeroPoint) * scale} for the integer formats (per group of
 * {@link #layout()}). The representable interval of each group, [lower, upper], is what
 * {@code ClippedSte} passes gradient through.
 *
 * <p>Example spec string: {@code int(bits=8, axis=channel)} gives {@code scale()} of shape [C].
 */
public final class QuantResult {
  private final INDArray output;
  private final INDArray codes;
  private final INDArray scale;
  private final INDArray zeroPoint;
  private final GroupLayout layout;
  private final double[] lower;
  private final double[] upper;

  /**
   * @param output fake-quantized values, same shape and data type as the input
   * @param codes integer codes in the input's float data type, or null (float, minifloat)
   * @param scale per-group scale of shape {@code layout.paramShape()}, or null
   * @param zeroPoint per-group zero point of the same shape, or null
   * @param layout partition of the elements into groups
   * @param lower per-group lowest representable value (may be -infinity)
   * @param upper per-group highest representable value (may be +infinity)
   */
  public QuantResult(INDArray output, INDArray codes, INDArray scale, INDArray zeroPoint, GroupLayout layout,
      double[] lower, double[] upper) {
    if (lower.length != layout.count() || upper.length != layout.count()) {
      throw new IllegalArgumentException("bounds must have one value per group (" + layout.count() + ")");
    }
    this.output = output;
    this.codes = codes;
    this.scale = scale;
    this.zeroPoint = zeroPoint;
    this.layout = layout;
    this.lower = lower.clone();
    this.upper = upper.clone();
  }

  /** Fake-quantized values (a new array, same shape and data type as the input). */
  public INDArray output() {
    return output;
  }

  /** Integer codes (same float data type as the input), or null for float and minifloat. */
  public INDArray codes() {
    return codes;
  }

  /** Per-group scale, or null. */
  public INDArray scale() {
    return scale;
  }

  /** Per-group zero point (integer-valued floats), or null. */
  public INDArray zeroPoint() {
    return zeroPoint;
  }

  /** Which group (scale) each element uses. */
  public GroupLayout layout() {
    return layout;
  }

  /** Lowest representable value of group g. */
  public double lowerBound(int g) {
    return lower[g];
  }

  /** Highest representable value of group g. */
  public double upperBound(int g) {
    return upper[g];
  }
}
