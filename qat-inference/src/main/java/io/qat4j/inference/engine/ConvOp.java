package io.qat4j.inference.engine;

import io.qat4j.inference.format.IntTensor;
import io.qat4j.inference.format.LayerSpec;

/**
 * conv2d and depthwise_conv2d (and their binary_ / ternary_ variants) on NCHW codes, N = 1.
 *
 * <p>y[o, oy, ox] = clamp(requant(bias[o] + sum_{i, ky, kx} (x[i, iy, ix] - zp_x) (w[o, i', ky, kx] - zp_w[o]), o)
 * + zp_y), iy = oy*sH - padTop + ky*dH, ix = ox*sW - padLeft + kx*dW; padded positions hold zp_x (contribute 0).
 * conv2d: weights [O, C, kH, kW], i = i' over all C. depthwise: weights [C*M, 1, kH, kW], i = o / M (M = depth
 * multiplier). Terms are added in C order of the weight tensor (i, ky, kx).
 */
final class ConvOp extends AccumulatingOp {
  private final boolean depthwise;
  private final int inC;
  private final int inH;
  private final int inW;
  private final int outH;
  private final int outW;
  private final int kernelChannels;
  private final int multiplier;
  private final Geometry g;

  ConvOp(LayerSpec spec, int[] inShape, int inZeroPoint, IntTensor w, IntTensor b, EngineConfig config) {
    super(spec, inZeroPoint, w, b, config);
    this.depthwise = spec.op().endsWith("depthwise_conv2d");
    if (inShape.length != 4 || inShape[0] != 1) {
      throw bad(spec, "input shape " + java.util.Arrays.toString(inShape) + " not allowed; allowed: [1, C, H, W]");
    }
    int[] ws = w.shape();
    if (ws.length != 4) {
      throw bad(spec, "weight shape " + java.util.Arrays.toString(ws) + " not allowed; allowed: [O, C, kH, kW]");
    }
    this.inC = inShape[1];
    this.inH = inShape[2];
    this.inW = inShape[3];
    this.kernelChannels = ws[1];
    if (spec.kernel() != null && (spec.kernel().get(0) != ws[2] || spec.kernel().get(1) != ws[3])) {
      throw bad(spec, "kernel " + spec.kernel() + " differs from the weight shape " + java.util.Arrays.toString(ws));
    }
    if (depthwise) {
      this.multiplier = spec.depthMultiplier() == null ? 1 : spec.depthMultiplier();
      if (kernelChannels != 1 || outChannels != inC * multiplier) {
        throw bad(spec, "depthwise weight shape " + java.util.Arrays.toString(ws) + " not allowed; allowed: ["
            + inC * multiplier + ", 1, kH, kW] (C = " + inC + ", depth multiplier " + multiplier + ")");
      }
    } else {
      this.multiplier = 1;
      if (kernelChannels != inC) {
        throw bad(spec, "weight input channels " + kernelChannels + " not allowed; allowed: " + inC);
      }
    }
    this.g = Geometry.of(spec, ws[2], ws[3]);
    g.check(spec, outChannels, inH, inW);
    this.outH = g.outH(inH);
    this.outW = g.outW(inW);
  }

  @Override
  int[] run(int[][] inputs) {
    int[] x = inputs[0];
    int[] y = new int[outChannels * outH * outW];
    int kArea = g.kh() * g.kw();
    for (int o = 0; o < outChannels; o++) {
      int wBase = o * kernelChannels * kArea;
      for (int oy = 0; oy < outH; oy++) {
        for (int ox = 0; ox < outW; ox++) {
          acc.start(bias[o]);
          for (int k = 0; k < kernelChannels; k++) {
            int i = depthwise ? o / multiplier : k;
            int xBase = i * inH * inW;
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
                accumulate(x[xBase + iy * inW + ix] - inZeroPoint, weights[wBase + (k * g.kh() + ky) * g.kw() + kx], o);
              }
            }
          }
          y[(o * outH + oy) * outW + ox] = finish(o);
        }
      }
    }
    return y;
  }
}
