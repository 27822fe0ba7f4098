package io.qat4j.layers.quant;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * What happens to a value beyond the representable range.
 *
 * <p>Integer formats ({@code int}, {@code fixed}) allow {@code saturate}, {@code saturate_symmetric}
 * and {@code wrap}; {@code minifloat} allows {@code saturate} and {@code infinity}.
 *
 * <p>Example spec string: {@code fixed(m=3, n=4, overflow=wrap)}.
 */
public enum OverflowMode {
  /** Clamp the code to [qmin, qmax]. */
  SATURATE("saturate"),
  /** Clamp the code to [-qmax, qmax] (a narrow, symmetric range: -128 never appears in int8). */
  SATURATE_SYMMETRIC("saturate_symmetric"),
  /** Two's complement wrap-around: the code modulo 2^bits, as an integer register overflows. */
  WRAP("wrap"),
  /** Minifloat only: overflow gives infinity (or NaN in formats without infinities, like E4M3). */
  INFINITY("infinity");

  private final String specName;

  OverflowMode(String specName) {
    this.specName = specName;
  }

  /** The name used in spec strings. */
  public String specName() {
    return specName;
  }

  /** Looks a mode up by its spec name; throws naming the allowed names. */
  public static OverflowMode fromSpecName(String name) {
    for (OverflowMode m : values()) {
      if (m.specName.equals(name)) {
        return m;
      }
    }
    throw new IllegalArgumentException("unknown overflow '" + name + "'; allowed: "
        + Arrays.stream(values()).map(OverflowMode::specName).collect(Collectors.joining(", ")));
  }
}
