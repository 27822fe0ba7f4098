/**
 * Fixed-point export and integer-only inference without DL4J: {@link io.qat4j.inference.Requantizer}
 * (real multiplier to integer multiplier and shift), {@link io.qat4j.inference.Quantization} (the float
 * boundary), {@link io.qat4j.inference.AccumulatorWidth}; the format in
 * {@link io.qat4j.inference.format}, the engine in {@link io.qat4j.inference.engine}.
 */
package io.qat4j.inference;
