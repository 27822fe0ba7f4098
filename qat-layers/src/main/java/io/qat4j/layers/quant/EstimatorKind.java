package io.qat4j.layers.quant;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Names of the gradient estimators a spec can ask for; {@code io.qat4j.layers.ste.Estimators} turns
 * a name into the object.
 *
 * <p>Example spec string: {@code binary(ste=approx_sign)}.
 */
public enum EstimatorKind {
  /** Straight-through: dy/dx = 1. */
  IDENTITY("identity"),
  /** Straight-through inside the representable range, 0 outside. */
  CLIPPED("clipped"),
  /** Bi-Real Net's piecewise-polynomial sign approximation: 2 - 2|x| for |x| &lt; 1. */
  APPROX_SIGN("approx_sign"),
  /** BNN's hard tanh: 1 for |x| &lt;= 1. */
  HARDTANH("hardtanh"),
  /** Gradient through DoReFa's tanh normalization. */
  DOREFA_W("dorefa_w");

  private final String specName;

  EstimatorKind(String specName) {
    this.specName = specName;
  }

  /** The name used in spec strings. */
  public String specName() {
    return specName;
  }

  /** Looks an estimator up by its spec name; throws naming the allowed names. */
  public static EstimatorKind fromSpecName(String name) {
    for (EstimatorKind k : values()) {
      if (k.specName.equals(name)) {
        return k;
      }
    }
    throw new IllegalArgumentException("unknown ste '" + name + "'; allowed: "
        + Arrays.stream(values()).map(EstimatorKind::specName).collect(Collectors.joining(", ")));
  }
}
