package io.qat4j.inference.engine;

/**
 * Integer fixed-point primitives of the requantization, bit-exact with gemmlowp / TFLite.
 *
 * <p>SaturatingRoundingDoublingHighMul(a, b) = trunc((a*b + nudge) / 2^31), nudge = 2^30 if a*b &gt;= 0
 * else 1 - 2^30, and INT32_MAX for a = b = INT32_MIN (gemmlowp {@code fixedpoint.h}).
 * RoundingDivideByPOT(x, e) = (x &gt;&gt; e) + (r &gt; t ? 1 : 0), r = x &amp; (2^e - 1),
 * t = (2^e - 1) &gt;&gt; 1 plus 1 if x &lt; 0 (round half away from zero). The multiplier form
 * y = RoundingDivideByPOT(SRDHM(x * 2^max(31-s, 0), M0), max(s-31, 0)) approximates x * M0 * 2^-s
 * (TFLite {@code MultiplyByQuantizedMultiplier} with exponent 31 - s; the left shift saturates here).
 * Reference: Jacob et al., arXiv:1712.05877, section 2.2.
 */
public final class FixedPoint {
  private FixedPoint() {}

  /** gemmlowp SaturatingRoundingDoublingHighMul: the high 32 bits of 2*a*b, rounded. */
  public static int saturatingRoundingDoublingHighMul(int a, int b) {
    if (a == Integer.MIN_VALUE && b == Integer.MIN_VALUE) {
      return Integer.MAX_VALUE;
    }
    long ab = (long) a * (long) b;
    long nudge = ab >= 0 ? 1L << 30 : 1L - (1L << 30);
    return (int) ((ab + nudge) / (1L << 31));
  }

  /** gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero, exponent in 0..31. */
  public static int roundingDivideByPot(int x, int exponent) {
    if (exponent < 0 || exponent > 31) {
      throw new IllegalArgumentException("exponent " + exponent + " not allowed; allowed: 0..31");
    }
    long mask = (1L << exponent) - 1;
    long remainder = x & mask;
    long threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
  }

  /**
   * x / 2^exponent rounded half to even, exponent in 0..62: floor, plus one when the remainder is above half, or
   * exactly half and the floor is odd.
   */
  public static long roundingDivideByPotEven(long x, int exponent) {
    if (exponent < 0 || exponent > 62) {
      throw new IllegalArgumentException("exponent " + exponent + " not allowed; allowed: 0..62");
    }
    if (exponent == 0) {
      return x;
    }
    long q = x >> exponent;
    long remainder = x & ((1L << exponent) - 1);
    long half = 1L << (exponent - 1);
    return q + (remainder > half || (remainder == half && (q & 1) != 0) ? 1 : 0);
  }

  /** x * 2^shift saturated to int32, shift in 0..31. */
  public static int saturatingLeftShift(int x, int shift) {
    if (shift < 0 || shift > 31) {
      throw new IllegalArgumentException("left shift " + shift + " not allowed; allowed: 0..31");
    }
    return saturate((long) x << shift);
  }

  /** Clamps a long to int32. */
  public static int saturate(long v) {
    return v > Integer.MAX_VALUE ? Integer.MAX_VALUE : v < Integer.MIN_VALUE ? Integer.MIN_VALUE : (int) v;
  }

  /** Requantization with multiplier M0 and total right shift s (0..62): approximately x * M0 * 2^-s. */
  public static int multiplyByQuantizedMultiplier(int x, int m0, int shift) {
    if (shift < 0 || shift > 62) {
      throw new IllegalArgumentException("shift " + shift + " not allowed; allowed: 0..62");
    }
    int left = shift < 31 ? 31 - shift : 0;
    int right = shift > 31 ? shift - 31 : 0;
    return roundingDivideByPot(saturatingRoundingDoublingHighMul(saturatingLeftShift(x, left), m0), right);
  }

  /**
   * Single-rounding requantization: saturate((x * M0 + 2^(s-1)) &gt;&gt; s) on the exact 64-bit product, s in 0..62
   * (round half up).
   */
  public static int singleRoundMultiply(int x, int m0, int shift) {
    if (shift < 0 || shift > 62) {
      throw new IllegalArgumentException("shift " + shift + " not allowed; allowed: 0..62");
    }
    long p = (long) x * (long) m0;
    return saturate(shift == 0 ? p : (p + (1L << (shift - 1))) >> shift);
  }

  /** Single-rounding requantization with ties to even: saturate(round_half_even(x * M0 / 2^s)), s in 0..62. */
  public static int singleRoundMultiplyEven(int x, int m0, int shift) {
    if (shift < 0 || shift > 62) {
      throw new IllegalArgumentException("shift " + shift + " not allowed; allowed: 0..62");
    }
    return saturate(roundingDivideByPotEven((long) x * (long) m0, shift));
  }

  /**
   * {@link #singleRoundMultiplyEven} without data-dependent branches (fast engine): for s &gt;= 1,
   * round_half_even(p / 2^s) = (p + 2^(s-1) - 1 + ((p &gt;&gt; s) &amp; 1)) &gt;&gt; s with p = x * M0. Proof: write
   * p = q 2^s + r, 0 &lt;= r &lt; 2^s; the sum is q 2^s + (r + 2^(s-1) - 1 + (q &amp; 1)) with the bracket in
   * [0, 2^(s+1)), so the shift gives q plus 1 exactly when r &gt;= 2^(s-1) + 1 - (q &amp; 1), that is r above half,
   * or r equal to half and q odd. |p| &lt; 2^62, so the sum does not overflow.
   */
  public static int singleRoundMultiplyEvenNoBranch(int x, int m0, int shift) {
    if (shift < 1 || shift > 62) {
      return singleRoundMultiplyEven(x, m0, shift);
    }
    long p = (long) x * (long) m0;
    return saturate((p + (1L << (shift - 1)) - 1 + ((p >> shift) & 1)) >> shift);
  }

  /** Pure-shift requantization: RoundingDivideByPOT(x, s) for s &gt;= 0, saturating x * 2^-s for s &lt; 0. */
  public static int shiftRequant(int x, int shift) {
    return shift >= 0 ? roundingDivideByPot(x, shift) : saturatingLeftShift(x, -shift);
  }

  /** Pure-shift requantization with ties to even for s &gt;= 0; saturating x * 2^-s for s &lt; 0. */
  public static int shiftRequantEven(int x, int shift) {
    if (shift > 31) {
      throw new IllegalArgumentException("shift " + shift + " not allowed; allowed: -31..31");
    }
    return shift >= 0 ? (int) roundingDivideByPotEven(x, shift) : saturatingLeftShift(x, -shift);
  }

  /** sum / count rounded half away from zero (TFLite integer average pool), count &gt;= 1. */
  public static int roundedDivide(long sum, int count) {
    long half = count / 2;
    return saturate(sum >= 0 ? (sum + half) / count : (sum - half) / count);
  }
}
