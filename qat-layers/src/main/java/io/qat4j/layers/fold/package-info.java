/**
 * Batch-normalization folding: the post-training transform that merges a normalization layer into
 * the convolution or dense layer before it, as integer-only inference requires (DL4J's
 * {@code BatchNormalization} and the RangeBN / L1BN {@code DeviationBatchNorm}).
 */
package io.qat4j.layers.fold;
