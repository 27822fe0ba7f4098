package io.qat4j.training.model;

import io.qat4j.training.config.ExperimentConfig;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The rows of {@code qat summary}: parameters, MACs, precisions and memory counted by hand for LeNet-5 W4A4. */
class NetworkSummaryTest {
    private static final Path CONFIGS = Path.of("..", "configs", "mnist");

    @Test
    void lenet5W4A4RowsMatchHandCounts() {
        ExperimentConfig cfg = ExperimentConfig.load(CONFIGS.resolve("lenet5-w4a4.yaml"), List.of());
        io.qat4j.zoo.NetConf conf = ModelFactory.build(cfg);
        List<QuantizationPlan.LayerRef> refs = ModelFactory.layerRefs(conf);
        NetworkSummary s = NetworkSummary.of(conf, ModelFactory.inputType(cfg, conf),
                QuantizationPlan.resolve(cfg.quantization(), refs));
        Map<String, NetworkSummary.Row> rows = s.rows().stream()
                .collect(Collectors.toMap(NetworkSummary.Row::name, Function.identity()));
        // conv1: 20 filters 5x5x1 (+20 biases) over 24x24 outputs, 8-bit weights (first layer)
        NetworkSummary.Row conv1 = rows.get("conv1");
        assertEquals(520, conv1.params());
        assertEquals(20L * 24 * 24 * 25, conv1.macs());
        assertEquals(8, conv1.weightBits().bits());
        assertEquals(500 * 8 + 20 * 32, conv1.memoryBits());
        // conv2: 50 filters 5x5x20 over 8x8 outputs, 4-bit weights
        NetworkSummary.Row conv2 = rows.get("conv2");
        assertEquals(50L * 20 * 25 + 50, conv2.params());
        assertEquals(50L * 8 * 8 * 20 * 25, conv2.macs());
        assertEquals(25_000 * 4 + 50 * 32, conv2.memoryBits());
        // the activation quantized after pool1 is conv1's (8 bits, first layer), after pool2 conv2's (4 bits)
        assertEquals(8, rows.get("pool1_act").activationBits().bits());
        assertEquals(4, rows.get("pool2_act").activationBits().bits());
        assertNull(rows.get("pool1").activationBits());
        // fc1: 800 -> 500 dense, output: 500 -> 10 at 8 bits, class scores stay float
        assertEquals(800L * 500, rows.get("fc1").macs());
        assertEquals(8, rows.get("output").weightBits().bits());
        assertNull(rows.get("output").activationBits());
        assertEquals(288_000 + 1_600_000 + 400_000 + 5_000, s.totalMacs());
        String text = s.render("t");
        assertTrue(text.contains("pool1_act"), text);
    }
}
