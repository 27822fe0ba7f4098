package io.qat4j.inference.engine;

import io.qat4j.inference.format.LayerSpec;
import java.util.List;

/** One executable layer: integer codes in, integer codes out. Implementations use int / long only. */
abstract class LayerOp {
  final LayerSpec spec;
  final int outZeroPoint;
  final int clampLo;
  final int clampHi;

  LayerOp(LayerSpec spec) {
    this.spec = spec;
    this.outZeroPoint = spec.output().zeroPoint();
    this.clampLo = spec.clampMin();
    this.clampHi = spec.clampMax();
  }

  /** Output codes (C order, the layer's output shape) from the input codes, one array per input. */
  abstract int[] run(int[][] inputs);

  /** The accumulator of conv / dense layers, null otherwise. */
  Accumulator accumulator() {
    return null;
  }

  final int clamp(int v) {
    return v < clampLo ? clampLo : v > clampHi ? clampHi : v;
  }

  static int[] ints(List<Integer> list) {
    return list.stream().mapToInt(Integer::intValue).toArray();
  }

  static IllegalArgumentException bad(LayerSpec spec, String message) {
    return new IllegalArgumentException("layer " + spec.name() + " (" + spec.op() + "): " + message);
  }
}
