package io.qat4j.inference.engine;

import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.IntTensor;
import io.qat4j.inference.format.LayerSpec;

/**
 * conv2d, depthwise_conv2d and dense (and their binary_ / ternary_ variants) over a chunk of samples, computing
 * the output codes of {@link ConvOp} / {@link DenseOp}:
 * acc[o, oy, ox] = bias[o] + sum_{in-bounds taps} (x[i, iy, ix] - zp_x)(w[o, i, ky, kx] - zp_w[o]),
 * y = clamp(requant(acc, o) + zp_y), or y = acc &gt;= 0 ? +1 : -1 for requant kind sign. Dense is the same loop
 * over an input of F channels of size 1x1 with a 1x1 kernel; binary / ternary weights are the codes -1, 0, +1.
 *
 * <p>Loops: per output position, the in-bounds taps are listed once (no im2col copy); for four output channels at
 * a time, each tap's input row (one feature of every sample) is multiplied by the four centered weights and added
 * to four accumulator rows: {@code a_j[b] += w_j * x[b]} over the samples b, the inner loop the JIT vectorizes
 * (int32 lanes; the first tap sets the rows to bias + product). The centered weights w - zp_w[o] are packed into
 * int8 or int16 where they fit ({@link PackedWeights}), the four of a tap side by side ({@link #blockOrder}).
 * Taps whose four weights are all zero (ternary) are skipped. Depthwise layers take one channel at a time.
 *
 * <p>Exactness (why int32 arithmetic in any order gives the reference's B-bit result). Let s be the exact sum
 * bias[o] + sum t_k of the terms t_k = xc_k * wc_k, with xc, wc the centered codes as the reference computes them
 * in int arithmetic.
 * <ul>
 *   <li>Wrap (any B &lt;= 32): the reference keeps value = fit(value + t) with fit = reduction modulo 2^B into
 *   [-2^(B-1), 2^(B-1)), starting from fit(bias). Reduction modulo 2^B commutes with addition, so its result is
 *   s mod 2^B whatever the order of the terms. Java int arithmetic computes s mod 2^32 in any order (products
 *   included), and keeping the low B bits with sign extension, {@code (v << (32 - B)) >> (32 - B)}, gives
 *   s mod 2^B. So wrap needs no condition and no fallback.</li>
 *   <li>Saturate: with the code range [qmin, qmax] of the input and the weights of channel o, every term lies in
 *   [min(wc * xlo, wc * xhi), max(wc * xlo, wc * xhi)], xlo = qmin - zp_x, xhi = qmax - zp_x. Every partial sum
 *   of the reference (the bias plus any subset of the terms, in its order, padded taps skipped) therefore lies
 *   in [lo, hi] = [bias + sum min(0, min term), bias + sum max(0, max term)]. When [lo, hi] is inside the B-bit
 *   range for every channel ({@link #int32IsExact}, computed in exact 64-bit arithmetic at load time), the
 *   saturating accumulator never clamps, the reference's result is s, and s fits int32, so int32 arithmetic in
 *   any order (wrapping mod 2^32 along the way) ends at s. Otherwise {@link FastEngine} runs the layer with the
 *   reference op ({@link ReferenceFallback}).</li>
 * </ul>
 * The requantization, zero point and clamp then apply the same {@link FixedPoint} functions to the same int value.
 */
final class FastAccumulate extends FastOp {
  private final boolean depthwise;
  private final int outChannels;
  private final int inC;
  private final int inH;
  private final int inW;
  private final int outH;
  private final int outW;
  private final int kernelChannels;
  private final int multiplier;
  private final Geometry g;
  private final int inZeroPoint;
  private final PackedWeights weights;
  private final int[] bias;
  private final Requantization requant;
  private final int wrapShift;

  /**
   * A layer already validated by the reference op's constructor ({@link ConvOp} / {@link DenseOp}).
   *
   * @param in the input activation (shape and zero point)
   */
  FastAccumulate(LayerSpec spec, ActivationSpec in, IntTensor w, IntTensor b, EngineConfig config) {
    super(spec);
    boolean dense = spec.op().endsWith("dense");
    this.depthwise = spec.op().endsWith("depthwise_conv2d");
    int[] ws = w.shape();
    this.outChannels = ws[0];
    this.inZeroPoint = in.zeroPoint();
    if (dense) {
      this.inC = in.size();
      this.inH = 1;
      this.inW = 1;
      this.kernelChannels = inC;
      this.g = new Geometry(1, 1, 1, 1, 0, 0, 0, 0, 1, 1);
    } else {
      this.inC = in.shape().get(1);
      this.inH = in.shape().get(2);
      this.inW = in.shape().get(3);
      this.kernelChannels = ws[1];
      this.g = Geometry.of(spec, ws[2], ws[3]);
    }
    this.multiplier = depthwise ? outChannels / inC : 1;
    this.outH = g.outH(inH);
    this.outW = g.outW(inW);
    this.weights = new PackedWeights(blockOrder(w.data(), weightZeroPoints(spec, outChannels), outChannels,
        depthwise ? 1 : 4));
    this.bias = b == null ? new int[outChannels] : b.data();
    this.requant = new Requantization(spec.requant());
    int bits = config.accumulatorBits();
    this.wrapShift = config.overflow() == OverflowMode.WRAP && bits < 32 ? 32 - bits : 0;
  }

