/**
 * Conversion of float DL4J networks into quantization-aware ones:
 * {@link io.qat4j.layers.convert.QatConverter} replaces Dense, Convolution, DepthwiseConvolution and
 * Output layers by their quantized twins as a {@link io.qat4j.layers.convert.QuantizationRule} says,
 * copying configuration and trained parameters.
 *
 * <p>Example: {@code QatConverter.quantize(net, QuantizationRule.uniform(QuantSites.of("float",
 * "int(bits=8, axis=channel)", "float", "float")))}.
 */
package io.qat4j.layers.convert;
