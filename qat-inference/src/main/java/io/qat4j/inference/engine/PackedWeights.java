package io.qat4j.inference.engine;

/**
 * Centered weight codes (w - zp_w[o], int arithmetic as the reference computes them) in the narrowest of int8,
 * int16 and int32 that holds them all: a byte per weight for int8 codes with zero point 0 (and binary / ternary
 * codes), two bytes for int8 codes with a zero point or int16 codes. The caller chooses the order.
 */
final class PackedWeights {
  private final byte[] bytes;
  private final short[] shorts;
  private final int[] ints;

  /** Packs the centered values {@code c} (in the caller's order). */
  PackedWeights(int[] c) {
    int lo = 0;
    int hi = 0;
    for (int v : c) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    if (lo >= Byte.MIN_VALUE && hi <= Byte.MAX_VALUE) {
      bytes = new byte[c.length];
      for (int k = 0; k < c.length; k++) {
        bytes[k] = (byte) c[k];
      }
      shorts = null;
      ints = null;
    } else if (lo >= Short.MIN_VALUE && hi <= Short.MAX_VALUE) {
      shorts = new short[c.length];
      for (int k = 0; k < c.length; k++) {
        shorts[k] = (short) c[k];
      }
      bytes = null;
      ints = null;
    } else {
      ints = c.clone();
      bytes = null;
      shorts = null;
    }
  }

  /** The centered weight at index k. */
  int get(int k) {
    return bytes != null ? bytes[k] : shorts != null ? shorts[k] : ints[k];
  }

  /** Storage width in bits: 8, 16 or 32. */
  int storageBits() {
    return bytes != null ? 8 : shorts != null ? 16 : 32;
  }
}
