package io.qat4j.layers.quant.quantizers;

import io.qat4j.layers.quant.GroupLayout;
import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantKind;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Power-of-two weights (INQ): y in {0, +-2^n2, ..., +-2^n1}, so a multiplication becomes a shift.
 *
 * <p>Forward, per tensor or per channel, with b bits and s = max|w|: n1 = floor(log2(4s/3)),
 * n2 = n1 + 1 - 2^(b-2) (2^(b-2) magnitudes, one bit for the sign and one code for zero).
 * |w| &lt; 2^(n2-1) (half the smallest level) gives 0; otherwise y = sign(w) * 2^k with k such that
 * 3 * 2^(k-2) &lt;= |w| &lt; 3 * 2^(k-1) (the midpoints between adjacent levels, ties going up), k
 * clamped to [n2, n1]. Codes are sign * 2^(k - n2), integers; scale is 2^n2, so y = code * scale.
 *
 * <p>Gradient: the spec's estimator, by default {@code identity}.
 *
 * <p>Paper: Zhou et al., "Incremental Network Quantization", arXiv:1702.03044 (the incremental
 * partition/retrain schedule is a training-phase concern, not part of this quantizer).
 *
 * <p>Example spec string: {@code pow2(bits=4)}.
 */
public final class PowerOfTwoQuantizer extends BaseQuantizer {

  public PowerOfTwoQuantizer(QuantSpec spec) {
    super(spec, QuantKind.POW2);
  }

  @Override
  public QuantResult forward(INDArray x, QuantContext ctx) {
    double[] d = NdArrays.readFinite(x, "input of " + spec);
    DataType type = x.dataType();
    GroupLayout layout = GroupLayout.of(spec, x.shape(), ctx);
    int groups = layout.count();
    double[] s = new double[groups];
    for (int i = 0; i < d.length; i++) {
      int g = layout.groupOf(i);
      s[g] = Math.max(s[g], Math.abs(d[i]));
    }
    int levels = 1 << (spec.bits() - 2);
    int[] n1 = new int[groups];
    int[] n2 = new int[groups];
    double[] scale = new double[groups];
    double[] lower = new double[groups];
    double[] upper = new double[groups];
    for (int g = 0; g < groups; g++) {
      n1[g] = s[g] == 0 ? 0 : Math.getExponent(s[g] * 4 / 3);
      n2[g] = n1[g] + 1 - levels;
      scale[g] = Math.scalb(1.0, n2[g]);
      upper[g] = Math.scalb(1.0, n1[g]);
      lower[g] = -upper[g];
    }
    double[] out = new double[d.length];
    double[] codes = new double[d.length];
    for (int i = 0; i < d.length; i++) {
      int g = layout.groupOf(i);
      double a = Math.abs(d[i]);
      if (a < Math.scalb(1.0, n2[g] - 1)) {
        continue;
      }
      int k = Math.max(n2[g], Math.min(n1[g], Math.getExponent(a * 4 / 3)));
      double sign = d[i] < 0 ? -1 : 1;
      out[i] = sign * Math.scalb(1.0, k);
      codes[i] = sign * Math.scalb(1.0, k - n2[g]);
    }
    long[] shape = x.shape();
    return new QuantResult(NdArrays.create(out, shape, type), NdArrays.create(codes, shape, type),
        NdArrays.create(scale, layout.paramShape(), type), NdArrays.create(new double[groups], layout.paramShape(),
        type), layout, lower, upper);
  }
}
