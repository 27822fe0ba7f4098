package io.qat4j.inference.engine;

import io.qat4j.inference.format.LayerSpec;

/**
 * relu and clamp on codes: y = min(max(x, lo), hi). relu without a clamp field uses [max(zp, qmin), qmax]
 * (real 0 to the top of the range).
 */
final class ClampOp extends LayerOp {
  private final int lo;
  private final int hi;

  ClampOp(LayerSpec spec) {
    super(spec);
    boolean relu = spec.op().equals("relu");
    if (!relu && spec.clamp() == null) {
      throw bad(spec, "clamp [lo, hi] is required");
    }
    this.lo = spec.clamp() != null ? spec.clampMin() : Math.max(outZeroPoint, spec.output().qmin());
    this.hi = spec.clampMax();
  }

  @Override
  int[] run(int[][] inputs) {
    int[] x = inputs[0];
    int[] y = new int[x.length];
    for (int i = 0; i < x.length; i++) {
      y[i] = x[i] < lo ? lo : x[i] > hi ? hi : x[i];
    }
    return y;
  }
}
