package io.qat4j.layers.quant;

/**
 * Scale and zero point from a range, exactly as PyTorch's observers compute them
 * ({@code torch/ao/quantization/observer.py}, {@code _calculate_qparams}), in float32.
 *
 * <p>Affine: min_neg = min(min, 0), max_pos = max(max, 0), scale = (max_pos - min_neg) / (qmax - qmin),
 * scale = max(scale, eps) with eps = float32 machine epsilon 2^-23, zero_point = qmin -
 * round_half_even(min_neg / scale) clamped to [qmin, qmax]. Symmetric: max_abs = max(-min_neg, max_pos),
 * scale = max(max_abs / ((qmax - qmin) / 2), eps), zero_point = 0 for signed; for unsigned the
 * midpoint, 128 for the full uint8 range [0, 255] and floor((qmin + qmax) / 2) for any other range,
 * as PyTorch does for quint8 with default and customized ranges.
 *
 * <p>This is the one place in the library where a range becomes quantization parameters.
 *
 * <p>Example spec string: {@code int(bits=8, signed=false, observer=ema(0.01))}.
 *
 * @param scale float32 scale
 * @param zeroPoint integer zero point
 */
public record QParams(float scale, int zeroPoint) {

  /** float32 machine epsilon, {@code torch.finfo(torch.float32).eps}. */
  public static final float EPS = Math.ulp(1.0f);

  /**
   * PyTorch's qparams formula.
   *
   * @throws IllegalArgumentException if min &gt; max, a bound is not finite, or qmin &gt;= qmax
   */
  public static QParams fromRange(float min, float max, int qmin, int qmax, boolean symmetric, boolean signed) {
    if (!Float.isFinite(min) || !Float.isFinite(max)) {
      throw new IllegalArgumentException("range must be finite, got [" + min + ", " + max + "]");
    }
    if (min > max) {
      throw new IllegalArgumentException("range min " + min + " > max " + max);
    }
    if (qmin >= qmax) {
      throw new IllegalArgumentException("qmin " + qmin + " must be < qmax " + qmax);
    }
    float minNeg = Math.min(min, 0f);
    float maxPos = Math.max(max, 0f);
    if (symmetric) {
      maxPos = Math.max(-minNeg, maxPos);
      float scale = maxPos / (float) ((qmax - qmin) / 2.0);
      scale = Math.max(scale, EPS);
      int zp = 0;
      if (!signed) {
        zp = (qmin == 0 && qmax == 255) ? 128 : Math.floorDiv(qmin + qmax, 2);
      }
      return new QParams(scale, zp);
    }
    float scale = (maxPos - minNeg) / (float) (qmax - qmin);
    scale = Math.max(scale, EPS);
    int zp = qmin - (int) Math.rint(minNeg / scale);
    zp = Math.max(qmin, Math.min(qmax, zp));
    return new QParams(scale, zp);
  }
}