  /**
   * The centered weights w - zp_w[o] in block order: for each block of {@code block} output channels (all but the
   * last O mod block channels), weight k of its channels side by side ([k][j]); then the remaining channels, each
   * in C order. Weight k of channel o = 4 q + j is at 4 (q K + k) + j for block 4, K weights per channel.
   */
  static int[] blockOrder(int[] codes, int[] zp, int channels, int block) {
    int per = codes.length / channels;
    int full = channels / block * block;
    int[] c = new int[codes.length];
    for (int o = 0; o < channels; o++) {
      for (int k = 0; k < per; k++) {
        int wc = codes[o * per + k] - zp[o];
        c[o < full ? (o / block * per + k) * block + o % block : o * per + k] = wc;
      }
    }
    return c;
  }

  /** zp_w[o] per output channel (the one entry of a per-tensor spec repeated). */
  static int[] weightZeroPoints(LayerSpec spec, int channels) {
    int[] zp = new int[channels];
    for (int o = 0; o < channels; o++) {
      zp[o] = spec.weights().zeroPoint().get(spec.weights().axis() == null ? 0 : o);
    }
    return zp;
  }

  /**
   * Whether int32 accumulation gives the reference's result (see the class comment): always with wrap; with
   * saturate when every channel's bound [lo, hi] (exact, 64-bit) fits the B-bit range and the centered codes
   * fit int.
   */
  static boolean int32IsExact(LayerSpec spec, ActivationSpec in, IntTensor w, IntTensor b, EngineConfig config) {
    if (config.overflow() == OverflowMode.WRAP) {
      return true;
    }
    long xlo = (long) in.qmin() - in.zeroPoint();
    long xhi = (long) in.qmax() - in.zeroPoint();
    long amax = (1L << (config.accumulatorBits() - 1)) - 1;
    long amin = -(1L << (config.accumulatorBits() - 1));
    int channels = w.shape()[0];
    int[] zp = weightZeroPoints(spec, channels);
    int per = w.data().length / channels;
    if (xlo < Integer.MIN_VALUE || xhi > Integer.MAX_VALUE) {
      return false;
    }
    try {
      for (int o = 0; o < channels; o++) {
        long lo = b == null ? 0 : b.data()[o];
        long hi = lo;
        for (int k = o * per; k < (o + 1) * per; k++) {
          long wc = (long) w.data()[k] - zp[o];
          if (wc < Integer.MIN_VALUE || wc > Integer.MAX_VALUE) {
            return false;
          }
          long p = Math.multiplyExact(wc, xlo);
          long q = Math.multiplyExact(wc, xhi);
          lo = Math.addExact(lo, Math.min(0, Math.min(p, q)));
          hi = Math.addExact(hi, Math.max(0, Math.max(p, q)));
        }
        if (lo < amin || hi > amax) {
          return false;
        }
      }
    } catch (ArithmeticException e) {
      return false;
    }
    return true;
  }

  @Override
  int[][] run(int[][][] inputs, int n) {
    int[][] x = centered(inputs[0], inZeroPoint);
    boolean[] zero = zeroRows(x);
    int[][] y = new int[outChannels * outH * outW][];
    int taps = kernelChannels * g.kh() * g.kw();
    int[] tapRow = new int[taps];
    int[] tapWeight = new int[taps];
    for (int oy = 0; oy < outH; oy++) {
      for (int ox = 0; ox < outW; ox++) {
        int nt = listTaps(oy, ox, tapRow, tapWeight, zero);
        int pos = oy * outW + ox;
        if (depthwise) {
          for (int o = 0; o < outChannels; o++) {
            int[] acc = start(o, n);
            int rowBase = (o / multiplier) * inH * inW;
            int wBase = o * taps;
            for (int t = 0; t < nt; t++) {
              int w0 = weights.get(wBase + tapWeight[t]);
              if (w0 != 0) {
                mac1(acc, x[rowBase + tapRow[t]], w0);
              }
            }
            y[o * outH * outW + pos] = finish(acc, o);
          }
          continue;
        }
        int o = 0;
        for (; o + 4 <= outChannels; o += 4) {
          int[] a0 = new int[n];
          int[] a1 = new int[n];
          int[] a2 = new int[n];
          int[] a3 = new int[n];
          block4(a0, a1, a2, a3, o, x, tapRow, tapWeight, nt, o * taps);
          y[o * outH * outW + pos] = finish(a0, o);
          y[(o + 1) * outH * outW + pos] = finish(a1, o + 1);
          y[(o + 2) * outH * outW + pos] = finish(a2, o + 2);
          y[(o + 3) * outH * outW + pos] = finish(a3, o + 3);
        }
        for (; o < outChannels; o++) {
          int[] acc = start(o, n);
          int k0 = o * taps;
          for (int t = 0; t < nt; t++) {
            int w0 = weights.get(k0 + tapWeight[t]);
            if (w0 != 0) {
              mac1(acc, x[tapRow[t]], w0);
            }
          }
          y[o * outH * outW + pos] = finish(acc, o);
        }
      }
    }
    return y;
  }

