package io.qat4j.training.config;

import io.qat4j.layers.quant.QuantSpec;

/**
 * The number format of one site, as written in the {@code quantization} section: a bit width
 * (the site's usual quantizer at that many bits), {@code float}, or a full quantizer spec string
 * such as {@code ternary} or {@code int(bits=4, axis=channel)} (see docs/quantizers.md).
 *
 * @param bits bit width in 1..32 (32 means float); for a spec, the spec's bits
 * @param spec the spec when one was written, else null
 */
public record Precision(int bits, QuantSpec spec) {

    /** Not quantized. */
    public static final Precision FLOAT = new Precision(32);

    /** Checks the bit width. */
    public Precision {
        if (spec == null && (bits < 1 || bits > 32)) {
            throw new IllegalArgumentException("bits must be in 1..32, got " + bits);
        }
    }

    /** A plain bit width. */
    public Precision(int bits) {
        this(bits, null);
    }

    /** A spec string ({@code float} gives {@link #FLOAT}). */
    public static Precision ofSpec(String text) {
        QuantSpec s = QuantSpec.parse(text);
        return s.isFloat() ? FLOAT : new Precision(s.bits(), s);
    }

    /** True for 32 bits (written as {@code float} or {@code 32}) or a float spec: the tensor is not quantized. */
    public boolean isFloat() {
        return spec == null ? bits == 32 : spec.isFloat();
    }

    /** {@code float}, the bit width, or the canonical spec. */
    @Override
    public String toString() {
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
