package io.qat4j.inference.engine;

/**
 * Accumulator width B (2..32 bits) and overflow behavior of the engine's conv / dense accumulators.
 * {@link #INT32} (B = 32, wrap) is what int32 hardware computes.
 */
public record EngineConfig(int accumulatorBits, OverflowMode overflow) {

  /** 32-bit accumulators with two's-complement wrap. */
  public static final EngineConfig INT32 = new EngineConfig(32, OverflowMode.WRAP);

  /** Validates the width and mode. */
  public EngineConfig {
    if (accumulatorBits < 2 || accumulatorBits > 32) {
      throw new IllegalArgumentException("accumulator bits " + accumulatorBits + " not allowed; allowed: 2..32");
    }
    if (overflow == null) {
      throw new IllegalArgumentException("overflow mode null not allowed; allowed: wrap, saturate");
    }
  }
}
