package io.qat4j.training.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * A validated experiment configuration loaded from YAML, with {@code extends:} resolved, {@code --set} overrides
 * applied and every default filled in.
 *
 * <p>Loading is strict: unknown keys, wrong types, out-of-range values and missing required keys are all collected
 * and thrown together as one {@link ConfigException}, each with the file and line where the value was written.
 * A key given as null (an empty value) counts as not given, so its default applies. The {@code name} key is never
 * inherited through {@code extends}.
 */
public final class ExperimentConfig {

    private final Path sourceFile;
    private final String name;
    private final Map<String, Object> resolved;
    private final DatasetConfig dataset;
    private final ModelConfig model;
    private final TrainingConfig training;
    private final QuantizationConfig quantization;

    private ExperimentConfig(Path sourceFile, Map<String, Object> resolved) {
        this.sourceFile = sourceFile;
        this.resolved = resolved;
        this.name = (String) resolved.get("name");
        this.dataset = DatasetConfig.from(section("dataset"));
        this.model = ModelConfig.from(section("model"));
        this.training = TrainingConfig.from(section("training"));
        this.quantization = QuantizationConfig.from(section("quantization"));
    }

    /**
     * Loads, merges, overrides and validates a config.
     *
     * @param file      the YAML file
     * @param overrides command-line overrides such as {@code training.epochs=3} (may be null)
     * @throws ConfigException listing every problem found
     */
    public static ExperimentConfig load(Path file, List<String> overrides) {
        ConfigNode root = YamlLoader.load(file);
        List<ConfigProblem> problems = new ArrayList<>();
        for (String override : overrides == null ? List.<String>of() : overrides) {
            YamlLoader.applyOverride(root, override, problems);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> checked =
                (Map<String, Object>) ExperimentSchema.ROOT.check(root, "", Map.of(), problems);
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        Map<String, Object> resolved = new LinkedHashMap<>();
        resolved.put("name", checked.containsKey("name") ? checked.get("name") : defaultName(file));
        checked.forEach((key, value) -> {
            if (!key.equals("name")) {
                resolved.put(key, value);
            }
        });
        @SuppressWarnings("unchecked")
        Map<String, Object> frozen = (Map<String, Object>) freeze(resolved);
        return new ExperimentConfig(file, frozen);
    }

    /** The experiment name: {@code name:} if given, else the file name without {@code .yaml}. */
    public String name() {
        return name;
    }

    public DatasetConfig dataset() {
        return dataset;
    }

    public ModelConfig model() {
        return model;
    }

    public TrainingConfig training() {
        return training;
    }

    public QuantizationConfig quantization() {
        return quantization;
    }

    /** {@code init_from}: a trained model zip whose parameters initialize the network, or null. */
    public String initFrom() {
        return (String) resolved.get("init_from");
    }

    /** The file this config was loaded from. */
    public Path sourceFile() {
        return sourceFile;
    }

    /** The fully resolved config as an unmodifiable nested map in schema order (defaults filled, no {@code extends}). */
    public Map<String, Object> resolved() {
        return resolved;
    }

    /** The resolved config as YAML; loading it back gives an equal config. */
    public String toYaml() {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setIndent(2);
        options.setWidth(120);
        return new Yaml(options).dump(resolved);
    }

    /** Two configs are equal if their resolved maps (which include the name) are equal. */
    @Override
    public boolean equals(Object o) {
        return o instanceof ExperimentConfig other && resolved.equals(other.resolved);
    }

    @Override
    public int hashCode() {
        return resolved.hashCode();
    }

    @Override
    public String toString() {
        return "ExperimentConfig" + resolved;
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> section(String key) {
        return (Map<String, Object>) resolved.get(key);
    }

    private static String defaultName(Path file) {
        String fileName = file.getFileName().toString();
        for (String suffix : List.of(".yaml", ".yml")) {
            if (fileName.endsWith(suffix)) {
                return fileName.substring(0, fileName.length() - suffix.length());
            }
        }
        return fileName;
    }

    /** A deep unmodifiable copy of a plain value tree. */
    private static Object freeze(Object value) {
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> copy = new LinkedHashMap<>();
            map.forEach((k, v) -> copy.put((String) k, freeze(v)));
            return Collections.unmodifiableMap(copy);
        }
        if (value instanceof List<?> list) {
            List<Object> copy = new ArrayList<>();
            list.forEach(v -> copy.add(freeze(v)));
            return Collections.unmodifiableList(copy);
        }
        return value;
    }
}
