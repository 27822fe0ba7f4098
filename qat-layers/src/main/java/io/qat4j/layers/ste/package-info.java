/**
 * Gradient estimators (straight-through and friends), all in this one package: identity, clipped,
 * Bi-Real Net's approx-sign, BNN's hard tanh and DoReFa's weight normalization. Layers never build
 * masks themselves; {@link io.qat4j.layers.ste.Estimators#of} is the one switch.
 *
 * <p>Example spec string: {@code binary(ste=approx_sign)}.
 */
package io.qat4j.layers.ste;
