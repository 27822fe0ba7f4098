package io.qat4j.inference.engine;

import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.LayerSpec;

/**
 * The element-wise ops of {@link FastEngine}, each with the formula of its reference op: relu / clamp
 * ({@link ClampOp}), add ({@link AddOp}), flatten ({@link FlattenOp}) and pad_channels ({@link PadChannelsOp}).
 */
final class FastElementwise {
  private FastElementwise() {}

  /** relu and clamp: y = min(max(x, lo), hi); relu without a clamp field uses [max(zp, qmin), qmax]. */
  static final class Clamp extends FastOp {
    private final int lo;
    private final int hi;
    private final boolean narrowCodes;

    Clamp(LayerSpec spec) {
      super(spec);
      this.narrowCodes = narrowCodes(spec.output());
      this.lo = spec.clamp() != null ? spec.clampMin() : Math.max(outZeroPoint, spec.output().qmin());
      this.hi = spec.clampMax();
    }

    @Override
    int[][] run(int[][][] inputs, int n) {
      int[][] x = inputs[0];
      int[][] y = new int[x.length][];
      for (int f = 0; f < x.length; f++) {
        y[f] = x[f].clone();
        clampCodes(y[f], lo, hi, narrowCodes);
      }
      return y;
    }
  }

  /**
   * add: y = clamp(requant(sat32(a + b)) + zp_y), a = requant_0(sat32((x0 - zp_0) 2^L)),
   * b = requant_1(sat32((x1 - zp_1) 2^L)).
   */
  static final class Add extends FastOp {
    private final int zp0;
    private final int zp1;
    private final int leftShift;
    private final Requantization in0;
    private final Requantization in1;
    private final Requantization out;

    Add(LayerSpec spec, int zp0, int zp1) {
      super(spec);
      this.zp0 = zp0;
      this.zp1 = zp1;
      this.leftShift = spec.leftShift() == null ? 0 : spec.leftShift();
      this.in0 = new Requantization(spec.inputRequant().get(0));
      this.in1 = new Requantization(spec.inputRequant().get(1));
      this.out = new Requantization(spec.requant());
    }

    @Override
    int[][] run(int[][][] inputs, int n) {
      int[][] x0 = inputs[0];
      int[][] x1 = inputs[1];
      int[][] y = new int[x0.length][];
      for (int f = 0; f < x0.length; f++) {
        int[] a = shifted(x0[f], zp0);
        int[] b = shifted(x1[f], zp1);
        in0.applyRow(a, 0);
        in1.applyRow(b, 0);
        for (int k = 0; k < n; k++) {
          a[k] = FixedPoint.saturate((long) a[k] + b[k]);
        }
        out.applyRow(a, 0);
        addZeroPointAndClamp(a);
        y[f] = a;
      }
      return y;
    }

    private int[] shifted(int[] x, int zp) {
      int[] v = new int[x.length];
      for (int k = 0; k < v.length; k++) {
        v[k] = FixedPoint.saturatingLeftShift(x[k] - zp, leftShift);
      }
      return v;
    }
  }

  /** flatten: the same rows (C order of [C, H, W] is the feature order of [C*H*W]). */
  static final class Flatten extends FastOp {
    Flatten(LayerSpec spec) {
      super(spec);
    }

    @Override
    int[][] run(int[][][] inputs, int n) {
      return inputs[0];
    }
  }

  /** pad_channels: clamp(zp_x) rows before and after the input's rows (clamped, or shared when the clamp is wide). */
  static final class PadChannels extends FastOp {
    private final int offset;
    private final int size;
    private final int outSize;
    private final int pad;
    private final boolean clamps;

    PadChannels(LayerSpec spec, ActivationSpec in) {
      super(spec);
      int area = in.shape().get(2) * in.shape().get(3);
      this.offset = spec.channelPadding().get(0) * area;
      this.size = in.size();
      this.outSize = spec.output().size();
      this.pad = Math.min(Math.max(in.zeroPoint(), clampLo), clampHi);
      this.clamps = clampLo > in.qmin() || clampHi < in.qmax();
    }

    @Override
    int[][] run(int[][][] inputs, int n) {
      int[][] x = inputs[0];
      int[] zero = new int[n];
      java.util.Arrays.fill(zero, pad);
      int[][] y = new int[outSize][];
      java.util.Arrays.fill(y, zero);
      for (int f = 0; f < size; f++) {
        int[] row = x[f];
        if (clamps) {
          row = row.clone();
          clampRow(row, clampLo, clampHi);
        }
        y[offset + f] = row;
      }
      return y;
    }
  }
}
