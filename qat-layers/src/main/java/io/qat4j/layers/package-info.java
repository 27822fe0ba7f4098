/**
 * Quantizers, observers, gradient estimators and quantization-aware DL4J layers.
 *
 * <p>This module knows nothing of configuration files, command lines or data sets: it is the
 * library a user imports into an ordinary DL4J network.
 */
package io.qat4j.layers;
