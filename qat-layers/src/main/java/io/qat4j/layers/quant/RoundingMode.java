package io.qat4j.layers.quant;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * How a real value on the integer grid becomes an integer code.
 *
 * <p>Example spec string: {@code int(bits=8, rounding=floor)}.
 */
public enum RoundingMode {
  /** Round half to even (IEEE default, PyTorch's {@code nearbyint}): 0.5 to 0, 1.5 to 2, -2.5 to -2. */
  NEAREST_EVEN("nearest_even"),
  /** Round half away from zero (C {@code round}): 0.5 to 1, -2.5 to -3. */
  NEAREST_AWAY("nearest_away"),
  /** Toward minus infinity, what an arithmetic right shift does: -0.5 to -1. */
  FLOOR("floor"),
  /** Toward zero (truncation of the magnitude): -1.5 to -1. */
  TOWARD_ZERO("toward_zero"),
  /** Up with probability equal to the fractional part, otherwise down; unbiased, seeded. */
  STOCHASTIC("stochastic");

  private final String specName;

  RoundingMode(String specName) {
    this.specName = specName;
  }

  /** The name used in spec strings. */
  public String specName() {
    return specName;
  }

  /**
   * Rounds {@code v} to an integer.
   *
   * @param rng random source, used only by {@link #STOCHASTIC} (may be null otherwise)
   */
  public double round(double v, SplittableRandom rng) {
    switch (this) {
      case NEAREST_EVEN:
        return Math.rint(v);
      case NEAREST_AWAY: {
        double a = Math.abs(v);
        double f = Math.floor(a);
        double r = (a - f) >= 0.5 ? f + 1 : f;
        return v < 0 ? -r : r;
      }
      case FLOOR:
        return Math.floor(v);
      case TOWARD_ZERO:
        return v < 0 ? Math.ceil(v) : Math.floor(v);
      case STOCHASTIC: {
        double f = Math.floor(v);
        double frac = v - f;
        return (frac > 0 && rng.nextDouble() < frac) ? f + 1 : f;
      }
      default:
        throw new IllegalStateException(name());
    }
  }

  /** Looks a mode up by its spec name; throws naming the allowed names. */
  public static RoundingMode fromSpecName(String name) {
    for (RoundingMode m : values()) {
      if (m.specName.equals(name)) {
        return m;
      }
    }
    throw new IllegalArgumentException("unknown rounding '" + name + "'; allowed: "
        + Arrays.stream(values()).map(RoundingMode::specName).collect(Collectors.joining(", ")));
  }
}
