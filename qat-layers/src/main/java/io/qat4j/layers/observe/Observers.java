package io.qat4j.layers.observe;

import io.qat4j.layers.observe.observers.EmaMinMaxObserver;
import io.qat4j.layers.observe.observers.MinMaxObserver;
import io.qat4j.layers.observe.observers.PercentileObserver;
import io.qat4j.layers.quant.ObserverSpec;

/**
 * The one switch from an observer spec to the observer.
 *
 * <p>Example: {@code Observers.of(QuantSpec.parse("int(bits=8, observer=ema(0.01))").observer())}.
 */
public final class Observers {
  private Observers() {
  }

  /** The observer for a spec; {@code none} has no observer and is rejected. */
  public static Observer of(ObserverSpec spec) {
    return switch (spec.kind()) {
      case MINMAX -> new MinMaxObserver(spec);
      case EMA -> new EmaMinMaxObserver(spec);
      case PERCENTILE -> new PercentileObserver(spec);
      case NONE -> throw new IllegalArgumentException("observer 'none' has no observer object; allowed: minmax, ema,"
          + " percentile");
    };
  }
}
