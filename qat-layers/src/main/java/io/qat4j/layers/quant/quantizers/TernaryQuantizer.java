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
 * Ternary weight networks: y in {-alpha, 0, +alpha}.
 *
 * <p>Forward, per tensor or per channel: delta = t * mean|w| (t = {@code threshold}, 0.7 in the
 * paper), alpha = mean of |w| over the elements with |w| &gt; delta (0 if there are none);
 * y = alpha * sign(w) where |w| &gt; delta, else 0. Codes are -1, 0, +1; scale is alpha. In float32
 * delta and alpha are rounded to float32 once (their sums are taken in double).
 *
 * <p>Gradient: the spec's estimator, by default {@code identity} (straight-through, as in the paper).
 *
 * <p>Paper: Li, Zhang and Liu, "Ternary Weight Networks", arXiv:1605.04711.
 *
 * <p>Example spec strings: {@code ternary}, {@code ternary(threshold=0.7, scale=channel)}.
 */
public final class TernaryQuantizer extends BaseQuantizer {

  public TernaryQuantizer(QuantSpec spec) {
    super(spec, QuantKind.TERNARY);
  }

  @Override
  public QuantResult forward(INDArray x, QuantContext ctx) {
    double[] d = NdArrays.readFinite(x, "input of " + spec);
    DataType type = x.dataType();
    boolean single = NdArrays.isSinglePrecision(type);
    GroupLayout layout = GroupLayout.of(spec, x.shape(), ctx);
    int groups = layout.count();
    double[] sum = new double[groups];
    long[] count = new long[groups];
    for (int i = 0; i < d.length; i++) {
      int g = layout.groupOf(i);
      sum[g] += Math.abs(d[i]);
      count[g]++;
    }
    double[] delta = new double[groups];
    for (int g = 0; g < groups; g++) {
      delta[g] = count[g] == 0 ? 0 : NdArrays.r(spec.threshold() * (sum[g] / count[g]), single);
    }
    double[] sumAbove = new double[groups];
    long[] countAbove = new long[groups];
    for (int i = 0; i < d.length; i++) {
      int g = layout.groupOf(i);
      if (Math.abs(d[i]) > delta[g]) {
        sumAbove[g] += Math.abs(d[i]);
        countAbove[g]++;
      }
    }
    double[] alpha = new double[groups];
    double[] lower = new double[groups];
    for (int g = 0; g < groups; g++) {
      alpha[g] = countAbove[g] == 0 ? 0 : NdArrays.r(sumAbove[g] / countAbove[g], single);
      lower[g] = -alpha[g];
    }
    double[] out = new double[d.length];
    double[] codes = new double[d.length];
    for (int i = 0; i < d.length; i++) {
      int g = layout.groupOf(i);
      double c = Math.abs(d[i]) > delta[g] ? Math.signum(d[i]) : 0;
      codes[i] = c;
      out[i] = c * alpha[g];
    }
    long[] shape = x.shape();
    return new QuantResult(NdArrays.create(out, shape, type), NdArrays.create(codes, shape, type),
        NdArrays.create(alpha, layout.paramShape(), type), NdArrays.create(new double[groups], layout.paramShape(),
        type), layout, lower, alpha);
  }

}
