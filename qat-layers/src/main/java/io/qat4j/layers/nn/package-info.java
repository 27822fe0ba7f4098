/**
 * Quantization-aware DL4J layer configurations: {@code QuantDense}, {@code QuantConv2D},
 * {@code QuantDepthwiseConv2D}, {@code QuantOutput}, {@code QuantActivation} and the residual
 * {@code QuantAddVertex}, each with the four sites of {@link io.qat4j.layers.nn.QuantSites} (input,
 * weights, bias, output); {@code QuantConvBN2D} and {@code QuantDenseBN} fold batch normalization into
 * their weights during training, and {@code BnFreezeListener} freezes their statistics by epoch.
 * Implementations are in {@code io.qat4j.layers.nn.impl}.
 *
 * <p>Example: {@code new QuantDense.Builder().nOut(100).weightQuant("int(bits=4, axis=channel)").build()}.
 *
 * <p>{@code DeviationBatchNorm} is batch normalization for low-precision training with the standard
 * deviation replaced by a cheaper estimate ({@link io.qat4j.layers.nn.NormKind}: RangeBN or L1BN).
 */
package io.qat4j.layers.nn;
