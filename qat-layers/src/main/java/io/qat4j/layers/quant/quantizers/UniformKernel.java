package io.qat4j.layers.quant.quantizers;

import io.qat4j.layers.quant.GroupLayout;
import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.OverflowMode;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.RoundingMode;
import io.qat4j.layers.quant.NdOps;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastSubOp;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarAdd;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarMax;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarMin;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarMultiplication;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarSubtraction;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Rint;
import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The integer fake-quant loop shared by {@link UniformQuantizer} and {@link FixedPointQuantizer}, in
 * PyTorch's float32 operation order: inv = 1f / s; q = round(x * inv) + zp; clamp or wrap;
 * out = (q - zp) * s.
 *
 * <p>Two implementations: {@link #run} loops element by element in Java (every mode, every data
 * type); {@link #runNative} does the common case (float32 array, round half to even, saturating
 * overflow, per tensor or per axis) with ND4J operations whose float32 results are the same bits:
 * a float product rounded once, rint (half to even), additions and subtractions of small integers
 * (exact), and min/max selections.
 */
final class UniformKernel {
  /** Codes stay exact float32 integers (and qmin/qmax exact floats) up to this many bits. */
  private static final int MAX_NATIVE_BITS = 16;

  private UniformKernel() {
  }

  /** True when {@link #runNative} gives the same result as {@link #run} for these settings. */
  static boolean nativeApplies(INDArray x, int bits, RoundingMode rounding, OverflowMode overflow, long group) {
    return NdOps.applies(x) && bits <= MAX_NATIVE_BITS && rounding == RoundingMode.NEAREST_EVEN
        && (overflow == OverflowMode.SATURATE || overflow == OverflowMode.SATURATE_SYMMETRIC) && group == 0;
  }

  /**
   * The native version of {@link #run} for a case {@link #nativeApplies} accepts (x finite, already
   * checked by the caller).
   */
  static QuantResult runNative(INDArray x, GroupLayout layout, float[] scale, int[] zp, int qmin, int qmax,
      OverflowMode overflow) {
    OpExecutioner ex = Nd4j.getExecutioner();
    int groups = layout.count();
    float[] inv = new float[groups];
    float[] zpf = new float[groups];
    for (int g = 0; g < groups; g++) {
      inv[g] = (float) (1.0 / scale[g]);
      zpf[g] = zp[g];
    }
    double lo = overflow == OverflowMode.SATURATE_SYMMETRIC ? Math.max(qmin, -qmax) : qmin;
    double hi = qmax;
    long[] shape = x.shape();
    INDArray codes = NdOps.newArray(DataType.FLOAT, shape);
    INDArray out = NdOps.newArray(DataType.FLOAT, shape);
    int axis = layout.axis();
    if (axis < 0) {
      // q = clamp(rint(x * inv) + zp); adding zp (even 0) turns rint's -0 into +0 as the Java loop does.
      ex.exec(new ScalarMultiplication(x, null, codes, inv[0]));
      ex.exec(new Rint(codes, codes));
      ex.exec(new ScalarAdd(codes, null, codes, zpf[0]));
      ex.exec(new ScalarMax(codes, null, codes, lo));
      ex.exec(new ScalarMin(codes, null, codes, hi));
      ex.exec(new ScalarSubtraction(codes, null, out, zpf[0]));
      ex.exec(new ScalarMultiplication(out, null, out, scale[0]));
    } else {
      INDArray invV = NdOps.floatVector(inv);
      INDArray zpV = NdOps.floatVector(zpf);
      INDArray scaleV = NdOps.floatVector(scale);
      ex.exec(new BroadcastMulOp(x, invV, codes, axis));
      ex.exec(new Rint(codes, codes));
      ex.exec(new BroadcastAddOp(codes, zpV, codes, axis));
      ex.exec(new ScalarMax(codes, null, codes, lo));
      ex.exec(new ScalarMin(codes, null, codes, hi));
      ex.exec(new BroadcastSubOp(codes, zpV, out, axis));
      ex.exec(new BroadcastMulOp(out, scaleV, out, axis));
    }
    double[] s = new double[groups];
    double[] z = new double[groups];
    double[] lower = new double[groups];
    double[] upper = new double[groups];
    for (int g = 0; g < groups; g++) {
      s[g] = scale[g];
      z[g] = zp[g];
      lower[g] = (lo - zp[g]) * (double) scale[g];
      upper[g] = (hi - zp[g]) * (double) scale[g];
    }
    return new QuantResult(out, codes, NdArrays.create(s, layout.paramShape(), DataType.FLOAT),
        NdArrays.create(z, layout.paramShape(), DataType.FLOAT), layout, lower, upper);
  }

  static QuantResult run(INDArray xArr, double[] x, GroupLayout layout, float[] scale, int[] zp, int bits,
      boolean signed, int qmin, int qmax, RoundingMode rounding, OverflowMode overflow, long seed) {
    DataType type = xArr.dataType();
    boolean single = NdArrays.isSinglePrecision(type);
    int groups = layout.count();
    double[] inv = new double[groups];
    for (int g = 0; g < groups; g++) {
      inv[g] = NdArrays.r(1.0 / scale[g], single);
    }
    double lo = overflow == OverflowMode.SATURATE_SYMMETRIC ? Math.max(qmin, -qmax) : qmin;
    double hi = qmax;
    double wrapLo = signed ? -Math.scalb(1.0, bits - 1) : 0;
    double mod = Math.scalb(1.0, bits);
    SplittableRandom rng = rounding == RoundingMode.STOCHASTIC ? new SplittableRandom(seed) : null;
    double[] out = new double[x.length];
    double[] codes = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      int g = layout.groupOf(i);
      double v = NdArrays.r(x[i] * inv[g], single);
      double q = rounding.round(v, rng) + zp[g];
      if (overflow == OverflowMode.WRAP) {
        double k = (q - wrapLo) % mod;
        if (k < 0) {
          k += mod;
        }
        q = wrapLo + k;
      } else {
        q = Math.min(Math.max(q, lo), hi);
      }
      codes[i] = q;
      out[i] = NdArrays.r((q - zp[g]) * (double) scale[g], single);
    }
    double[] s = new double[groups];
    double[] z = new double[groups];
    double[] lower = new double[groups];
    double[] upper = new double[groups];
    double clipLo = overflow == OverflowMode.WRAP ? qmin : lo;
    for (int g = 0; g < groups; g++) {
      s[g] = scale[g];
      z[g] = zp[g];
      lower[g] = (clipLo - zp[g]) * (double) scale[g];
      upper[g] = (hi - zp[g]) * (double) scale[g];
    }
    long[] shape = xArr.shape();
    return new QuantResult(NdArrays.create(out, shape, type), NdArrays.create(codes, shape, type),
        NdArrays.create(s, layout.paramShape(), type), NdArrays.create(z, layout.paramShape(), type), layout,
        lower, upper);
  }
}
