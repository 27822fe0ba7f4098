package io.qat4j.layers.observe.observers;

import io.qat4j.layers.quant.ObserverSpec;

/**
 * Running minimum and maximum over all batches seen (PyTorch's {@code MinMaxObserver} /
 * {@code PerChannelMinMaxObserver} in one class).
 *
 * <p>Update: min = min(min, batch_min), max = max(max, batch_max); the first batch sets both.
 * No gradient (observers only record). Paper: Jacob et al., arXiv:1712.05877.
 *
 * <p>Example spec string: {@code int(bits=8, observer=minmax(freeze=100))}.
 */
public final class MinMaxObserver extends RangeObserver {

  public MinMaxObserver(ObserverSpec spec) {
    super(spec, ObserverSpec.Kind.MINMAX);
  }

  @Override
  double combine(double running, double batch, boolean isMin, boolean single) {
    return isMin ? Math.min(running, batch) : Math.max(running, batch);
  }
}
