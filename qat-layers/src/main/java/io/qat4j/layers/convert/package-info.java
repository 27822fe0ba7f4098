/**
 * Conversion of float DL4J networks into quantization-aware ones:
 * {@link io.qat4j.layers.convert.QatConverter} replaces Dense, Convolution, DepthwiseConvolution,
 * SeparableConvolution and Output layers by their quantized twins ({@link io.qat4j.layers.convert.LayerTwins})
 * as a {@link io.qat4j.layers.convert.QuantizationRule} says, optionally folds batch normalization into the
 * layer before it and quantizes residual additions, copies configuration and trained parameters, and reports
 * what it did to each layer ({@link io.qat4j.layers.convert.ConversionReport}).
 *
 * <p>Example: {@code QatConverter.convert(net, QuantizationRule.uniform(QuantSites.of("float",
 * "int(bits=8, axis=channel)", "float", "float")), QatConverter.Options.DEFAULTS.withFoldBatchNorm(true))}.
 */
package io.qat4j.layers.convert;
