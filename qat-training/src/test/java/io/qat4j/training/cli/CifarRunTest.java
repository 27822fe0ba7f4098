package io.qat4j.training.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static io.qat4j.training.cli.CliTestSupport.REPO;
import static io.qat4j.training.cli.CliTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The CIFAR-10 configuration runs end to end on small files in the standard binary layout. */
class CifarRunTest {

    private static void writeBatch(Path file, int records, Random rnd) throws IOException {
        byte[] bytes = new byte[records * 3073];
        for (int r = 0; r < records; r++) {
            int label = r % 10;
            bytes[r * 3073] = (byte) label;
            for (int i = 1; i < 3073; i++) {
                // a class-dependent colour plus noise, so there is something to learn
                int channel = (i - 1) / 1024;
                bytes[r * 3073 + i] = (byte) Math.min(255, (label * 25 + channel * 40 + rnd.nextInt(30)) % 256);
            }
        }
        Files.write(file, bytes);
    }

    @Test
    void cifarConfigTrainsOnSmallFiles(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("cifar-10-batches-bin"));
        Random rnd = new Random(1);
        for (int b = 1; b <= 5; b++) {
            writeBatch(dir.resolve("data_batch_" + b + ".bin"), 40, rnd);
        }
        writeBatch(dir.resolve("test_batch.bin"), 30, rnd);
        Path out = tmp.resolve("run");
        CliTestSupport.Outcome r = run("train", REPO.resolve("configs/cifar10/lenet5-fp32.yaml").toString(),
                "--data-dir", tmp.toString(), "--out", out.toString(), "--set", "training.epochs=2",
                "--set", "dataset.validation=20", "--set", "training.batch_size=16", "--set", "training.early_stop_patience=0");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertEquals("completed", s.get("status").asText());
        assertEquals(2, s.get("epochs").asInt());
        assertEquals(30, s.get("test_examples").asInt());
    }
}
