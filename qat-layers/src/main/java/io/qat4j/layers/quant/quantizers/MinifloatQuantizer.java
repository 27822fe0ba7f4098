package io.qat4j.layers.quant.quantizers;

import io.qat4j.layers.quant.GroupLayout;
import io.qat4j.layers.quant.MinifloatFormat;
import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.OverflowMode;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantKind;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Rounds to a small floating-point format ExMy (FP8 E4M3 / E5M2, FP16, BF16 or any other), no scale.
 *
 * <p>Forward: y = the nearest value of the format (ties to even, or stochastic between the two
 * neighbors with P(up) = distance fraction), with subnormals; beyond the largest finite value y
 * saturates ({@code overflow=saturate}, default) or becomes infinity ({@code overflow=infinity};
 * NaN for formats without infinities such as E4M3, as the OCP spec's non-saturating mode). E4M3
 * (OCP/NVIDIA): bias 7, max 448, min subnormal 2^-9, no infinities, S.1111.111 = NaN. E5M2
 * (IEEE-like): bias 15, max 57344, min subnormal 2^-16, has infinities. See {@link MinifloatFormat}.
 * Codes, scale and zero point are null.
 *
 * <p>Gradient: the spec's estimator, by default {@code identity}.
 *
 * <p>Paper: Micikevicius et al., "FP8 Formats for Deep Learning", arXiv:2209.05433.
 *
 * <p>Example spec strings: {@code fp8_e4m3}, {@code minifloat(e=4, m=3, inf=false, rounding=stochastic)}.
 */
public final class MinifloatQuantizer extends BaseQuantizer {
  private final MinifloatFormat format;

  public MinifloatQuantizer(QuantSpec spec) {
    super(spec, QuantKind.MINIFLOAT);
    this.format = MinifloatFormat.of(spec);
  }

  /** The value set. */
  public MinifloatFormat format() {
    return format;
  }

  @Override
  public QuantResult forward(INDArray x, QuantContext ctx) {
    double[] d = NdArrays.readFinite(x, "input of " + spec);
    DataType type = x.dataType();
    boolean saturate = spec.overflow() == OverflowMode.SATURATE;
    SplittableRandom rng = new SplittableRandom(ctx.seed());
    double[] out = new double[d.length];
    for (int i = 0; i < d.length; i++) {
      out[i] = format.quantize(d[i], spec.rounding(), rng, saturate);
    }
    GroupLayout layout = GroupLayout.tensor(x.shape());
    return new QuantResult(NdArrays.create(out, x.shape(), type), null, null, null, layout,
        new double[] {-format.maxFinite()}, new double[] {format.maxFinite()});
  }
}
