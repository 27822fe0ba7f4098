package io.qat4j.inference.engine;

import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.LayerSpec;

/**
 * One layer of {@link FastEngine} over a chunk of n samples side by side. An activation is {@code int[F][n]}:
 * row f holds feature f (the C-order index of the layer's shape [1, C, H, W] or [1, F]) of every sample, so
 * the inner loops run over the samples of a row, contiguous ints that the JIT vectorizes.
 *
 * <p>Ops never write into their input rows; an output row may be an input row (flatten, pad_channels).
 * Implementations use int / long only, with the formulas of the reference ops ({@link LayerOp}).
 */
abstract class FastOp {
  final LayerSpec spec;
  final int outZeroPoint;
  final int clampLo;
  final int clampHi;

  FastOp(LayerSpec spec) {
    this.spec = spec;
    this.outZeroPoint = spec.output().zeroPoint();
    this.clampLo = spec.clampMin();
    this.clampHi = spec.clampMax();
  }

  /** Output rows (one per output feature, each of length n) from the input rows, one array per input. */
  abstract int[][] run(int[][][] inputs, int n);

  /** Rows x - zp (new rows), or the rows themselves when zp = 0. Same int arithmetic as the reference. */
  static int[][] centered(int[][] x, int zp) {
    if (zp == 0) {
      return x;
    }
    int[][] c = new int[x.length][];
    for (int f = 0; f < x.length; f++) {
      int[] src = x[f];
      int[] dst = new int[src.length];
      for (int b = 0; b < dst.length; b++) {
        dst[b] = src[b] - zp;
      }
      c[f] = dst;
    }
    return c;
  }

  /** v = clamp(v + zp_y) in place (the requantized value plus the output zero point, int arithmetic). */
  final void addZeroPointAndClamp(int[] v) {
    int zp = outZeroPoint;
    int lo = clampLo;
    int hi = clampHi;
    for (int b = 0; b < v.length; b++) {
      v[b] = Math.min(Math.max(v[b] + zp, lo), hi);
    }
  }

  /** v = clamp(v) in place. */
  static void clampRow(int[] v, int lo, int hi) {
    for (int b = 0; b < v.length; b++) {
      v[b] = Math.min(Math.max(v[b], lo), hi);
    }
  }

  /**
   * Whether any two codes of the activation differ by less than 2^31 (every format but signed 32-bit), so that the
   * branch-free {@link #maxCodes} and {@link #clampCodes} hold.
   */
  static boolean narrowCodes(ActivationSpec a) {
    return (long) a.qmax() - a.qmin() <= Integer.MAX_VALUE;
  }

  /**
   * r = max(r, x) element-wise for codes of one activation. With {@code narrow} ({@link #narrowCodes}) as
   * r - (d &amp; (d &gt;&gt; 31)), d = r - x (exact since |d| &lt; 2^31; branch-free, so the JIT vectorizes it).
   */
  static void maxCodes(int[] r, int[] x, boolean narrow) {
    if (!narrow) {
      for (int b = 0; b < r.length; b++) {
        r[b] = Math.max(r[b], x[b]);
      }
      return;
    }
    for (int b = 0; b < r.length; b++) {
      int d = r[b] - x[b];
      r[b] -= d & (d >> 31);
    }
  }

  /**
   * v = min(max(v, lo), hi) for codes of one activation and lo, hi in its code range; with {@code narrow} as
   * v - (d &amp; (d &gt;&gt; 31)), d = v - lo, then hi + (e &amp; (e &gt;&gt; 31)), e = v - hi (branch-free).
   */
  static void clampCodes(int[] v, int lo, int hi, boolean narrow) {
    if (!narrow) {
      clampRow(v, lo, hi);
      return;
    }
    for (int b = 0; b < v.length; b++) {
      int d = v[b] - lo;
      int u = v[b] - (d & (d >> 31));
      int e = u - hi;
      v[b] = hi + (e & (e >> 31));
    }
  }
}
