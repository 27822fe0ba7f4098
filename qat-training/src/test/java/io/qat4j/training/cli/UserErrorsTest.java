package io.qat4j.training.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.qat4j.training.cli.CliTestSupport.REPO;
import static io.qat4j.training.cli.CliTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every user mistake ends with exit code 2 and a readable message, never a stack trace. */
class UserErrorsTest {

    private static void assertUserError(CliTestSupport.Outcome r, String... fragments) {
        assertEquals(QatCli.USER_ERROR, r.exitCode(), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace expected:\n" + r.err());
        for (String f : fragments) {
            assertTrue(r.err().contains(f), "expected '" + f + "' in:\n" + r.err());
        }
    }

    @Test
    void missingConfigFile() {
        assertUserError(run("train", "no/such.yaml"), "no/such.yaml", "not found");
    }

    @Test
    void badConfigValuesAreAllReported(@TempDir Path tmp) throws IOException {
        Path cfg = tmp.resolve("bad.yaml");
        Files.writeString(cfg, """
                dataset:
                  name: mnist
                model:
                  name: lenet5
                  options:
                    variant: alexnet
                training:
                  epochs: -1
                  optimizer:
                    lr: fast
                """);
        assertUserError(run("train", cfg.toString()), "bad.yaml:6", "model.options.variant", "alexnet", "caffe, wage",
                "bad.yaml:8", "training.epochs", "bad.yaml:10", "training.optimizer.lr", "fast");
    }

    @Test
    void badOverride() {
        assertUserError(run("summary", REPO.resolve("configs/mnist/lenet5-fp32.yaml").toString(),
                "--set", "training.batchsize=12"), "training.batchsize", "batch_size");
    }

    @Test
    void missingCifarDataExplainsWhereItComesFrom(@TempDir Path tmp) {
        assertUserError(run("train", REPO.resolve("configs/cifar10/lenet5-fp32.yaml").toString(), "--data-dir",
                tmp.toString(), "--out", tmp.resolve("run").toString()), "cifar-10-batches-bin", "data_batch_1.bin",
                "test_batch.bin", "cs.toronto.edu");
    }

    @Test
    void resumeWithoutARun(@TempDir Path tmp) {
        assertUserError(run("train", REPO.resolve("configs/mnist/lenet5-fp32.yaml").toString(), "--resume",
                "--runs", tmp.toString()), "no run of 'lenet5-fp32'");
    }

    @Test
    void evalOfAMissingRun(@TempDir Path tmp) {
        assertUserError(run("eval", tmp.resolve("nothing").toString()), "does not exist");
        assertUserError(run("eval", tmp.toString()), "best.zip");
    }

    @Test
    void unknownOptionAndMissingArgument() {
        CliTestSupport.Outcome r = run("train", "--epochs", "3");
        assertEquals(QatCli.USER_ERROR, r.exitCode());
        assertTrue(r.err().contains("Unknown option") || r.err().contains("Missing required parameter"), r.err());
        assertEquals(QatCli.USER_ERROR, run("summary").exitCode());
    }

    @Test
    void unknownLayerNameInQuantizationPlan() {
        assertUserError(run("summary", REPO.resolve("configs/mnist/lenet5-fp32.yaml").toString(),
                "--set", "quantization.layers=[{name: conv9, weights: 4}]"), "conv9", "conv1, pool1, conv2");
    }
}
