/**
 * Range observers: the {@link io.qat4j.layers.observe.Observer} interface (state in a caller-owned
 * flat array) and {@link io.qat4j.layers.observe.Observers}, the switch from spec to observer.
 *
 * <p>Example spec string: {@code int(bits=8, signed=false, observer=ema(0.01))}.
 */
package io.qat4j.layers.observe;
