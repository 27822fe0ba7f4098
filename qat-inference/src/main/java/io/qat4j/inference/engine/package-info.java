/**
 * The integer-only inference engine: {@link io.qat4j.inference.engine.IntegerEngine} and its layer
 * implementations. Everything in this package computes with int / long only (a test scans the sources and
 * the bytecode); floating point lives in {@code io.qat4j.inference.Quantization} at the boundaries.
 */
package io.qat4j.inference.engine;
