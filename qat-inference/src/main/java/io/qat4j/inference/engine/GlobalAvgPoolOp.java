package io.qat4j.inference.engine;

import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.LayerSpec;
import java.util.List;

/**
 * global_avg_pool: [1, C, H, W] codes to [1, C]. acc[c] = sum_{y, x} (x[c, y, x] - zp_x), exact in int32;
 * y[c] = clamp(requant(acc[c], 0) + zp_y) with a per-tensor requantization (the exporter encodes
 * s_x / (H W s_y)), or y[c] = clamp(acc[c] + zp_y) without one (output scale s_x / (H W), exact).
 *
 * <p>The layer is rejected when H W max(|qmin - zp_x|, |qmax - zp_x|) exceeds 2^31 - 1, so int32 holds every
 * partial sum exactly (no accumulator width applies; the sum is not subject to {@link EngineConfig}).
 */
final class GlobalAvgPoolOp extends LayerOp {
  private final int channels;
  private final int area;
  private final int zp;
  private final Requantization requant;

  GlobalAvgPoolOp(LayerSpec spec, ActivationSpec in) {
    super(spec);
    int[] shape = ints(in.shape());
    if (shape.length != 4 || shape[0] != 1) {
      throw bad(spec, "input shape " + in.shape() + " not allowed; allowed: [1, C, H, W]");
    }
    this.channels = shape[1];
    this.area = shape[2] * shape[3];
    this.zp = in.zeroPoint();
    if (!spec.output().shape().equals(List.of(1, channels))) {
      throw bad(spec, "output shape " + spec.output().shape() + " not allowed; allowed: [1, " + channels + "]");
    }
    long widest = Math.max(Math.abs((long) in.qmin() - zp), Math.abs((long) in.qmax() - zp));
    if (widest * area > Integer.MAX_VALUE) {
      throw bad(spec, "sum of " + area + " centered codes up to " + widest + " can exceed int32; allowed: "
          + "H*W*max|x - zx| <= 2^31 - 1");
    }
    this.requant = spec.requant() == null ? null : new Requantization(spec.requant());
  }

  @Override
  int[] run(int[][] inputs) {
    int[] x = inputs[0];
    int[] y = new int[channels];
    for (int c = 0; c < channels; c++) {
      int acc = 0;
      for (int p = c * area; p < (c + 1) * area; p++) {
        acc += x[p] - zp;
      }
      y[c] = finish(acc);
    }
    return y;
  }

  /** clamp(requant(acc) + zp_y), or clamp(acc + zp_y) computed exactly without a requantization. */
  int finish(int acc) {
    if (requant != null) {
      return clamp(requant.apply(acc, 0) + outZeroPoint);
    }
    long v = (long) acc + outZeroPoint;
    return v < clampLo ? clampLo : v > clampHi ? clampHi : (int) v;
  }
}
