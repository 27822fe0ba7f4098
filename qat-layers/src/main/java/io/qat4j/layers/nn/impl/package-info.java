/**
 * Runtime implementations of the quantized layers and vertices and of {@code DeviationBatchNorm}
 * ({@code *Impl}); {@code SiteRuntime} holds the quantize-and-estimate logic the quantized layers
 * share, {@code FusedBnImpl} the batch-norm fold of the fused layers. Users configure networks with the
 * classes in {@code io.qat4j.layers.nn}, not with these.
 */
package io.qat4j.layers.nn.impl;
