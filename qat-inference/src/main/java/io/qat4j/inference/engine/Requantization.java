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
   * v = clamp(requant(v, channel) + zp, lo, hi) for every element of the row, in place (sign: v = v &gt;= 0 ? 1 : -1,
   * no zero point or clamp): the reference's finishing step ({@link AccumulatingOp#finish}) with the kind chosen
   * once per row and the same {@link FixedPoint} call per element (fast engine).
   */
  void finishRow(int[] v, int channel, int zp, int lo, int hi) {
    if (sign) {
      for (int b = 0; b < v.length; b++) {
        v[b] = (v[b] >> 31) | 1; // +1 for v >= 0, -1 otherwise, without a branch
      }
      return;
    }
    int c = shift.length == 1 ? 0 : channel;
    int m = multiplier == null ? 0 : multiplier[c];
    int s = shift[c];
    if (singleRound && !tiesToEven) {
      for (int b = 0; b < v.length; b++) {
        v[b] = Math.min(Math.max(FixedPoint.singleRoundMultiply(v[b], m, s) + zp, lo), hi);
      }
    } else if (singleRound) {
      for (int b = 0; b < v.length; b++) {
        v[b] = Math.min(Math.max(FixedPoint.singleRoundMultiplyEvenNoBranch(v[b], m, s) + zp, lo), hi);
      }
    } else if (!shiftOnly) {
      for (int b = 0; b < v.length; b++) {
        v[b] = Math.min(Math.max(FixedPoint.multiplyByQuantizedMultiplier(v[b], m, s) + zp, lo), hi);
      }
    } else {
      for (int b = 0; b < v.length; b++) {
        v[b] = Math.min(Math.max(apply(v[b], c) + zp, lo), hi);
      }
    }
  }

  /** {@link #apply} to every element of the row, in place, for one channel (fast engine). */
  void applyRow(int[] v, int channel) {
    for (int b = 0; b < v.length; b++) {
      v[b] = apply(v[b], channel);
    }
  }
}
