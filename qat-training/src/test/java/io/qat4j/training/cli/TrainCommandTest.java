package io.qat4j.training.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qat4j.training.config.ExperimentConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static io.qat4j.training.cli.CliTestSupport.DATA;
import static io.qat4j.training.cli.CliTestSupport.REPO;
import static io.qat4j.training.cli.CliTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** End-to-end runs of {@code qat train} / {@code qat eval} on a 1,000-image MNIST subset. */
class TrainCommandTest {
    static final Path CONFIG = REPO.resolve("configs/mnist/lenet5-fp32.yaml");
    static final ObjectMapper JSON = new ObjectMapper();

    /** The main job, shrunk: 1,000 training images, 500 validation, 2,000 test, 3 epochs. */
    static List<String> smallRun(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", CONFIG.toString(), "--data-dir", DATA.toString(),
                "--out", out.toString(),
                "--set", "dataset.subset=1000", "--set", "dataset.validation=500", "--set", "dataset.test_subset=2000",
                "--set", "training.epochs=3", "--set", "training.batch_size=50", "--set", "training.log_every=1000"));
        args.addAll(Arrays.asList(extra));
        return args;
    }

    @Test
    void smokeRunLearnsAndWritesEveryRunFile(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("run");
        CliTestSupport.Outcome r = run(smallRun(out).toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.err());

        JsonNode summary = JSON.readTree(out.resolve("summary.json").toFile());
        assertEquals("completed", summary.get("status").asText());
        assertEquals(3, summary.get("epochs").asInt());
        assertEquals(2000, summary.get("test_examples").asInt());
        // LeNet-5 learns MNIST from 1,000 images in 3 epochs to well above 85% (measured: ~90-93%).
        double acc = summary.get("test_accuracy").asDouble();
        assertTrue(acc >= 0.85, "test accuracy " + acc);
        assertTrue(summary.get("train_images_per_second").asDouble() > 0);
        assertTrue(summary.get("wall_seconds").asDouble() > 0);

        for (String f : List.of("config.yaml", "metrics.csv", "metrics.json", "learning-curves.png", "best.zip",
                "last.zip", "checkpoint.json", "train.log", "checkpoints/epoch-0003.zip")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f + " missing");
        }
        try (Stream<Path> ckpts = Files.list(out.resolve("checkpoints"))) {
            assertEquals(1, ckpts.count(), "older checkpoints are removed");
        }
        List<String> csv = Files.readAllLines(out.resolve("metrics.csv"));
        assertEquals(4, csv.size(), "header + one row per epoch");
        JsonNode metrics = JSON.readTree(out.resolve("metrics.json").toFile());
        assertEquals(3, metrics.get("epochs").size());
        double firstLoss = metrics.get("epochs").get(0).get("train_loss").asDouble();
        double lastLoss = metrics.get("epochs").get(2).get("train_loss").asDouble();
        assertTrue(lastLoss < firstLoss, "training loss falls: " + firstLoss + " -> " + lastLoss);

        // The saved config is the fully resolved one, with the overrides applied, and loads again.
        ExperimentConfig saved = ExperimentConfig.load(out.resolve("config.yaml"), List.of());
        assertEquals(1000, saved.dataset().subset());
        assertEquals(3, saved.training().epochs());
        assertTrue(Files.readString(out.resolve("train.log")).contains("epoch 3/3"));

        // qat eval on the run directory reproduces the best epoch's test accuracy.
        CliTestSupport.Outcome ev = run("eval", out.toString(), "--json", "--data-dir", DATA.toString());
        assertEquals(0, ev.exitCode(), ev.err());
        JsonNode e = JSON.readTree(ev.out());
        assertEquals(2000, e.get("examples").asInt());
        assertEquals(acc, e.get("accuracy").asDouble(), 1e-9);

        // qat report tabulates the run.
        CliTestSupport.Outcome rep = run("report", out.toString());
        assertEquals(0, rep.exitCode(), rep.err());
        assertTrue(rep.out().contains(String.format(java.util.Locale.ROOT, "| lenet5-fp32 | mnist | lenet5 | completed | %.2f%% | 3 |",
                100 * acc)), rep.out());

        // A second train into the same directory without --resume is refused.
        CliTestSupport.Outcome again = run(smallRun(out).toArray(String[]::new));
        assertEquals(2, again.exitCode());
        assertTrue(again.err().contains("--resume"), again.err());
        // Resuming a finished run has nothing to do and keeps the metrics.
        CliTestSupport.Outcome done = run(smallRun(out, "--resume").toArray(String[]::new));
        assertEquals(0, done.exitCode(), done.err());
        assertEquals(csv, Files.readAllLines(out.resolve("metrics.csv")));
    }

    /** A PACT run on a few hundred images: the learned clipping levels are metric columns and a plot. */
    @Test
    void learnedQuantizerRunReportsItsParameters(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("run");
        CliTestSupport.Outcome r = run("train", REPO.resolve("configs/mnist/lenet5-pact-w4a4.yaml").toString(),
                "--data-dir", DATA.toString(), "--out", out.toString(), "--set", "dataset.subset=400",
                "--set", "dataset.validation=200", "--set", "dataset.test_subset=200", "--set", "training.epochs=2",
                "--set", "training.log_every=1000", "--set", "model.options.variant=caffe");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode metrics = JSON.readTree(out.resolve("metrics.json").toFile());
        List<String> columns = new ArrayList<>();
        metrics.get("columns").forEach(c -> columns.add(c.asText()));
        assertEquals(List.of("pool2_act.alpha", "fc1.alpha"), columns.subList(columns.size() - 2, columns.size()));
        double a1 = metrics.get("epochs").get(0).get("fc1.alpha").asDouble();
        double a2 = metrics.get("epochs").get(1).get("fc1.alpha").asDouble();
        assertTrue(a1 != 4 && a2 != a1 && a2 > 0, "alpha trains: 4 -> " + a1 + " -> " + a2);
        assertTrue(Files.isRegularFile(out.resolve("learned-params.png")));
        assertTrue(Files.readString(out.resolve("train.log")).contains("learned quantizer parameters: pool2_act.alpha"));

        // init_from a model without LSQ parameters: weights copied, LSQ steps start from the first batch
        Path lsq = tmp.resolve("lsq");
        CliTestSupport.Outcome r2 = run("train", REPO.resolve("configs/mnist/lenet5-lsq-w2a2.yaml").toString(),
                "--data-dir", DATA.toString(), "--out", lsq.toString(), "--set", "dataset.subset=400",
                "--set", "dataset.validation=200", "--set", "dataset.test_subset=200", "--set", "training.epochs=1",
                "--set", "training.log_every=1000", "--set", "model.options.variant=caffe",
                "--set", "init_from=" + out.resolve("best.zip"));
        assertEquals(0, r2.exitCode(), r2.err());
        JsonNode row = JSON.readTree(lsq.resolve("metrics.json").toFile()).get("epochs").get(0);
        assertTrue(row.get("conv2.wstep").asDouble() > 0 && row.get("fc1.astep").asDouble() > 0, row.toString());
    }

    @Test
    void nanLossStopsTheRunAndKeepsTheLastGoodCheckpoint(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("run");
        assertEquals(0, run(smallRun(out, "--set", "training.epochs=1").toArray(String[]::new)).exitCode());
        // Continue with an absurd learning rate: the weights blow up and the loss becomes NaN.
        CliTestSupport.Outcome r = run(smallRun(out, "--resume", "--set", "training.epochs=2",
                "--set", "training.optimizer.lr=1e30").toArray(String[]::new));
        assertEquals(QatCli.DIVERGED, r.exitCode(), r.err());
        assertTrue(r.err().contains("diverged") && r.err().contains("epoch 2"), r.err());
        assertTrue(r.err().contains("epoch-0001.zip"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        JsonNode state = JSON.readTree(out.resolve("checkpoint.json").toFile());
        assertEquals(1, state.get("epochs_completed").asInt());
        assertTrue(Files.isRegularFile(out.resolve("checkpoints/epoch-0001.zip")));
        assertEquals("diverged", JSON.readTree(out.resolve("summary.json").toFile()).get("status").asText());
    }
}
