package io.qat4j.layers.quant.quantizers;

import io.qat4j.layers.quant.GroupLayout;
import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.OverflowMode;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.RoundingMode;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The integer fake-quant loop shared by {@link UniformQuantizer} and {@link FixedPointQuantizer}, in
 * PyTorch's float32 operation order: inv = 1f / s; q = round(x * inv) + zp; clamp or wrap;
 * out = (q - zp) * s.
 */
final class UniformKernel {
  private UniformKernel() {
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
