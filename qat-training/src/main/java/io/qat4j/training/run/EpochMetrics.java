package io.qat4j.training.run;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One row of {@code metrics.csv} / {@code metrics.json}: what one epoch measured.
 *
 * <p>Losses are the mean loss per example (cross-entropy, or with {@code training.loss: sse} the squared
 * error summed over the classes), without regularization terms; accuracies are
 * fractions in [0, 1]. {@code trainAccuracy} is measured after the epoch on a fixed sample of the
 * training split (see {@link Trainer#TRAIN_EVAL_SIZE}); a missing value (no validation split) is NaN.
 * {@code learned} holds the learned quantizer parameters at the end of the epoch, by column name
 * {@code <layer>.<key>} (per-channel parameters as their mean, {@code <layer>.<key>.mean}); see
 * {@link LearnedParameters}.
 */
public record EpochMetrics(int epoch, double learningRate, double trainLoss, double trainAccuracy,
                           double validationLoss, double validationAccuracy, double testLoss, double testAccuracy,
                           double imagesPerSecond, double trainSeconds, double epochSeconds,
                           Map<String, Double> learned) {

    /** Column names, in order, as written to the CSV and JSON files (learned parameters follow them). */
    public static final List<String> COLUMNS = List.of("epoch", "learning_rate", "train_loss", "train_accuracy",
            "validation_loss", "validation_accuracy", "test_loss", "test_accuracy", "images_per_second",
            "train_seconds", "epoch_seconds");

    /** Copies the learned values (in their order). */
    public EpochMetrics {
        learned = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(learned == null ? Map.of() : learned));
    }

    /** A row without learned quantizer parameters. */
    public EpochMetrics(int epoch, double learningRate, double trainLoss, double trainAccuracy, double validationLoss,
                        double validationAccuracy, double testLoss, double testAccuracy, double imagesPerSecond,
                        double trainSeconds, double epochSeconds) {
        this(epoch, learningRate, trainLoss, trainAccuracy, validationLoss, validationAccuracy, testLoss, testAccuracy,
                imagesPerSecond, trainSeconds, epochSeconds, Map.of());
    }

    /** The row as an ordered map (the fixed columns, then the learned parameters); NaN becomes null. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epoch", epoch);
        m.put("learning_rate", num(learningRate));
        m.put("train_loss", num(trainLoss));
        m.put("train_accuracy", num(trainAccuracy));
        m.put("validation_loss", num(validationLoss));
        m.put("validation_accuracy", num(validationAccuracy));
        m.put("test_loss", num(testLoss));
        m.put("test_accuracy", num(testAccuracy));
        m.put("images_per_second", num(imagesPerSecond));
        m.put("train_seconds", num(trainSeconds));
        m.put("epoch_seconds", num(epochSeconds));
        learned.forEach((k, v) -> m.put(k, num(v)));
        return m;
    }

    /** Reads a row written by {@link #toMap()} (null becomes NaN; keys beyond the fixed columns are learned values). */
    public static EpochMetrics fromMap(Map<String, ?> m) {
        Map<String, Double> learned = new LinkedHashMap<>();
        for (String k : m.keySet()) {
            if (!COLUMNS.contains(k)) {
                learned.put(k, d(m, k));
            }
        }
        return new EpochMetrics(((Number) m.get("epoch")).intValue(), d(m, "learning_rate"), d(m, "train_loss"),
                d(m, "train_accuracy"), d(m, "validation_loss"), d(m, "validation_accuracy"), d(m, "test_loss"),
                d(m, "test_accuracy"), d(m, "images_per_second"), d(m, "train_seconds"), d(m, "epoch_seconds"), learned);
    }

    private static Object num(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static double d(Map<String, ?> m, String key) {
        Object v = m.get(key);
        return v == null ? Double.NaN : ((Number) v).doubleValue();
    }
}
