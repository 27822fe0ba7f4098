package io.qat4j.layers.quant.quantizers;

import io.qat4j.layers.quant.GroupLayout;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantKind;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * No quantization: y = x (a copy).
 *
 * <p>Forward: y = x. Gradient: identity (dy/dx = 1). No finiteness check: this is the zero-cost path.
 *
 * <p>Paper: none (the full-precision baseline).
 *
 * <p>Example spec string: {@code float}.
 */
public final class FloatQuantizer extends BaseQuantizer {

  public FloatQuantizer(QuantSpec spec) {
    super(spec, QuantKind.FLOAT);
  }

  @Override
  public QuantResult forward(INDArray x, QuantContext ctx) {
    return new QuantResult(x.dup(), null, null, null, GroupLayout.tensor(x.shape()),
        new double[] {Double.NEGATIVE_INFINITY}, new double[] {Double.POSITIVE_INFINITY});
  }
}
