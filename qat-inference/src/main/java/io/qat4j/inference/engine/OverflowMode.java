package io.qat4j.inference.engine;

import java.util.Locale;

/**
 * What a narrow accumulator does when a partial sum leaves [-2^(B-1), 2^(B-1) - 1]: WRAP keeps the low B
 * bits (two's complement, what an adder without checks does), SATURATE clamps to the range. Either way the
 * event is counted (Sakr et al., "Accumulation bit-width scaling", arXiv:1901.06588).
 */
public enum OverflowMode {
  /** Two's-complement wrap-around modulo 2^B. */
  WRAP,
  /** Clamp to the representable range. */
  SATURATE;

  /** Parses "wrap" or "saturate" (any case). */
  public static OverflowMode fromName(String name) {
    for (OverflowMode m : values()) {
      if (m.name().equalsIgnoreCase(name)) {
        return m;
      }
    }
    throw new IllegalArgumentException("overflow mode '" + name + "' not allowed; allowed: wrap, saturate");
  }

  /** Lower-case name. */
  public String specName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
