package io.qat4j.inference;

/**
 * The accumulator bit width a conv / dense layer needs so that no partial sum overflows.
 *
 * <p>bits = a + w + ceil(log2(fan_in)) + (bias ? 1 : 0), where a (w) is the width of the centered input
 * (weight) operand q - zp: the code width for signed codes with zero point 0, one more otherwise; binary and
 * ternary weights count as w = 1 (the product is +-x or 0). A product of a- and w-bit signed values needs
 * a + w bits (because of (-2^(a-1)) * (-2^(w-1))), a sum of n of them ceil(log2 n) more; the bias term is
 * covered by one more bit when |bias| does not exceed the bound of the sum. See "Accumulation bit-width
 * scaling", Sakr et al., arXiv:1901.06588, and {@code docs/export-format.md}.
 */
public final class AccumulatorWidth {
  private AccumulatorWidth() {}

  /** Width of q - zp for a bits-bit code: bits if signed with zero point 0, else bits + 1. */
  public static int operandBits(int bits, boolean signed, int zeroPoint) {
    return signed && zeroPoint == 0 ? bits : bits + 1;
  }

  /** ceil(log2(n)) for n &gt;= 1. */
  public static int ceilLog2(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("fan-in " + n + " not allowed; allowed: >= 1");
    }
    return 32 - Integer.numberOfLeadingZeros(n - 1);
  }

  /** a + w + ceil(log2(fanIn)) + (hasBias ? 1 : 0). */
  public static int required(int inputOperandBits, int weightOperandBits, int fanIn, boolean hasBias) {
    return inputOperandBits + weightOperandBits + ceilLog2(fanIn) + (hasBias ? 1 : 0);
  }
}
