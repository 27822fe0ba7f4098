package io.qat4j.layers.ste;

import io.qat4j.layers.quant.QuantResult;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Straight-through estimator: dy/dx = 1.
 *
 * <p>Forward: (the quantizer's). Gradient: gradIn = gradOut.
 *
 * <p>Paper: Bengio, Leonard and Courville, "Estimating or Propagating Gradients Through Stochastic
 * Neurons", arXiv:1308.3432.
 *
 * <p>Example spec string: {@code int(bits=8, ste=identity)}.
 */
public final class IdentitySte implements GradientEstimator {

  @Override
  public INDArray backward(INDArray x, INDArray gradOut, QuantResult forward) {
    Estimators.checkShapes(x, gradOut);
    return gradOut.dup();
  }
}
