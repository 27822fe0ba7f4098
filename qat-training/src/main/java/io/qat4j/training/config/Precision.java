package io.qat4j.training.config;

/**
 * A number format for one tensor: a bit width 1..31, or 32 meaning plain float (not quantized).
 *
 * @param bits bit width in 1..32; 32 means float
 */
public record Precision(int bits) {

    /** Not quantized. */
    public static final Precision FLOAT = new Precision(32);

    /** Checks the bit width. */
    public Precision {
        if (bits < 1 || bits > 32) {
            throw new IllegalArgumentException("bits must be in 1..32, got " + bits);
        }
    }

    /** True for 32 bits (written as {@code float} or {@code 32}): the tensor is not quantized. */
    public boolean isFloat() {
        return bits == 32;
    }

    /** {@code float} or the bit width. */
    @Override
    public String toString() {
        return isFloat() ? "float" : Integer.toString(bits);
    }

    /** Converts a resolved config value ({@code "float"}, an Integer, or null) to a Precision (or null). */
    static Precision from(Object value) {
        if (value == null) {
            return null;
        }
        return "float".equals(value) ? FLOAT : new Precision((Integer) value);
    }
}
