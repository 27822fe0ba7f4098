package io.qat4j.layers.quant;

import java.util.SplittableRandom;

/**
 * The value set of a small binary floating-point format ExMy: sign, e exponent bits with a bias,
 * m mantissa bits, subnormals.
 *
 * <p>Forward formula: for |x| choose the binade E = max(floor(log2|x|), 1 - bias), the step
 * 2^(E-m), q = round(|x| / 2^(E-m)) (ties to even, or stochastic), value = sign(x) * q * 2^(E-m);
 * values above the largest finite number saturate to it or become infinity (NaN when the format
 * has no infinity). Two conventions for the top exponent: IEEE-like ({@code inf=true}, E5M2: top
 * exponent holds inf/NaN, max = (2 - 2^-m) * 2^(2^e - 2 - bias) = 57344) and OCP/NVIDIA E4M3-like
 * ({@code inf=false}: the top exponent holds normal numbers except all-ones mantissa = NaN,
 * max = (2 - 2^(1-m)) * 2^(2^e - 1 - bias) = 448). Paper: Micikevicius et al., "FP8 Formats for Deep
 * Learning", arXiv:2209.05433.
 *
 * <p>Example spec string: {@code fp8_e4m3} or {@code minifloat(e=4, m=3, inf=false)}.
 */
public final class MinifloatFormat {
  private final int e;
  private final int m;
  private final int bias;
  private final boolean inf;
  private final double max;
  private final int minExp;

  public MinifloatFormat(int e, int m, int bias, boolean inf) {
    this.e = e;
    this.m = m;
    this.bias = bias;
    this.inf = inf;
    this.max = maxFinite(e, m, bias, inf);
    this.minExp = 1 - bias;
  }

  /** The format of a {@code minifloat} spec. */
  public static MinifloatFormat of(QuantSpec spec) {
    if (spec.kind() != QuantKind.MINIFLOAT) {
      throw new IllegalArgumentException("not a minifloat spec: " + spec);
    }
    return new MinifloatFormat(spec.expBits(), spec.manBits(), spec.bias(), spec.inf());
  }

  /** Largest finite value of the format. */
  public static double maxFinite(int e, int m, int bias, boolean inf) {
    int topExp = (1 << e) - 1;
    if (inf) {
      return (2 - Math.scalb(1.0, -m)) * Math.scalb(1.0, topExp - 1 - bias);
    }
    return (2 - Math.scalb(1.0, 1 - m)) * Math.scalb(1.0, topExp - bias);
  }

  public double maxFinite() {
    return max;
  }

  /** Smallest positive normal value 2^(1-bias). */
  public double minNormal() {
    return Math.scalb(1.0, minExp);
  }

  /** Smallest positive subnormal value 2^(1-bias-m). */
  public double minSubnormal() {
    return Math.scalb(1.0, minExp - m);
  }

  /** True if the format has infinities. */
  public boolean hasInfinity() {
    return inf;
  }

  /**
   * Rounds a finite value to the format.
   *
   * @param saturate true: overflow gives +-max; false: +-infinity (or NaN without infinities)
   */
  public double quantize(double x, RoundingMode rounding, SplittableRandom rng, boolean saturate) {
    if (x == 0 || Double.isNaN(x)) {
      return x;
    }
    double a = Math.abs(x);
    int exp = Math.max(Math.getExponent(a), minExp);
    double step = Math.scalb(1.0, exp - m);
    double q = rounding.round(a / step, rng) * step;
    if (q > max) {
      q = saturate ? max : inf ? Double.POSITIVE_INFINITY : Double.NaN;
    }
    return x < 0 ? -q : q;
  }
}
