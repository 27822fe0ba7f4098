package io.qat4j.inference.engine;

/**
 * A B-bit accumulator: value = fit(value + p) after each addition, where fit wraps (low B bits, sign
 * extended) or saturates when the sum leaves [-2^(B-1), 2^(B-1) - 1], counting each such event. The exact
 * (64-bit) partial sums are tracked alongside to report the width actually needed.
 */
final class Accumulator {
  private final int bits;
  private final boolean saturate;
  private final long lo;
  private final long hi;
  private long value;
  private long exact;
  private long exactMin;
  private long exactMax;
  private long additions;
  private long overflows;

  Accumulator(EngineConfig config) {
    this.bits = config.accumulatorBits();
    this.saturate = config.overflow() == OverflowMode.SATURATE;
    this.lo = -(1L << (bits - 1));
    this.hi = (1L << (bits - 1)) - 1;
  }

  /** Starts a new sum at the given initial value (the bias), which is itself fitted. */
  void start(long initial) {
    exact = initial;
    track();
    value = fit(initial);
  }

  /** Adds one product. */
  void add(long p) {
    additions++;
    exact += p;
    track();
    value = fit(value + p);
  }

  /** The accumulated B-bit value (fits in an int since B &lt;= 32). */
  int value() {
    return (int) value;
  }

  private void track() {
    if (exact < exactMin) {
      exactMin = exact;
    }
    if (exact > exactMax) {
      exactMax = exact;
    }
  }

  private long fit(long v) {
    if (v >= lo && v <= hi) {
      return v;
    }
    overflows++;
    if (saturate) {
      return v < lo ? lo : hi;
    }
    int drop = 64 - bits;
    return (v << drop) >> drop;
  }

  long additions() {
    return additions;
  }

  long overflows() {
    return overflows;
  }

  /** Smallest signed width holding every exact partial sum seen (1 if all were 0). */
  int bitsSeen() {
    long m = Math.max(exactMax, -(exactMin + 1));
    return 65 - Long.numberOfLeadingZeros(m);
  }

  void reset() {
    additions = 0;
    overflows = 0;
    exactMin = 0;
    exactMax = 0;
  }
}
