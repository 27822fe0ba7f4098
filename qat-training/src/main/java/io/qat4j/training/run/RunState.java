package io.qat4j.training.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a run has achieved so far, stored in {@code checkpoint.json} next to the checkpoint model it
 * names. The model file is written first and this file renamed into place after it, so the state
 * always points at a complete model.
 */
public final class RunState {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Epochs finished (and checkpointed). */
    public int epochsCompleted;
    /** Checkpoint model file, relative to the run directory. */
    public String checkpointModel;
    /** 1-based epoch of the best model so far, 0 if none. */
    public int bestEpoch;
    /** Validation accuracy of the best model (or NaN when the run has no validation split). */
    public double bestValidationAccuracy = Double.NaN;
    /** Epochs since the best one (for early stopping). */
    public int epochsWithoutImprovement;
    /** Seconds spent in training steps, over all sessions of the run. */
    public double trainSeconds;
    /** Images trained on, over all sessions. */
    public long trainImages;
    /** Wall-clock seconds of all sessions of the run, measured per epoch. */
    public double wallSeconds;
    /** One row per finished epoch. */
    public final List<EpochMetrics> rows = new ArrayList<>();
    /** Fixed-point diagnostics, one entry per finished epoch that had quantized backward paths (see {@link FixedPointDiagnostics}). */
    public final List<Map<String, Object>> fixedPoint = new ArrayList<>();

    /** Reads a state file written by {@link #save}. */
    @SuppressWarnings("unchecked")
    public static RunState load(Path file) {
        try {
            Map<String, Object> m = JSON.readValue(file.toFile(), Map.class);
            RunState s = new RunState();
            s.epochsCompleted = ((Number) m.get("epochs_completed")).intValue();
            s.checkpointModel = (String) m.get("checkpoint_model");
            s.bestEpoch = ((Number) m.get("best_epoch")).intValue();
            Object best = m.get("best_validation_accuracy");
            s.bestValidationAccuracy = best == null ? Double.NaN : ((Number) best).doubleValue();
            s.epochsWithoutImprovement = ((Number) m.get("epochs_without_improvement")).intValue();
            s.trainSeconds = ((Number) m.get("train_seconds")).doubleValue();
            s.trainImages = ((Number) m.get("train_images")).longValue();
            s.wallSeconds = ((Number) m.get("wall_seconds")).doubleValue();
            for (Map<String, Object> row : (List<Map<String, Object>>) m.get("rows")) {
                s.rows.add(EpochMetrics.fromMap(row));
            }
            Object fp = m.get("fixed_point");
            if (fp != null) {
                s.fixedPoint.addAll((List<Map<String, Object>>) fp);
            }
            return s;
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot read run state " + file + ": " + e.getMessage(), e);
        }
    }

    /** Writes the state atomically. */
    public void save(Path file) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epochs_completed", epochsCompleted);
        m.put("checkpoint_model", checkpointModel);
        m.put("best_epoch", bestEpoch);
        m.put("best_validation_accuracy", Double.isFinite(bestValidationAccuracy) ? bestValidationAccuracy : null);
        m.put("epochs_without_improvement", epochsWithoutImprovement);
        m.put("train_seconds", trainSeconds);
        m.put("train_images", trainImages);
        m.put("wall_seconds", wallSeconds);
        m.put("rows", rows.stream().map(EpochMetrics::toMap).toList());
        if (!fixedPoint.isEmpty()) {
            m.put("fixed_point", fixedPoint);
        }
        try {
            String text = JSON.writeValueAsString(m);
            AtomicFiles.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static boolean exists(Path file) {
        return Files.isRegularFile(file);
    }
}
