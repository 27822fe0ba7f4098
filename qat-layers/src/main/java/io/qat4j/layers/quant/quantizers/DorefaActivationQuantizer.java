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
 * DoReFa-Net activation quantization: y = quantize_k(clip(x, 0, 1)).
 *
 * <p>Forward: with n = 2^k - 1, q = round(n * clip(x, 0, 1)), y = q / n. Codes are q in [0, n],
 * scale 1/n, zero point 0.
 *
 * <p>Gradient: the spec's estimator, by default {@code clipped}: 1 for 0 &lt;= x &lt;= 1, else 0.
 *
 * <p>Paper: Zhou et al., "DoReFa-Net", arXiv:1606.06160.
 *
 * <p>Example spec string: {@code dorefa_a(bits=2)}.
 */
public final class DorefaActivationQuantizer extends BaseQuantizer {

  public DorefaActivationQuantizer(QuantSpec spec) {
    super(spec, QuantKind.DOREFA_A);
  }

  @Override
  public QuantResult forward(INDArray x, QuantContext ctx) {
    double[] d = NdArrays.readFinite(x, "input of " + spec);
    DataType type = x.dataType();
    boolean single = NdArrays.isSinglePrecision(type);
    GroupLayout layout = GroupLayout.tensor(x.shape());
    double n = (1 << spec.bits()) - 1;
    SplittableRandom rng = new SplittableRandom(ctx.seed());
    double[] out = new double[d.length];
    double[] codes = new double[d.length];
    for (int i = 0; i < d.length; i++) {
      double c = Math.min(1, Math.max(0, d[i]));
      double q = spec.rounding().round(NdArrays.r(n * c, single), rng);
      q = Math.min(Math.max(q, 0), n);
      codes[i] = q;
      out[i] = NdArrays.r(q / n, single);
    }
    long[] shape = x.shape();
    return new QuantResult(NdArrays.create(out, shape, type), NdArrays.create(codes, shape, type),
        NdArrays.create(new double[] {1 / n}, layout.paramShape(), type),
        NdArrays.create(new double[] {0}, layout.paramShape(), type), layout, new double[] {0}, new double[] {1});
  }
}
