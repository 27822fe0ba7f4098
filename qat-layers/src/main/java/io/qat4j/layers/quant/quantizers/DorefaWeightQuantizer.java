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
 * DoReFa-Net weight quantization, per tensor.
 *
 * <p>Forward: with n = 2^k - 1 and M = max|tanh(w)|, r = tanh(w) / (2M) + 0.5,
 * q = round(n * r) in [0, n], w_k = 2 q / n - 1 (so {-1, -1/3, 1/3, 1} for k = 2; there is no zero
 * level). Codes are q, scale 2/n, zero point n/2. An all-zero tensor (M = 0) carries no sign
 * information and maps to zeros with null codes.
 *
 * <p>Gradient: the spec's estimator, by default {@code dorefa_w}: the analytic derivative of
 * tanh(w)/M with quantize_k treated as identity, including the path through M (the max).
 *
 * <p>Paper: Zhou et al., "DoReFa-Net", arXiv:1606.06160.
 *
 * <p>Example spec string: {@code dorefa_w(bits=2)}.
 */
public final class DorefaWeightQuantizer extends BaseQuantizer {

  public DorefaWeightQuantizer(QuantSpec spec) {
    super(spec, QuantKind.DOREFA_W);
  }

  @Override
  public QuantResult forward(INDArray x, QuantContext ctx) {
    double[] d = NdArrays.readFinite(x, "input of " + spec);
    DataType type = x.dataType();
    boolean single = NdArrays.isSinglePrecision(type);
    GroupLayout layout = GroupLayout.tensor(x.shape());
    double n = (1 << spec.bits()) - 1;
    double[] t = new double[d.length];
    double m = 0;
    for (int i = 0; i < d.length; i++) {
      t[i] = NdArrays.r(Math.tanh(d[i]), single);
      m = Math.max(m, Math.abs(t[i]));
    }
    double[] out = new double[d.length];
    double[] codes = m == 0 ? null : new double[d.length];
    SplittableRandom rng = new SplittableRandom(ctx.seed());
    if (m > 0) {
      double twoM = NdArrays.r(2 * m, single);
      for (int i = 0; i < d.length; i++) {
        double r = NdArrays.r(NdArrays.r(t[i] / twoM, single) + 0.5, single);
        double q = spec.rounding().round(NdArrays.r(n * r, single), rng);
        q = Math.min(Math.max(q, 0), n);
        codes[i] = q;
        out[i] = NdArrays.r(NdArrays.r(2 * NdArrays.r(q / n, single), single) - 1, single);
      }
    }
    long[] shape = x.shape();
    return new QuantResult(NdArrays.create(out, shape, type), codes == null ? null : NdArrays.create(codes, shape,
        type), NdArrays.create(new double[] {2 / n}, layout.paramShape(), type),
        NdArrays.create(new double[] {n / 2}, layout.paramShape(), type), layout, new double[] {-1},
        new double[] {1});
  }
}
