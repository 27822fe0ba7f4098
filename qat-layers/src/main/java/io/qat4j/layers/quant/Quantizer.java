package io.qat4j.layers.quant;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Stateless quantization maths: a fake-quant forward pass and the gradient passed back.
 *
 * <p>Forward: {@code y = Q(x)} per the spec; backward: the spec's gradient estimator
 * ({@link QuantSpec#ste()}). Implementations live in {@code io.qat4j.layers.quant.quantizers};
 * {@link Quantizers#of(QuantSpec)} builds them.
 *
 * <p>Example spec string: {@code int8}.
 */
public interface Quantizer {

  /** The spec this quantizer implements. */
  QuantSpec spec();

  /**
   * Fake-quantizes x: returns a NEW array (same shape and data type as x; x untouched).
   *
   * @throws IllegalArgumentException if x contains NaN or infinity
   */
  QuantResult forward(INDArray x, QuantContext ctx);

  /**
   * Gradient with respect to x given the gradient with respect to the output (the spec's estimator):
   * a new array; x and gradOut are only read.
   */
  INDArray backward(INDArray x, INDArray gradOut, QuantResult forward);

  /** Convenience: {@code forward(x, ctx).output()}. */
  default INDArray apply(INDArray x, QuantContext ctx) {
    return forward(x, ctx).output();
  }
}
