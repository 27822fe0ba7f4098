package io.qat4j.inference.engine;

import io.qat4j.inference.format.Requant;

/** A layer's {@link Requant} as int arrays: y = requant(x, c), per channel or per tensor. */
final class Requantization {
  private final boolean shiftOnly;
  private final boolean sign;
  private final boolean singleRound;
  private final boolean tiesToEven;
  private final int[] multiplier;
  private final int[] shift;

  Requantization(Requant r) {
    this.shiftOnly = Requant.SHIFT.equals(r.kind());
    this.sign = Requant.SIGN.equals(r.kind());
    this.singleRound = Requant.SINGLE_ROUND_MULTIPLIER.equals(r.kind());
    this.tiesToEven = r.tiesToEven();
    this.shift = sign ? new int[1] : LayerOp.ints(r.shift());
    this.multiplier = shiftOnly || sign ? null : LayerOp.ints(r.multiplier());
  }

  int channels() {
    return shift.length;
  }

  /** Whether outputs are signs (+1 / -1) rather than requantized values plus the zero point. */
  boolean isSign() {
    return sign;
  }

  int apply(int x, int channel) {
    if (sign) {
      return x >= 0 ? 1 : -1;
    }
    int c = shift.length == 1 ? 0 : channel;
    if (shiftOnly) {
      return tiesToEven ? FixedPoint.shiftRequantEven(x, shift[c]) : FixedPoint.shiftRequant(x, shift[c]);
    }
    if (singleRound) {
      return tiesToEven ? FixedPoint.singleRoundMultiplyEven(x, multiplier[c], shift[c])
          : FixedPoint.singleRoundMultiply(x, multiplier[c], shift[c]);
    }
    return FixedPoint.multiplyByQuantizedMultiplier(x, multiplier[c], shift[c]);
  }

  /**
   * {@link #apply} to every element of {@code v} in place, for one channel: the same {@link FixedPoint} call per
   * element, with the kind chosen once per row (fast engine).
   */
  void applyRow(int[] v, int channel) {
    if (sign) {
      for (int b = 0; b < v.length; b++) {
        v[b] = v[b] >= 0 ? 1 : -1;
      }
      return;
    }
    int c = shift.length == 1 ? 0 : channel;
    int s = shift[c];
    if (shiftOnly) {
      for (int b = 0; b < v.length; b++) {
        v[b] = tiesToEven ? FixedPoint.shiftRequantEven(v[b], s) : FixedPoint.shiftRequant(v[b], s);
      }
    } else if (singleRound) {
      int m = multiplier[c];
      if (tiesToEven) {
        for (int b = 0; b < v.length; b++) {
          v[b] = FixedPoint.singleRoundMultiplyEven(v[b], m, s);
        }
      } else {
        for (int b = 0; b < v.length; b++) {
          v[b] = FixedPoint.singleRoundMultiply(v[b], m, s);
        }
      }
    } else {
      int m = multiplier[c];
      for (int b = 0; b < v.length; b++) {
        v[b] = FixedPoint.multiplyByQuantizedMultiplier(v[b], m, s);
      }
    }
  }
}
