package io.qat4j.inference.engine;

import io.qat4j.inference.format.LayerSpec;

/**
 * max_pool and avg_pool on codes of the input's quantization (the output keeps it), NCHW, N = 1.
 *
 * <p>max: y = max of the in-bounds codes of the window (padding ignored). avg: y = zp + round(sum (x - zp) / n)
 * with round half away from zero (TFLite's integer average pool, applied to centered codes), n = kH*kW if
 * count_include_pad (padding counts as zp, i.e. real 0) else the number of in-bounds elements. A window
 * wholly in the padding yields zp. The result is clamped to the layer's clamp range.
 */
final class PoolOp extends LayerOp {
  private final boolean max;
  private final boolean includePad;
  private final int zp;
  private final int channels;
  private final int inH;
  private final int inW;
  private final int outH;
  private final int outW;
  private final Geometry g;

  PoolOp(LayerSpec spec, int[] inShape, int inZeroPoint) {
    super(spec);
    this.max = spec.op().equals("max_pool");
    this.includePad = Boolean.TRUE.equals(spec.countIncludePad());
    this.zp = inZeroPoint;
    if (inShape.length != 4 || inShape[0] != 1) {
      throw bad(spec, "input shape " + java.util.Arrays.toString(inShape) + " not allowed; allowed: [1, C, H, W]");
    }
    if (spec.kernel() == null || spec.kernel().size() != 2 || spec.kernel().get(0) < 1 || spec.kernel().get(1) < 1) {
      throw bad(spec, "kernel " + spec.kernel() + " not allowed; allowed: [kH, kW] >= 1");
    }
    this.channels = inShape[1];
    this.inH = inShape[2];
    this.inW = inShape[3];
    this.g = Geometry.of(spec, spec.kernel().get(0), spec.kernel().get(1));
    g.check(spec, channels, inH, inW);
    this.outH = g.outH(inH);
    this.outW = g.outW(inW);
  }

  @Override
  int[] run(int[][] inputs) {
    int[] x = inputs[0];
    int[] y = new int[channels * outH * outW];
    for (int c = 0; c < channels; c++) {
      int base = c * inH * inW;
      for (int oy = 0; oy < outH; oy++) {
        for (int ox = 0; ox < outW; ox++) {
          int best = Integer.MIN_VALUE;
          long sum = 0;
          int n = 0;
          for (int ky = 0; ky < g.kh(); ky++) {
            int iy = oy * g.sh() - g.padTop() + ky * g.dh();
            for (int kx = 0; kx < g.kw(); kx++) {
              int ix = ox * g.sw() - g.padLeft() + kx * g.dw();
              if (iy < 0 || iy >= inH || ix < 0 || ix >= inW) {
                continue;
              }
              int v = x[base + iy * inW + ix];
              best = Math.max(best, v);
              sum += v - zp;
              n++;
            }
          }
          int out;
          if (n == 0) {
            out = zp;
          } else if (max) {
            out = best;
          } else {
            out = zp + FixedPoint.roundedDivide(sum, includePad ? g.kh() * g.kw() : n);
          }
          y[(c * outH + oy) * outW + ox] = clamp(out);
        }
      }
    }
    return y;
  }
}
