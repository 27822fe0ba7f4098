package io.qat4j.training.run;

import java.nio.file.Path;

/**
 * The files of one training run. Layout:
 * <pre>
 *   config.yaml          the fully resolved experiment configuration
 *   metrics.csv/.json    one row per epoch
 *   learning-curves.png  loss and accuracy per epoch
 *   learned-params.png   learned quantizer parameters per epoch (runs with learned quantizers only)
 *   fixed-point.png      per-layer error and gradient diagnostics (fixed-point training runs only)
 *   best.zip, last.zip   DL4J ModelSerializer models (best by validation accuracy)
 *   checkpoints/         epoch-NNNN.zip, the latest complete one named by checkpoint.json
 *   checkpoint.json      what the run has achieved so far (resuming reads it)
 *   summary.json         written when the run ends
 *   train.log            the log of every session of the run
 * </pre>
 */
public record RunDirectory(Path root) {

    public Path config() {
        return root.resolve("config.yaml");
    }

    public Path metricsCsv() {
        return root.resolve("metrics.csv");
    }

    public Path metricsJson() {
        return root.resolve("metrics.json");
    }

    public Path plot() {
        return root.resolve("learning-curves.png");
    }

    public Path learnedPlot() {
        return root.resolve("learned-params.png");
    }

    /** Diagnostics of the quantized backward paths (fixed-point training runs only). */
    public Path fixedPointPlot() {
        return root.resolve("fixed-point.png");
    }

    public Path bestModel() {
        return root.resolve("best.zip");
    }

    public Path lastModel() {
        return root.resolve("last.zip");
    }

    public Path checkpoints() {
        return root.resolve("checkpoints");
    }

    public Path checkpointState() {
        return root.resolve("checkpoint.json");
    }

    public Path summary() {
        return root.resolve("summary.json");
    }

    public Path log() {
        return root.resolve("train.log");
    }

    /** Checkpoint file name (relative to the run directory) for a finished epoch. */
    public static String checkpointName(int epoch) {
        return String.format("checkpoints/epoch-%04d.zip", epoch);
    }
}
