package io.qat4j.layers.observe;

import io.qat4j.layers.quant.ObserverSpec;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Collects the range (min, max) of a tensor over batches, per tensor or per channel.
 *
 * <p>The observer object is stateless; its state lives in a caller-provided flat array (a DL4J
 * parameter view, so it is saved in the model zip) of {@link #stateSize(int)} values laid out as
 * [updates, min_0 .. min_{C-1}, max_0 .. max_{C-1}], all zero initially. One class handles both
 * per-tensor (axis -1, C = 1) and per-channel (axis a, C = x.size(a)). After
 * {@link ObserverSpec#freeze()} updates (when non-zero) {@link #update} does nothing. The state is
 * kept in its own precision: float32 state is updated with float32 arithmetic, as PyTorch does.
 * Turn the range into a scale and zero point with {@link io.qat4j.layers.quant.QParams#fromRange}
 * (or hand it to a quantizer through {@code QuantContext.withRange}).
 *
 * <p>Example spec string: {@code int(bits=8, signed=false, observer=ema(0.01, freeze=1000))}.
 */
public interface Observer {

  /** The observer's description. */
  ObserverSpec spec();

  /** Number of state values for C channels (1 for per-tensor): 1 + 2C. */
  int stateSize(int channels);

  /**
   * Folds the batch x into the state, in place.
   *
   * @param axis channel axis of x, or -1 for per-tensor
   * @throws IllegalArgumentException if the state has the wrong size or x holds NaN/infinity
   */
  void update(INDArray state, INDArray x, int axis);

  /** Observed minimum per channel (shape [C]); zeros before the first update. */
  INDArray min(INDArray state);

  /** Observed maximum per channel (shape [C]); zeros before the first update. */
  INDArray max(INDArray state);

  /** Number of updates folded in so far (frozen updates are not counted). */
  long updates(INDArray state);

  /** True once the configured number of updates has been reached. */
  default boolean frozen(INDArray state) {
    return spec().freeze() > 0 && updates(state) >= spec().freeze();
  }
}
