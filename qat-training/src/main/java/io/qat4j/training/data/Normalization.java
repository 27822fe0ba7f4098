package io.qat4j.training.data;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** How raw 8-bit pixel values are mapped to the float features fed to a network. */
public enum Normalization {
    /** {@code x / 255}, giving values in [0, 1]. */
    UNIT("unit"),
    /**
     * Per-channel {@code (x / 255 - mean_c) / std_c}, with mean and standard deviation computed
     * from the training split actually used (after the validation hold-out and subsetting).
     */
    STANDARDIZE("standardize");

    private final String yamlName;

    Normalization(String yamlName) {
        this.yamlName = yamlName;
    }

    /** The lower-case name used in experiment files ({@code unit} or {@code standardize}). */
    public String yamlName() {
        return yamlName;
    }

    /**
     * Parses a normalization name, case-insensitively.
     *
     * @throws IllegalArgumentException if the name is unknown; the message lists the allowed names
     */
    public static Normalization fromName(String name) {
        if (name != null) {
            String n = name.trim().toLowerCase(Locale.ROOT);
            for (Normalization v : values()) {
                if (v.yamlName.equals(n)) {
                    return v;
                }
            }
        }
        throw new IllegalArgumentException("unknown normalization '" + name + "'; allowed: "
                + Arrays.stream(values()).map(Normalization::yamlName).collect(Collectors.joining(", ")));
    }
}
