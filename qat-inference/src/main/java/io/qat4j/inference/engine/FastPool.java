package io.qat4j.inference.engine;

import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.LayerSpec;

/**
 * max_pool, avg_pool and global_avg_pool over a chunk of samples, with the formulas of {@link PoolOp} and
 * {@link GlobalAvgPoolOp}: max: y = clamp(max of the in-bounds codes); avg: y = clamp(zp + RoundedDiv(sum (x - zp), n))
 * with the sum in 64 bits; a window wholly in the padding yields clamp(zp). global_avg_pool:
 * acc = sum x - H W zp_x in int32 (equal to sum (x - zp_x) modulo 2^32, and the reference op's load-time check
 * guarantees that the exact sum fits int32, so both are the exact sum), then the reference op's finishing step.
 */
final class FastPool extends FastOp {
  private final boolean max;
  private final boolean global;
  private final boolean includePad;
  private final int zp;
  private final int channels;
  private final int inH;
  private final int inW;
  private final int outH;
  private final int outW;
  private final Geometry g;
  private final GlobalAvgPoolOp globalRef;
  private final boolean narrow;
  private final boolean clamps;

  /** A pool already validated by its reference op ({@code ref}: the {@link GlobalAvgPoolOp} for global_avg_pool). */
  FastPool(LayerSpec spec, ActivationSpec in, LayerOp ref) {
    super(spec);
    this.global = spec.op().equals("global_avg_pool");
    this.max = spec.op().equals("max_pool");
    this.includePad = Boolean.TRUE.equals(spec.countIncludePad());
    this.zp = in.zeroPoint();
    this.channels = in.shape().get(1);
    this.inH = in.shape().get(2);
    this.inW = in.shape().get(3);
    this.g = global ? new Geometry(inH, inW, 1, 1, 0, 0, 0, 0, 1, 1)
        : Geometry.of(spec, spec.kernel().get(0), spec.kernel().get(1));
    this.outH = g.outH(inH);
    this.outW = g.outW(inW);
    this.globalRef = global ? (GlobalAvgPoolOp) ref : null;
    this.narrow = narrowCodes(in);
    this.clamps = clampLo > in.qmin() || clampHi < in.qmax();
  }

  @Override
  int[][] run(int[][][] inputs, int n) {
    int[][] x = inputs[0];
    int[][] y = new int[channels * outH * outW][];
    int[] taps = new int[g.kh() * g.kw()];
    for (int c = 0; c < channels; c++) {
      int base = c * inH * inW;
      for (int oy = 0; oy < outH; oy++) {
        for (int ox = 0; ox < outW; ox++) {
          int nt = 0;
          for (int ky = 0; ky < g.kh(); ky++) {
            int iy = oy * g.sh() - g.padTop() + ky * g.dh();
            for (int kx = 0; kx < g.kw(); kx++) {
              int ix = ox * g.sw() - g.padLeft() + kx * g.dw();
              if (iy >= 0 && iy < inH && ix >= 0 && ix < inW) {
                taps[nt++] = base + iy * inW + ix;
              }
            }
          }
          int[] row;
          if (global) {
            row = globalSum(x, taps, nt, n);
          } else if (nt == 0) {
            row = new int[n];
            java.util.Arrays.fill(row, Math.min(Math.max(zp, clampLo), clampHi));
          } else if (max) {
            row = maxOf(x, taps, nt);
          } else {
            row = average(x, taps, nt, includePad ? g.kh() * g.kw() : nt, n);
          }
          y[(c * outH + oy) * outW + ox] = row;
        }
      }
    }
    return y;
  }

  private int[] maxOf(int[][] x, int[] taps, int nt) {
    int[] row = x[taps[0]].clone();
    for (int t = 1; t < nt; t++) {
      maxCodes(row, x[taps[t]], narrow);
    }
    if (clamps) {
      clampCodes(row, clampLo, clampHi, narrow);
    }
    return row;
  }

  private int[] average(int[][] x, int[] taps, int nt, int count, int n) {
    long[] sum = new long[n];
    for (int t = 0; t < nt; t++) {
      int[] v = x[taps[t]];
      for (int b = 0; b < n; b++) {
        sum[b] += v[b] - zp;
      }
    }
    int[] row = new int[n];
    for (int b = 0; b < n; b++) {
      int out = zp + FixedPoint.roundedDivide(sum[b], count);
      row[b] = Math.min(Math.max(out, clampLo), clampHi);
    }
    return row;
  }

  private int[] globalSum(int[][] x, int[] taps, int nt, int n) {
    int[] acc = new int[n];
    for (int t = 0; t < nt; t++) {
      int[] v = x[taps[t]];
      for (int b = 0; b < n; b++) {
        acc[b] += v[b];
      }
    }
    int offset = nt * zp;
    for (int b = 0; b < n; b++) {
      acc[b] = globalRef.finish(acc[b] - offset);
    }
    return acc;
  }
}
