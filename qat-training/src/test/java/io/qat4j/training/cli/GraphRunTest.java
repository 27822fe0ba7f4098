package io.qat4j.training.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.qat4j.training.cli.CliTestSupport.DATA;
import static io.qat4j.training.cli.CliTestSupport.REPO;
import static io.qat4j.training.cli.CliTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A residual network through the whole chain from the command line: {@code qat train} (ResNet-8 with option-A
 * shortcuts, W8A8, a Fashion-MNIST subset) → {@code qat export} (a graph: residual additions, zero-channel
 * shortcuts, global average pooling) → {@code qat simulate} (the integer engine agrees with the fake-quant graph);
 * {@code qat eval} and {@code --resume} on the graph's run directory.
 */
class GraphRunTest {

    @Test
    void residualNetworkTrainsExportsAndSimulates(@TempDir Path tmp) throws Exception {
        Path runDir = tmp.resolve("run");
        String[] common = {"--data-dir", DATA.toString(), "--out", runDir.toString(), "--set",
            "model.options.depth=8", "--set", "dataset.subset=600", "--set", "dataset.validation=100", "--set",
            "dataset.test_subset=200", "--set", "training.batch_size=50", "--set", "training.log_every=1000", "--set",
            "training.optimizer.lr=0.05", "--set", "quantization.weights=8", "--set", "quantization.activations=8"};
        CliTestSupport.Outcome t = run(concat(new String[] {"train",
            REPO.resolve("configs/fashion-mnist/resnet20-fp32.yaml").toString(), "--set", "training.epochs=1"}, common));
        assertEquals(0, t.exitCode(), t.err());
        CliTestSupport.Outcome resumed = run(concat(new String[] {"train",
            REPO.resolve("configs/fashion-mnist/resnet20-fp32.yaml").toString(), "--resume", "--set",
            "training.epochs=2"}, common));
        assertEquals(0, resumed.exitCode(), resumed.err());
        JsonNode summary = new ObjectMapper().readTree(runDir.resolve("summary.json").toFile());
        assertEquals(2, summary.get("epochs").asInt());
        assertTrue(summary.get("test_accuracy").asDouble() > 0.4, summary.toString());

        CliTestSupport.Outcome ev = run("eval", runDir.toString(), "--json");
        assertEquals(0, ev.exitCode(), ev.err());
        assertTrue(ev.out().contains("\"accuracy\""), ev.out());

        Path exp = tmp.resolve("export");
        CliTestSupport.Outcome e = run("export", runDir.toString(), "--out", exp.toString(), "--calibration", "300");
        assertEquals(0, e.exitCode(), e.err());
        assertTrue(e.out().contains("add") && e.out().contains("pad_channels") && e.out().contains("global_avg_pool"),
                e.out());
        assertTrue(Files.isRegularFile(exp.resolve("manifest.json")));
        CliTestSupport.Outcome s = run("simulate", exp.toString(), "--limit", "200");
        assertEquals(0, s.exitCode(), s.err());
        JsonNode rep = new ObjectMapper().readTree(exp.resolve("simulate.json").toFile());
        assertEquals(200, rep.get("examples").asInt());
        assertTrue(rep.get("top1_agreement").asDouble() >= 0.98, rep.toString());
        assertTrue(Math.abs(rep.get("engine_accuracy").asDouble() - rep.get("fake_quant_accuracy").asDouble()) <= 0.02,
                rep.toString());
        int residual = 0;
        for (JsonNode l : rep.get("layers")) {
            assertTrue(l.get("within_1_lsb_fraction").asDouble() >= 0.97, l.toString());
            residual += l.get("op").asText().equals("add") ? 1 : 0;
        }
        assertEquals(3, residual, "ResNet-8 has three residual additions");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
