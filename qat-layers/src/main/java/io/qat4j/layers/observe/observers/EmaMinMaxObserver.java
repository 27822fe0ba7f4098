package io.qat4j.layers.observe.observers;

import io.qat4j.layers.quant.ObserverSpec;

/**
 * Exponential moving average of the per-batch min and max (PyTorch's
 * {@code MovingAverageMinMaxObserver} and its per-channel twin in one class).
 *
 * <p>Update: the first batch sets min and max; afterwards min = min + c * (batch_min - min) and
 * max = max + c * (batch_max - max), c default 0.01, evaluated in the state's precision in that
 * order. No gradient. Paper: Jacob et al., arXiv:1712.05877.
 *
 * <p>Example spec string: {@code int(bits=8, signed=false, observer=ema(0.01))}.
 */
public final class EmaMinMaxObserver extends RangeObserver {

  public EmaMinMaxObserver(ObserverSpec spec) {
    super(spec, ObserverSpec.Kind.EMA);
  }

  @Override
  double combine(double running, double batch, boolean isMin, boolean single) {
    return ema(running, batch, spec.c(), single);
  }
}
