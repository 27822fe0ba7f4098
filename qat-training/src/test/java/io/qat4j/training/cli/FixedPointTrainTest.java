package io.qat4j.training.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.qat4j.training.cli.CliTestSupport.DATA;
import static io.qat4j.training.cli.CliTestSupport.REPO;
import static io.qat4j.training.cli.CliTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Fixed-point training end to end: a short WAGE run on an MNIST subset, and a run that overflows. */
class FixedPointTrainTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static List<String> smallRun(String config, Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", REPO.resolve(config).toString(), "--data-dir",
                DATA.toString(), "--out", out.toString(),
                "--set", "dataset.subset=2000", "--set", "dataset.validation=500", "--set", "dataset.test_subset=2000",
                "--set", "training.log_every=1000"));
        args.addAll(Arrays.asList(extra));
        return args;
    }

    @Test
    void wageLearnsMnistAndRecordsPerLayerDiagnostics(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("wage");
        // 2,000 images, 2 epochs of 125 steps (batch 16), WAGE 2-8-8-8 at the paper's learning rate 8.
        CliTestSupport.Outcome r = run(smallRun("configs/mnist/lenet5-wage-2888.yaml", out, "--set", "training.epochs=2",
                "--set", "training.batch_size=16").toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.err());
        JsonNode summary = JSON.readTree(out.resolve("summary.json").toFile());
        double acc = summary.get("test_accuracy").asDouble();
        // Measured: 91.7% on the first 2,000 test images (84.0% after the first epoch); chance is 10%.
        assertTrue(acc >= 0.85, "test accuracy " + acc);

        JsonNode metrics = JSON.readTree(out.resolve("metrics.json").toFile());
        JsonNode epochs = metrics.get("epochs");
        assertTrue(epochs.get(1).get("train_loss").asDouble() < epochs.get(0).get("train_loss").asDouble(),
                "loss falls: " + epochs);
        JsonNode fp = metrics.get("fixed_point");
        assertEquals(2, fp.size(), "one diagnostics entry per epoch");
        JsonNode layers = fp.get(1).get("layers");
        assertFalse(layers.has("conv1") && layers.get("conv1").has("errors"),
                "the first layer hands its error to no one: not quantized");
        for (String layer : List.of("conv2", "fc1", "output")) {
            for (String path : List.of("errors", "gradients")) {
                JsonNode s = layers.get(layer).get(path);
                assertTrue(s != null && s.get("values").asLong() > 0, layer + " " + path + " in " + layers);
                double sat = s.get("saturated_fraction").asDouble();
                double flushed = s.get("flushed_to_zero_fraction").asDouble();
                double bits = s.get("bits_in_use").asDouble();
                assertTrue(sat >= 0 && sat < 0.05, layer + " " + path + " saturated " + sat);
                assertTrue(flushed >= 0 && flushed <= 1, layer + " " + path + " flushed " + flushed);
                // 8-bit errors use most of their codes; wage gradients are small integers (a few bits)
                assertTrue(bits > (path.equals("errors") ? 5 : 1.5) && bits <= 8, layer + " " + path + " bits " + bits);
            }
        }
        assertTrue(layers.get("fc1").get("gradients").get("flushed_to_zero_fraction").asDouble() > 0.3,
                "wage gradients round most small values to zero stochastically: " + layers.get("fc1"));
        assertTrue(Files.size(out.resolve("fixed-point.png")) > 1000);
        assertTrue(Files.readString(out.resolve("train.log")).contains("fixed point, epoch 2:"));
        JsonNode state = JSON.readTree(out.resolve("checkpoint.json").toFile());
        assertEquals(2, state.get("fixed_point").size(), "diagnostics are kept with the run state for resuming");
    }

    @Test
    void overflowingErrorsStopTheRunNamingTheLayer(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("fp8");
        // E5M2 errors that overflow to infinity instead of saturating, with an absurd loss scale: the error entering
        // the output layer, (p - y) * 2^24, is beyond E5M2's 57344.
        CliTestSupport.Outcome r = run(smallRun("configs/mnist/lenet5-fp8-train.yaml", out, "--set", "training.epochs=1",
                "--set", "dataset.subset=256",
                "--set", "quantization.errors=minifloat(e=5, m=2, overflow=infinity)",
                "--set", "quantization.fixed_point.loss_scale=16777216").toArray(String[]::new));
        assertEquals(QatCli.DIVERGED, r.exitCode(), r.err());
        assertTrue(r.err().contains("Training diverged: values overflowed at epoch 1, iteration 1"), r.err());
        assertTrue(r.err().contains("Values first overflowed in layer output (errors): the errors overflowed to Infinity in "
                + "minifloat(e=5, m=2, overflow=infinity)"), r.err());
        assertTrue(r.err().contains("widen the format"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        assertEquals("diverged", JSON.readTree(out.resolve("summary.json").toFile()).get("status").asText());
    }
}
