package io.qat4j.inference.engine;

import io.qat4j.inference.format.IntTensor;
import io.qat4j.inference.format.LayerSpec;
import java.util.List;

/**
 * dense (and binary_dense / ternary_dense): weights [O, F], input of F elements (any shape, C order).
 * y[o] = clamp(requant(bias[o] + sum_f (x[f] - zp_x) (w[o, f] - zp_w[o]), o) + zp_y), output shape [1, O].
 */
final class DenseOp extends AccumulatingOp {
  private final int features;

  DenseOp(LayerSpec spec, int inSize, int inZeroPoint, IntTensor w, IntTensor b, EngineConfig config) {
    super(spec, inZeroPoint, w, b, config);
    if (w.shape().length != 2 || w.shape()[1] != inSize) {
      throw bad(spec, "weight shape " + java.util.Arrays.toString(w.shape()) + " not allowed; allowed: ["
          + outChannels + ", " + inSize + "]");
    }
    if (!spec.output().shape().equals(List.of(1, outChannels))) {
      throw bad(spec, "output shape " + spec.output().shape() + " not allowed; allowed: [1, " + outChannels + "]");
    }
    this.features = inSize;
  }

  @Override
  int[] run(int[][] inputs) {
    int[] x = inputs[0];
    int[] y = new int[outChannels];
    for (int o = 0; o < outChannels; o++) {
      acc.start(bias[o]);
      int base = o * features;
      for (int f = 0; f < features; f++) {
        accumulate(x[f] - inZeroPoint, weights[base + f], o);
      }
      y[o] = finish(o);
    }
    return y;
  }
}
