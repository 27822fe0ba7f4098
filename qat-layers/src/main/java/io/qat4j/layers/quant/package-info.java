/**
 * The quantization API: {@link io.qat4j.layers.quant.QuantSpec} (what a site does, as a canonical
 * string), {@link io.qat4j.layers.quant.Quantizer} (stateless forward/backward maths),
 * {@link io.qat4j.layers.quant.QuantContext} and {@link io.qat4j.layers.quant.QuantResult}, the
 * enums of the spec language, {@link io.qat4j.layers.quant.QParams} (the one range-to-qparams
 * formula) and {@link io.qat4j.layers.quant.Quantizers} (the one switch from spec to quantizer).
 *
 * <p>Example spec string: {@code int(bits=4, axis=channel, narrow=true)}; see docs/quantizers.md.
 */
package io.qat4j.layers.quant;
