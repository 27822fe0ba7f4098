package io.qat4j.layers.quant;

import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A quantizer with trained parameters (PACT's clipping level, LSQ's step size, QIL's interval, TTQ's
 * scales): the maths only. The parameters themselves are DL4J parameters of the quantized layer that
 * owns the site (see {@code io.qat4j.layers.nn.QuantParamInitializer}), trained by the layer's
 * updater and saved with the model; the layer hands them in on every call.
 *
 * <p>Call order in a training step: {@link #needsInit} / {@link #init} (once, on the first batch, for
 * parameters initialized from data), {@link #forward}, then {@link #backward}, which returns dL/dx and
 * writes dL/dparameter, summed over every element of x (so over the minibatch too), into
 * {@code gradParams}. Parameters are addressed by their short names ({@link Param#name()}); the
 * layer prefixes them with the site.
 *
 * <p>Implementations live in {@code io.qat4j.layers.quant.quantizers}; {@link Quantizers#learned}
 * is the one switch that builds them. Example spec string: {@code lsq(bits=2)}.
 */
public interface LearnedQuantizer {

  /** What a site quantizes: QIL and LSQ treat weights and activations differently. */
  enum Role {
    /** A weight tensor: one tensor per layer, the channel axis is the layer's output-channel axis. */
    WEIGHTS,
    /** Activations: axis 0 is the minibatch, axis 1 the channels. */
    ACTIVATIONS
  }

  /**
   * One learned parameter.
   *
   * @param name short name, e.g. {@code alpha}, {@code step}, {@code c}
   * @param size number of values: 1 per tensor, or one per channel
   * @param initial the value it starts with; 0 marks "initialize from the first batch" where the
   *     quantizer says so
   */
  record Param(String name, long size, double initial) {
  }

  /** The spec this quantizer implements. */
  QuantSpec spec();

  /**
   * The learned parameters of a site in this role, in order.
   *
   * @param channels channel count of the site (used by per-channel specs)
   * @throws IllegalArgumentException if the quantizer does not apply to this role (e.g. PACT to weights)
   */
  List<Param> params(Role role, long channels);

  /** True while some parameter still holds its "initialize from data" marker. */
  boolean needsInit(Map<String, INDArray> params);

  /** Initializes (assigns into {@code params}) the parameters that still hold their marker, from x. */
  void init(INDArray x, Map<String, INDArray> params, QuantContext ctx, Role role);

  /**
   * Fake-quantizes x with the current parameter values: a new array, same shape and data type as x.
   *
   * @throws IllegalArgumentException if x contains NaN or infinity
   */
  QuantResult forward(INDArray x, Map<String, INDArray> params, QuantContext ctx, Role role);

  /**
   * Gradient with respect to x (a new array shaped like x), and, assigned into {@code gradParams} (same
   * names and sizes as {@code params}), the gradients with respect to the parameters, summed over all
   * elements of x. x, gradOut and params are only read; they must be those of the forward pass.
   */
  INDArray backward(INDArray x, INDArray gradOut, Map<String, INDArray> params, QuantContext ctx, Role role,
      Map<String, INDArray> gradParams);
}
