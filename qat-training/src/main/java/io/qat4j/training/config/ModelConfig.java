package io.qat4j.training.config;

import java.util.List;
import java.util.Map;

/**
 * The {@code model:} section: the model name and its options, with every option's default filled in.
 *
 * <p>lenet5 options: {@code variant} (caffe | wage), {@code batch_norm}, {@code dropout}, {@code activation}.
 * mlp options: {@code hidden} (list of layer widths), {@code batch_norm}, {@code dropout}, {@code activation}.
 * {@code batch_norm} is {@code false}, {@code true} or one of {@link ConfigNames#BATCH_NORMS} (kept as written:
 * a Boolean or a String; {@link #optText} reads either).
 * Both: {@code fold_bn} and the optional {@code freeze_bn_after} (epochs) or {@code freeze_bn_after_iterations}.
 * {@code dropout} is the probability of dropping an activation (DL4J's {@code dropOut(p)} takes the probability of
 * keeping it, i.e. {@code 1 - dropout}).
 *
 * @param name    one of {@link ConfigNames#MODELS}
 * @param options unmodifiable map of option name to value (String, Boolean, Double or List of Integer)
 */
public record ModelConfig(String name, Map<String, Object> options) {

    /** A string option, e.g. {@code optString("variant")}. */
    public String optString(String key) {
        return (String) option(key);
    }

    /** An integer option. */
    public int optInt(String key) {
        return ((Number) option(key)).intValue();
    }

    /** An optional integer option without a default, e.g. {@code freeze_bn_after}: null when not given. */
    public Integer optIntOrNull(String key) {
        Object value = options.get(key);
        return value == null ? null : ((Number) value).intValue();
    }

    /** A number option, e.g. {@code optDouble("dropout")}. */
    public double optDouble(String key) {
        return ((Number) option(key)).doubleValue();
    }

    /** Any scalar option as text, e.g. {@code optText("batch_norm")} gives {@code false}, {@code true} or {@code range}. */
    public String optText(String key) {
        return String.valueOf(option(key));
    }

    /** A boolean option. */
    public boolean optBool(String key) {
        return (Boolean) option(key);
    }

    /** A list-of-integers option, e.g. {@code optIntList("hidden")}. */
    @SuppressWarnings("unchecked")
    public List<Integer> optIntList(String key) {
        return (List<Integer>) option(key);
    }

    private Object option(String key) {
        Object value = options.get(key);
        if (value == null) {
            throw new IllegalArgumentException("model " + name + " has no option '" + key + "'; options are "
                    + options.keySet());
        }
        return value;
    }

    @SuppressWarnings("unchecked")
    static ModelConfig from(Map<String, Object> m) {
        return new ModelConfig((String) m.get("name"), (Map<String, Object>) m.get("options"));
    }
}
