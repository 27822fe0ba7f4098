/**
 * Quantizer implementations, one per file: uniform integer, fixed point, binary, ternary, DoReFa
 * weights and activations, powers of two, minifloat, SAWB and the identity, built with
 * {@link io.qat4j.layers.quant.Quantizers#of(io.qat4j.layers.quant.QuantSpec)}; and the learned ones
 * (PACT, LSQ, QIL, TTQ), built with
 * {@link io.qat4j.layers.quant.Quantizers#learned(io.qat4j.layers.quant.QuantSpec)}.
 *
 * <p>Example spec string: {@code fixed(m=3, n=4, rounding=floor, overflow=wrap)}.
 */
package io.qat4j.layers.quant.quantizers;
