/**
 * Fixed-point training: quantization of the backward half of DL4J's training step.
 *
 * <p>{@link io.qat4j.layers.train.GradientSpec} says what an error, a weight gradient, an update or an
 * optimizer-state tensor becomes (any quantizer spec, WAGE's {@code shift} and {@code wage}, TernGrad);
 * {@link io.qat4j.layers.train.GradientQuantizer} does the maths. Where each tensor is quantized:
 * errors in the layers ({@link io.qat4j.layers.train.ErrorSite}) and the loss
 * ({@link io.qat4j.layers.train.QuantizedLoss}); gradients before the updater
 * ({@link io.qat4j.layers.train.GradientQuantization}); optimizer state and loss-scale removal in the
 * updater ({@link io.qat4j.layers.train.QuantizedUpdater}); updates and stored weights after it
 * ({@link io.qat4j.layers.train.WeightUpdateQuantization}). {@link io.qat4j.layers.train.FixedPointTraining}
 * attaches them to a network configuration; {@link io.qat4j.layers.train.TrainingMonitor} gathers
 * per-layer diagnostics.
 */
package io.qat4j.layers.train;
