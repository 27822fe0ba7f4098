package io.qat4j.inference.engine;

import io.qat4j.inference.format.LayerSpec;

/**
 * Residual add with requantization (TFLite's integer add): a = requant_0((x0 - zp_0) * 2^L),
 * b = requant_1((x1 - zp_1) * 2^L), y = clamp(requant(sat32(a + b)) + zp_y), L = left_shift.
 * Real multipliers: r_k = s_k / (2 max(s_0, s_1)), r = 2 max(s_0, s_1) / (2^L s_y); with L = 0 and
 * r_k = s_k / s_y, r = 1 it is the plain "rescale both inputs to the output scale" form.
 */
final class AddOp extends LayerOp {
  private final int zp0;
  private final int zp1;
  private final int leftShift;
  private final Requantization in0;
  private final Requantization in1;
  private final Requantization out;

  AddOp(LayerSpec spec, int[] shape0, int[] shape1, int zp0, int zp1) {
    super(spec);
    if (!java.util.Arrays.equals(shape0, shape1) || !spec.output().shape().equals(
        java.util.Arrays.stream(shape0).boxed().toList())) {
      throw bad(spec, "input shapes " + java.util.Arrays.toString(shape0) + ", " + java.util.Arrays.toString(shape1)
          + " and output " + spec.output().shape() + " not allowed; allowed: three equal shapes");
    }
    if (spec.requant() == null || spec.inputRequant() == null || spec.inputRequant().size() != 2) {
      throw bad(spec, "requant and two input_requant entries are required");
    }
    this.leftShift = spec.leftShift() == null ? 0 : spec.leftShift();
    if (leftShift < 0 || leftShift > 31) {
      throw bad(spec, "left_shift " + leftShift + " not allowed; allowed: 0..31");
    }
    this.zp0 = zp0;
    this.zp1 = zp1;
    this.in0 = new Requantization(spec.inputRequant().get(0));
    this.in1 = new Requantization(spec.inputRequant().get(1));
    this.out = new Requantization(spec.requant());
    if (in0.channels() != 1 || in1.channels() != 1 || out.channels() != 1) {
      throw bad(spec, "per-channel requant not allowed for add; allowed: one multiplier per requant");
    }
  }

  @Override
  int[] run(int[][] inputs) {
    int[] x0 = inputs[0];
    int[] x1 = inputs[1];
    int[] y = new int[x0.length];
    for (int i = 0; i < y.length; i++) {
      int a = in0.apply(FixedPoint.saturatingLeftShift(x0[i] - zp0, leftShift), 0);
      int b = in1.apply(FixedPoint.saturatingLeftShift(x1[i] - zp1, leftShift), 0);
      y[i] = clamp(out.apply(FixedPoint.saturate((long) a + b), 0) + outZeroPoint);
    }
    return y;
  }
}
