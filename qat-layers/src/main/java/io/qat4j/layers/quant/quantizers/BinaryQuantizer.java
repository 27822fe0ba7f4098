package io.qat4j.layers.quant.quantizers;

import io.qat4j.layers.quant.GroupLayout;
import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantKind;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Binarization: y = alpha * sign(x) with sign(0) = +1.
 *
 * <p>Forward: deterministic y = alpha * (x &gt;= 0 ? +1 : -1). With {@code scale=tensor} or
 * {@code scale=channel}, alpha = mean |x| over the tensor or over each channel (XNOR-Net), otherwise
 * alpha = 1 (BNN). With {@code stochastic=true}, during training (QuantContext.training) the code is
 * +1 with probability hard_sigmoid(x) = clip((x + 1) / 2, 0, 1) and -1 otherwise (BinaryConnect);
 * at inference the deterministic sign is used. Codes are +-1, scale is alpha.
 *
 * <p>Gradient: the spec's estimator, by default {@code hardtanh} (1 for |x| &lt;= 1); {@code approx_sign}
 * gives Bi-Real Net's 2 - 2|x|.
 *
 * <p>Papers: Courbariaux et al., BinaryConnect, arXiv:1511.00363; Hubara et al., BNN,
 * arXiv:1602.02830; Rastegari et al., XNOR-Net, arXiv:1603.05279.
 *
 * <p>Example spec strings: {@code binary}, {@code binary(scale=channel)}, {@code binary(stochastic=true)}.
 */
public final class BinaryQuantizer extends BaseQuantizer {

  public BinaryQuantizer(QuantSpec spec) {
    super(spec, QuantKind.BINARY);
  }

  @Override
  public QuantResult forward(INDArray x, QuantContext ctx) {
    double[] d = NdArrays.readFinite(x, "input of " + spec);
    DataType type = x.dataType();
    boolean single = NdArrays.isSinglePrecision(type);
    GroupLayout layout = spec.scaled() ? GroupLayout.of(spec, x.shape(), ctx) : GroupLayout.tensor(x.shape());
    double[] alpha = new double[layout.count()];
    if (spec.scaled()) {
      long[] count = new long[layout.count()];
      for (int i = 0; i < d.length; i++) {
        int g = layout.groupOf(i);
        alpha[g] += Math.abs(d[i]);
        count[g]++;
      }
      for (int g = 0; g < alpha.length; g++) {
        alpha[g] = count[g] == 0 ? 0 : NdArrays.r(alpha[g] / count[g], single);
      }
    } else {
      java.util.Arrays.fill(alpha, 1.0);
    }
    boolean stochastic = spec.stochastic() && ctx.training();
    SplittableRandom rng = stochastic ? new SplittableRandom(ctx.seed()) : null;
    double[] out = new double[d.length];
    double[] codes = new double[d.length];
    for (int i = 0; i < d.length; i++) {
      double c;
      if (stochastic) {
        double p = Math.min(1, Math.max(0, (d[i] + 1) / 2));
        c = rng.nextDouble() < p ? 1 : -1;
      } else {
        c = d[i] >= 0 ? 1 : -1;
      }
      codes[i] = c;
      out[i] = c * alpha[layout.groupOf(i)];
    }
    double[] lower = new double[alpha.length];
    for (int g = 0; g < alpha.length; g++) {
      lower[g] = -alpha[g];
    }
    long[] shape = x.shape();
    return new QuantResult(NdArrays.create(out, shape, type), NdArrays.create(codes, shape, type),
        NdArrays.create(alpha, layout.paramShape(), type),
        NdArrays.create(new double[alpha.length], layout.paramShape(), type), layout, lower, alpha);
  }
}
