package io.qat4j.layers.quant.quantizers;

import io.qat4j.layers.quant.GroupLayout;
import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantKind;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.SawbCoefficients;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Statistics-aware weight binning: a clipping scale from the weights' first two moments, no search
 * and no learned parameter.
 *
 * <p>Forward, per tensor: alpha = c1 sqrt(E[w^2]) + c2 E[|w|] with the bit width's coefficients
 * ({@link SawbCoefficients}: 2 bits (3.212, -2.178), 3 (7.509, -6.892), 4 (12.68, -12.80),
 * 5 (17.74, -18.64), 8 (31.76, -35.04)); should the formula give alpha &lt;= 0 (weights far from every
 * distribution of the fit, e.g. two-valued at 5 bits) alpha = max|w|. Then the 2^b levels spread evenly
 * over [-alpha, alpha], with no zero level ({-alpha, -alpha/3, alpha/3, alpha} for 2 bits): with
 * n = 2^b - 1 and step = 2 alpha / n, q = round((clip(w, -alpha, alpha) + alpha) / step) in [0, n]
 * (half to even), y = q step - alpha. Codes are q, scale step, zero point n/2. All-zero weights give
 * zeros (no codes).
 *
 * <p>Gradient: the spec's estimator, by default {@code clipped} (1 inside [-alpha, alpha]); alpha is
 * treated as a constant.
 *
 * <p>Paper: Choi et al., "Bridging the Accuracy Gap for 2-bit Quantized Neural Networks (QNN)",
 * arXiv:1807.06964.
 *
 * <p>Example spec strings: {@code sawb(bits=2)}, {@code sawb(bits=4, ste=identity)}.
 */
public final class SawbQuantizer extends BaseQuantizer {
  private final SawbCoefficients coefficients;

  public SawbQuantizer(QuantSpec spec) {
    super(spec, QuantKind.SAWB);
    coefficients = SawbCoefficients.of(spec.bits());
  }

  /** The clipping scale alpha of these weights (in float32 when {@code single}). */
  public double alpha(double[] w, boolean single) {
    double sumSq = 0;
    double sumAbs = 0;
    double max = 0;
    for (double v : w) {
      sumSq += v * v;
      sumAbs += Math.abs(v);
      max = Math.max(max, Math.abs(v));
    }
    if (w.length == 0) {
      return 0;
    }
    double rms = NdArrays.r(Math.sqrt(sumSq / w.length), single);
    double mean = NdArrays.r(sumAbs / w.length, single);
    double alpha = NdArrays.r(coefficients.alpha(rms, mean), single);
    return alpha > 0 ? alpha : NdArrays.r(max, single);
  }

  @Override
  public QuantResult forward(INDArray x, QuantContext ctx) {
    double[] d = NdArrays.readFinite(x, "input of " + spec);
    DataType type = x.dataType();
    boolean single = NdArrays.isSinglePrecision(type);
    GroupLayout layout = GroupLayout.tensor(x.shape());
    double alpha = alpha(d, single);
    double n = (1 << spec.bits()) - 1;
    double[] out = new double[d.length];
    double[] codes = alpha == 0 ? null : new double[d.length];
    double step = NdArrays.r(2 * alpha / n, single);
    if (alpha > 0) {
      for (int i = 0; i < d.length; i++) {
        double c = Math.min(Math.max(d[i], -alpha), alpha);
        double q = Math.min(Math.max(Math.rint(NdArrays.r(NdArrays.r(c + alpha, single) / step, single)), 0), n);
        codes[i] = q;
        out[i] = NdArrays.r(NdArrays.r(q * step, single) - alpha, single);
      }
    }
    long[] shape = x.shape();
    return new QuantResult(NdArrays.create(out, shape, type), codes == null ? null : NdArrays.create(codes, shape,
        type), NdArrays.create(new double[] {step}, layout.paramShape(), type),
        NdArrays.create(new double[] {n / 2}, layout.paramShape(), type), layout, new double[] {-alpha},
        new double[] {alpha});
  }
}
