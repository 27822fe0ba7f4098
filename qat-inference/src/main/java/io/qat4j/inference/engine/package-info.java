/**
 * The integer-only inference engine: {@link io.qat4j.inference.engine.IntegerEngine} (the bit-exact reference, one
 * sample at a time, with accumulator statistics) and its layer implementations, and
 * {@link io.qat4j.inference.engine.FastEngine} (the same output codes for batches, vectorized and multi-threaded).
 * Everything in this package computes with int / long only (a test scans the sources and the bytecode); floating
 * point lives in {@code io.qat4j.inference.Quantization} at the boundaries.
 */
package io.qat4j.inference.engine;
