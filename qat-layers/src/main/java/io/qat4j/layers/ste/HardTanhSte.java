package io.qat4j.layers.ste;

import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.QuantResult;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * BNN's straight-through estimator for sign: the derivative of hard tanh.
 *
 * <p>Gradient: gradIn = gradOut for |x| &lt;= 1, 0 otherwise (independent of any scale).
 *
 * <p>Paper: Hubara, Courbariaux et al., "Binarized Neural Networks", arXiv:1602.02830.
 *
 * <p>Example spec string: {@code binary} (its default estimator) or {@code binary(ste=hardtanh)}.
 */
public final class HardTanhSte implements GradientEstimator {

  @Override
  public INDArray backward(INDArray x, INDArray gradOut, QuantResult forward) {
    Estimators.checkShapes(x, gradOut);
    if (Estimators.nativeApplies(x, gradOut)) {
      return Estimators.masked(x, gradOut, -1, new float[] {-1f}, new float[] {1f});
    }
    double[] xs = NdArrays.read(x);
    double[] f = new double[xs.length];
    for (int i = 0; i < xs.length; i++) {
      f[i] = Math.abs(xs[i]) <= 1 ? 1 : 0;
    }
    return Estimators.scaled(gradOut, NdArrays.read(gradOut), f);
  }
}
