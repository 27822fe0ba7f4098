package io.qat4j.training.report;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qat4j.training.UserException;
import io.qat4j.training.run.EpochMetrics;
import io.qat4j.training.run.RunDirectory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a run directory holds, read once for the report: {@code summary.json}, {@code config.yaml},
 * {@code metrics.json} (epoch rows and {@code fixed_point} diagnostics) and, when the run was exported,
 * {@code export/manifest.json} and {@code export/simulate.json}. Missing optional files are null or empty; the JSON
 * files are read as trees, so fields added later do not break the report.
 *
 * @param dir        the run directory
 * @param summary    {@code summary.json}, or null while the run has not ended
 * @param configText {@code config.yaml} as written by the run
 * @param epochs     the rows of {@code metrics.json}, in epoch order (empty before the first epoch ends)
 * @param fixedPoint the {@code fixed_point} entries of {@code metrics.json} (fixed-point training runs only)
 * @param manifest   {@code export/manifest.json}, or null when the run was not exported
 * @param simulate   {@code export/simulate.json}, or null when the export was not simulated
 */
record RunData(RunDirectory dir, JsonNode summary, String configText, List<EpochMetrics> epochs,
               List<Map<String, Object>> fixedPoint, JsonNode manifest, JsonNode simulate) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The export directory of a run, {@code RUN_DIR/export} (where {@code qat export} writes by default). */
    static Path exportDir(RunDirectory dir) {
        return dir.root().resolve("export");
    }

    /**
     * Reads a run directory.
     *
     * @throws UserException when {@code root} is no run directory (no {@code config.yaml}) or a file is unreadable
     */
    static RunData read(Path root) {
        RunDirectory dir = new RunDirectory(root);
        if (!Files.isRegularFile(dir.config())) {
            throw new UserException(root + " has no config.yaml; is it a run directory of 'qat train'?");
        }
        try {
            String config = Files.readString(dir.config(), StandardCharsets.UTF_8);
            JsonNode summary = tree(dir.summary());
            List<EpochMetrics> epochs = new ArrayList<>();
            List<Map<String, Object>> fixedPoint = new ArrayList<>();
            if (Files.isRegularFile(dir.metricsJson())) {
                Map<String, Object> doc = JSON.readValue(dir.metricsJson().toFile(), new TypeReference<>() {
                });
                for (Object row : list(doc.get("epochs"))) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> m = (Map<String, Object>) row;
                    epochs.add(EpochMetrics.fromMap(m));
                }
                for (Object e : list(doc.get("fixed_point"))) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> m = (Map<String, Object>) e;
                    fixedPoint.add(m);
                }
            }
            Path export = exportDir(dir);
            return new RunData(dir, summary, config, List.copyOf(epochs), List.copyOf(fixedPoint),
                    tree(export.resolve("manifest.json")), tree(export.resolve("simulate.json")));
        } catch (IOException | RuntimeException e) {
            if (e instanceof UserException u) {
                throw u;
            }
            throw new UserException("cannot read run directory " + root + ": " + e.getMessage(), e);
        }
    }

    /** The run's name: summary.json's {@code run}, else the directory name. */
    String name() {
        return summary != null && summary.hasNonNull("run") ? summary.get("run").asText()
                : dir.root().toAbsolutePath().normalize().getFileName().toString();
    }

    /** The model zip the report evaluates: {@code best.zip}, else {@code last.zip}, else null. */
    Path model() {
        if (Files.isRegularFile(dir.bestModel())) {
            return dir.bestModel();
        }
        return Files.isRegularFile(dir.lastModel()) ? dir.lastModel() : null;
    }

    /** A number of summary.json, NaN when missing or null. */
    double summaryNumber(String key) {
        JsonNode v = summary == null ? null : summary.get(key);
        return v == null || !v.isNumber() ? Double.NaN : v.asDouble();
    }

    /** A field of summary.json as text, or {@link Html#NONE}. */
    String summaryText(String key) {
        JsonNode v = summary == null ? null : summary.get(key);
        return v == null || v.isNull() ? Html.NONE : v.asText();
    }

    private static JsonNode tree(Path file) throws IOException {
        return Files.isRegularFile(file) ? JSON.readTree(file.toFile()) : null;
    }

    private static List<?> list(Object o) {
        return o instanceof List<?> l ? l : List.of();
    }
}
