package io.qat4j.training.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.qat4j.inference.format.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.qat4j.training.cli.CliTestSupport.DATA;
import static io.qat4j.training.cli.CliTestSupport.REPO;
import static io.qat4j.training.cli.CliTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code qat train} (binarized LeNet-5, small MNIST subset) → {@code qat export} → {@code qat simulate
 * --dump-vectors}: batch normalization folded into binary layers, sign outputs, int8 logits, test vectors.
 */
class ExportSimulateRunTest {

    @Test
    void binarizedLeNetExportsAndSimulates(@TempDir Path tmp) throws Exception {
        Path runDir = tmp.resolve("run");
        CliTestSupport.Outcome t = run("train", REPO.resolve("configs/mnist/lenet5-bnn.yaml").toString(), "--data-dir",
                DATA.toString(), "--out", runDir.toString(), "--set", "dataset.subset=1500", "--set",
                "dataset.validation=0", "--set", "dataset.test_subset=300", "--set", "training.epochs=1", "--set",
                "training.batch_size=50", "--set", "training.log_every=1000");
        assertEquals(0, t.exitCode(), t.err());
        Path exp = tmp.resolve("export");
        CliTestSupport.Outcome e = run("export", runDir.toString(), "--out", exp.toString(), "--calibration", "300");
        assertEquals(0, e.exitCode(), e.err());
        assertTrue(e.out().contains("binary_conv2d") && e.out().contains("int8 logits"), e.out());
        CliTestSupport.Outcome s = run("simulate", exp.toString(), "--limit", "200", "--dump-vectors", "2");
        assertEquals(0, s.exitCode(), s.err());
        JsonNode rep = new ObjectMapper().readTree(exp.resolve("simulate.json").toFile());
        assertEquals(200, rep.get("examples").asInt());
        assertTrue(rep.get("top1_agreement").asDouble() >= 0.98, rep.toString());
        assertTrue(rep.get("output_within_1_lsb_fraction").asDouble() >= 0.99, rep.toString());
        for (JsonNode l : rep.get("layers")) {
            assertTrue(l.get("identical_fraction").asDouble() >= 0.999, l.toString());
        }
        // test vectors: the engine's codes per layer; binary layers hold only -1 / +1
        JsonNode idx = new ObjectMapper().readTree(exp.resolve("vectors/vectors.json").toFile());
        assertEquals(2, idx.get("samples").size());
        int[] conv2 = Npy.read(exp.resolve("vectors/0001/conv2.npy")).data();
        assertEquals(50 * 8 * 8, conv2.length);
        for (int v : conv2) {
            assertTrue(v == 1 || v == -1, "binary code " + v);
        }
        int[] input = Npy.read(exp.resolve("vectors/0000/input.npy")).data();
        assertEquals(784, input.length);
        assertEquals(785, Files.readAllLines(exp.resolve("vectors/0000/input.mem")).size());
        int[] logits = Npy.read(exp.resolve("vectors/0000/output.npy")).data();
        int argmax = 0;
        for (int c = 1; c < logits.length; c++) {
            argmax = logits[c] > logits[argmax] ? c : argmax;
        }
        assertEquals(argmax, idx.get("samples").get(0).get("predicted").asInt());
        assertArrayEquals(new int[] {1, 10}, Npy.read(exp.resolve("vectors/0000/output.npy")).shape());
        // --dump-vectors chose the reference engine (accumulator statistics); without it the fast engine runs and
        // reports the same agreement
        assertEquals("reference", rep.get("engine").asText());
        assertTrue(rep.get("accumulators").size() > 0, rep.toString());
        CliTestSupport.Outcome f = run("simulate", exp.toString(), "--limit", "200");
        assertEquals(0, f.exitCode(), f.err());
        assertTrue(f.out().contains("fast engine"), f.out());
        JsonNode fast = new ObjectMapper().readTree(exp.resolve("simulate.json").toFile());
        assertEquals("fast", fast.get("engine").asText());
        for (String k : new String[] {"examples", "engine_accuracy", "top1_agreement", "output_identical_fraction",
            "layers"}) {
            assertEquals(rep.get(k), fast.get(k), k);
        }
        CliTestSupport.Outcome bad = run("simulate", exp.toString(), "--engine", "turbo");
        assertTrue(bad.exitCode() != 0 && bad.err().contains("turbo") && bad.err().contains("fast, reference"),
                bad.err());
    }
}
