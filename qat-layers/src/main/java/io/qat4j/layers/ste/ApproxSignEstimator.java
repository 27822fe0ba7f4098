package io.qat4j.layers.ste;

import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.QuantResult;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Bi-Real Net's approximation of the sign derivative: a piecewise quadratic instead of hard tanh.
 *
 * <p>Gradient: gradIn = gradOut * (2 - 2|x|) for |x| &lt; 1, 0 otherwise (the derivative of
 * ApproxSign(x) = 2x + x^2 sign(-x) on [-1, 1]).
 *
 * <p>Paper: Liu et al., "Bi-Real Net", arXiv:1808.00278.
 *
 * <p>Example spec string: {@code binary(ste=approx_sign)}.
 */
public final class ApproxSignEstimator implements GradientEstimator {

  @Override
  public INDArray backward(INDArray x, INDArray gradOut, QuantResult forward) {
    Estimators.checkShapes(x, gradOut);
    double[] xs = NdArrays.read(x);
    double[] f = new double[xs.length];
    for (int i = 0; i < xs.length; i++) {
      double a = Math.abs(xs[i]);
      f[i] = a < 1 ? 2 - 2 * a : 0;
    }
    return Estimators.scaled(gradOut, NdArrays.read(gradOut), f);
  }
}
