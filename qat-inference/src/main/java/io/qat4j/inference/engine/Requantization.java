package io.qat4j.inference.engine;

import io.qat4j.inference.format.Requant;

/** A layer's {@link Requant} as int arrays: y = requant(x, c), per channel or per tensor. */
final class Requantization {
  private final boolean shiftOnly;
  private final int[] multiplier;
  private final int[] shift;

  Requantization(Requant r) {
    this.shiftOnly = Requant.SHIFT.equals(r.kind());
    this.shift = LayerOp.ints(r.shift());
    this.multiplier = shiftOnly ? null : LayerOp.ints(r.multiplier());
  }

  int channels() {
    return shift.length;
  }

  int apply(int x, int channel) {
    int c = shift.length == 1 ? 0 : channel;
    return shiftOnly ? FixedPoint.shiftRequant(x, shift[c])
        : FixedPoint.multiplyByQuantizedMultiplier(x, multiplier[c], shift[c]);
  }
}
