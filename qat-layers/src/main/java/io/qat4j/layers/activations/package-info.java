/**
 * Parameter-free quantized activation functions ({@code IActivation}s) for stock DL4J layers:
 * {@code new DenseLayer.Builder().activation(ActivationQuant.relu6(4))}. Stateful (observed) activation
 * quantization needs the {@code io.qat4j.layers.nn.QuantActivation} layer instead.
 */
package io.qat4j.layers.activations;
