package io.qat4j.training.config;

import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.train.GradientSpec;

/**
 * The number format of one site, as written in the {@code quantization} section: a bit width
 * (the site's usual quantizer at that many bits), {@code float}, or a full quantizer spec string
 * such as {@code ternary} or {@code int(bits=4, axis=channel)} (see docs/quantizers.md). The backward paths
 * ({@code gradients}, {@code errors}) also take the gradient-path forms {@code shift(...)}, {@code wage(...)}
 * and {@code terngrad(...)} of {@link GradientSpec}.
 *
 * @param bits     bit width in 1..32 (32 means float); for a spec, the spec's bits
 * @param spec     the quantizer spec when one was written, else null
 * @param gradient the gradient-path form when one was written ({@code shift}, {@code wage}, {@code terngrad}),
 *                 else null
 */
public record Precision(int bits, QuantSpec spec, GradientSpec gradient) {

    /** Not quantized. */
    public static final Precision FLOAT = new Precision(32);

    /** Checks the bit width. */
    public Precision {
        if (spec == null && gradient == null && (bits < 1 || bits > 32)) {
            throw new IllegalArgumentException("bits must be in 1..32, got " + bits);
        }
        if (spec != null && gradient != null) {
            throw new IllegalArgumentException("a precision is a quantizer spec or a gradient-path form, not both");
        }
    }

    /** A quantizer spec with its bits. */
    public Precision(int bits, QuantSpec spec) {
        this(bits, spec, null);
    }

    /** A plain bit width. */
    public Precision(int bits) {
        this(bits, null, null);
    }

    /** A spec string ({@code float} gives {@link #FLOAT}); gradient-path forms give a {@link #gradient()}. */
    public static Precision ofSpec(String text) {
        if (GradientSpec.isGradientForm(text)) {
            GradientSpec g = GradientSpec.parse(text);
            return new Precision(g.bits(), null, g);
        }
        QuantSpec s = QuantSpec.parse(text);
        return s.isFloat() ? FLOAT : new Precision(s.bits(), s);
    }

    /** True for 32 bits (written as {@code float} or {@code 32}) or a float spec: the tensor is not quantized. */
    public boolean isFloat() {
        if (gradient != null) {
            return gradient.isFloat();
        }
        return spec == null ? bits == 32 : spec.isFloat();
    }

    /** {@code float}, the bit width, or the canonical spec. */
    @Override
    public String toString() {
        if (gradient != null) {
            return gradient.toString();
        }
        if (spec != null) {
            return spec.toString();
        }
        return isFloat() ? "float" : Integer.toString(bits);
    }

    /** Converts a resolved config value ({@code "float"}, an Integer, a spec string, or null) to a Precision (or null). */
    static Precision from(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof Integer i) {
            return new Precision(i);
        }
        return "float".equals(value) ? FLOAT : ofSpec((String) value);
    }
}
