/**
 * Observer implementations: running min/max, EMA min/max and EMA percentile, each handling both
 * per-tensor and per-channel ranges through the axis argument.
 *
 * <p>Example spec string: {@code int(bits=8, observer=percentile(99.99))}.
 */
package io.qat4j.layers.observe.observers;
