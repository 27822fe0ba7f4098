package io.qat4j.layers.quant;

/**
 * Which elements share one scale (and zero point).
 *
 * <p>Example spec strings: {@code int8} (tensor), {@code int(bits=8, axis=channel)} (channel),
 * {@code int(bits=4, group=32)} (group).
 */
public enum Granularity {
  /** One scale for the whole tensor. */
  TENSOR,
  /** One scale per index along an axis (the layer's channel axis or an explicit one). */
  CHANNEL,
  /** One scale per group of G consecutive elements within each slice along an axis. */
  GROUP
}
