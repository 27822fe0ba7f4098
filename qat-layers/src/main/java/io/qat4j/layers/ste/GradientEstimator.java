package io.qat4j.layers.ste;

import io.qat4j.layers.quant.QuantResult;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The gradient a quantizer passes back in place of the zero-almost-everywhere true derivative.
 *
 * <p>Layers never build masks themselves; they call a quantizer's backward, which delegates here.
 *
 * <p>Example spec string: {@code binary(ste=approx_sign)}.
 */
public interface GradientEstimator {

  /**
   * Gradient with respect to x.
   *
   * @param x the quantizer's input
   * @param gradOut gradient with respect to the quantizer's output (same shape as x)
   * @param forward what the forward pass returned (bounds, scales)
   * @return a new array, same shape and data type as gradOut (x and gradOut are only read, so
   *     callers may pass views they own)
   */
  INDArray backward(INDArray x, INDArray gradOut, QuantResult forward);
}
