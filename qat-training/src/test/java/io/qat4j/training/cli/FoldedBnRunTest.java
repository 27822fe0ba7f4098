package io.qat4j.training.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qat4j.layers.nn.FusedBatchNorm;
import io.qat4j.layers.nn.QuantConvBN2D;
import io.qat4j.layers.nn.QuantDenseBN;
import io.qat4j.training.run.TrainingRun;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.qat4j.training.cli.CliTestSupport.DATA;
import static io.qat4j.training.cli.CliTestSupport.REPO;
import static io.qat4j.training.cli.CliTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code qat train} with batch normalization folded during QAT ({@code lenet5-convbn-w4a4.yaml}, shrunk):
 * the statistics freeze at the configured epoch, the switch survives a resume, and a resumed run ends
 * where an uninterrupted one does.
 */
class FoldedBnRunTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path CONFIG = REPO.resolve("configs/mnist/lenet5-convbn-w4a4.yaml");

    private static String[] smallRun(Path out, int epochs, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", CONFIG.toString(), "--data-dir", DATA.toString(),
                "--out", out.toString(), "--set", "model.options.variant=caffe", "--set", "model.options.freeze_bn_after=1",
                "--set", "dataset.subset=500", "--set", "dataset.validation=200", "--set", "dataset.test_subset=500",
                "--set", "training.epochs=" + epochs, "--set", "training.batch_size=50", "--set", "training.log_every=1000"));
        args.addAll(Arrays.asList(extra));
        return args.toArray(String[]::new);
    }

    private static boolean frozen(MultiLayerNetwork net, String layer) {
        return ((FusedBatchNorm) net.getLayer(layer).conf().getLayer()).isBnFrozen();
    }

    @Test
    void statisticsFreezeAtTheConfiguredEpochAcrossAResume(@TempDir Path tmp) throws Exception {
        Path resumed = tmp.resolve("resumed");
        CliTestSupport.Outcome first = run(smallRun(resumed, 1));
        assertEquals(0, first.exitCode(), first.err());
        MultiLayerNetwork afterEpoch1 = (MultiLayerNetwork) io.qat4j.training.model.Network.restore(resumed.resolve("checkpoints/epoch-0001.zip")).model();
        assertInstanceOf(QuantConvBN2D.class, afterEpoch1.getLayer("conv1").conf().getLayer());
        assertInstanceOf(QuantDenseBN.class, afterEpoch1.getLayer("fc1").conf().getLayer());
        assertFalse(frozen(afterEpoch1, "conv1") || frozen(afterEpoch1, "fc1"), "epoch 1 trains with batch statistics");
        Layer conv1 = afterEpoch1.getLayer("conv1");
        assertNotEquals(0.0, conv1.getParam("mean").amaxNumber().doubleValue(), "running mean trained in epoch 1");

        CliTestSupport.Outcome second = run(smallRun(resumed, 2, "--resume"));
        assertEquals(0, second.exitCode(), second.err());
        MultiLayerNetwork last = (MultiLayerNetwork) io.qat4j.training.model.Network.restore(resumed.resolve("last.zip")).model();
        assertTrue(frozen(last, "conv1") && frozen(last, "conv2") && frozen(last, "fc1"), "frozen from epoch 2 on");
        for (String layer : List.of("conv1", "conv2", "fc1")) {
            for (String key : List.of("mean", "var")) {
                INDArray before = afterEpoch1.getLayer(layer).getParam(key);
                assertEquals(before, last.getLayer(layer).getParam(key), layer + " " + key + " unchanged in epoch 2");
            }
        }
        assertNotEquals(conv1.getParam("W"), last.getLayer("conv1").getParam("W"), "the weights still train");

        Path whole = tmp.resolve("whole");
        CliTestSupport.Outcome uninterrupted = run(smallRun(whole, 2));
        assertEquals(0, uninterrupted.exitCode(), uninterrupted.err());
        JsonNode a = JSON.readTree(resumed.resolve("metrics.json").toFile()).get("epochs");
        JsonNode b = JSON.readTree(whole.resolve("metrics.json").toFile()).get("epochs");
        for (String col : List.of("train_loss", "validation_accuracy", "test_accuracy", "test_loss")) {
            assertEquals(b.get(1).get(col), a.get(1).get(col), "epoch 2 " + col);
        }
        double loss1 = b.get(0).get("train_loss").asDouble();
        double loss2 = b.get(1).get("train_loss").asDouble();
        assertTrue(Double.isFinite(loss2) && loss2 < loss1, "training loss falls: " + loss1 + " -> " + loss2);
        assertTrue(b.get(1).get("test_accuracy").asDouble() > 0.8, b.toString());
    }
}
