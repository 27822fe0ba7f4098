/**
 * Reference networks (LeNet-5, MLP) built from a model name plus options.
 *
 * <p>{@link io.qat4j.zoo.ModelZoo} is the one place where a model name becomes a network
 * configuration. Every model names its layers ({@code conv1}, {@code fc1}, {@code output}, ...)
 * so that quantization plans can address them by name or by {@link io.qat4j.zoo.LayerKind}.
 */
package io.qat4j.zoo;