  /**
   * Sets four new rows to the biases of channels o..o+3 plus their nt listed taps (block-order weights from k0): the
   * first tap with nonzero weights initializes the rows, the others add.
   */
  private void block4(int[] a0, int[] a1, int[] a2, int[] a3, int o, int[][] x, int[] tapRow, int[] tapWeight,
      int nt, int k0) {
    boolean first = true;
    for (int t = 0; t < nt; t++) {
      int k = k0 + 4 * tapWeight[t];
      int w0 = weights.get(k);
      int w1 = weights.get(k + 1);
      int w2 = weights.get(k + 2);
      int w3 = weights.get(k + 3);
      if ((w0 | w1 | w2 | w3) == 0) {
        continue;
      }
      if (first) {
        set4(a0, a1, a2, a3, x[tapRow[t]], w0, w1, w2, w3, o);
        first = false;
      } else {
        mac4(a0, a1, a2, a3, x[tapRow[t]], w0, w1, w2, w3);
      }
    }
    if (first) {
      java.util.Arrays.fill(a0, bias[o]);
      java.util.Arrays.fill(a1, bias[o + 1]);
      java.util.Arrays.fill(a2, bias[o + 2]);
      java.util.Arrays.fill(a3, bias[o + 3]);
    }
  }

  /** Whether each row is all zero (a centered input equal to its zero point in every sample: its terms are 0). */
  private static boolean[] zeroRows(int[][] x) {
    boolean[] zero = new boolean[x.length];
    for (int f = 0; f < x.length; f++) {
      int[] row = x[f];
      int any = 0;
      for (int b = 0; b < row.length; b++) {
        any |= row[b];
      }
      zero[f] = any == 0;
    }
    return zero;
  }

  /**
   * The in-bounds taps of output (oy, ox) in C order of the weights whose input row is not all zero (for depthwise,
   * all in-bounds taps): input row (without the channel offset for depthwise) and weight offset within the output
   * channel. Returns their number.
   */
  private int listTaps(int oy, int ox, int[] tapRow, int[] tapWeight, boolean[] zero) {
    int nt = 0;
    int channels = depthwise ? 1 : kernelChannels;
    for (int i = 0; i < channels; i++) {
      for (int ky = 0; ky < g.kh(); ky++) {
        int iy = oy * g.sh() - g.padTop() + ky * g.dh();
        if (iy < 0 || iy >= inH) {
          continue;
        }
        for (int kx = 0; kx < g.kw(); kx++) {
          int ix = ox * g.sw() - g.padLeft() + kx * g.dw();
          if (ix < 0 || ix >= inW) {
            continue;
          }
          int row = (i * inH + iy) * inW + ix;
          if (depthwise || !zero[row]) {
            tapRow[nt] = row;
            tapWeight[nt] = (i * g.kh() + ky) * g.kw() + kx;
            nt++;
          }
        }
      }
    }
    return nt;
  }

  /** A new accumulator row holding bias[o]. */
  private int[] start(int o, int n) {
    int[] acc = new int[n];
    java.util.Arrays.fill(acc, bias[o]);
    return acc;
  }

  /** B-bit wrap (when narrower than 32), requantization, zero point and clamp, in place. */
  private int[] finish(int[] acc, int o) {
    if (wrapShift != 0) {
      int s = wrapShift;
      for (int b = 0; b < acc.length; b++) {
        acc[b] = (acc[b] << s) >> s;
      }
    }
    requant.finishRow(acc, o, outZeroPoint, clampLo, clampHi);
    return acc;
  }

  /** a[b] += w * x[b]. */
  static void mac1(int[] a, int[] x, int w) {
    for (int b = 0; b < a.length; b++) {
      a[b] += w * x[b];
    }
  }

  /** a_j[b] = bias[o + j] + w_j * x[b] for four accumulator rows sharing one input row. */
  private void set4(int[] a0, int[] a1, int[] a2, int[] a3, int[] x, int w0, int w1, int w2, int w3, int o) {
    int b0 = bias[o];
    int b1 = bias[o + 1];
    int b2 = bias[o + 2];
    int b3 = bias[o + 3];
    for (int b = 0; b < x.length; b++) {
      int v = x[b];
      a0[b] = b0 + w0 * v;
      a1[b] = b1 + w1 * v;
      a2[b] = b2 + w2 * v;
      a3[b] = b3 + w3 * v;
    }
  }

  /** a_j[b] += w_j * x[b] for four accumulator rows sharing one input row. */
  static void mac4(int[] a0, int[] a1, int[] a2, int[] a3, int[] x, int w0, int w1, int w2, int w3) {
    for (int b = 0; b < x.length; b++) {
      int v = x[b];
      a0[b] += w0 * v;
      a1[b] += w1 * v;
      a2[b] += w2 * v;
      a3[b] += w3 * v;
    }
  }
}
