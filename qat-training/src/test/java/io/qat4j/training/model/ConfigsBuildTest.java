package io.qat4j.training.model;

import io.qat4j.layers.nn.QuantActivation;
import io.qat4j.layers.nn.QuantConv2D;
import io.qat4j.layers.nn.QuantLayer;
import io.qat4j.training.config.ExperimentConfig;
import io.qat4j.zoo.NetConf;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every experiment in configs/ builds its network; the graph configs quantize what their comments say. */
class ConfigsBuildTest {

    @Test
    void everyConfigBuildsItsNetworkAndNamesOnlyExistingLayers() throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(Path.of("..", "configs"))) {
            files = walk.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertTrue(files.size() >= 30, files.toString());
        for (Path f : files) {
            ExperimentConfig cfg = ExperimentConfig.load(f, List.of());
            NetConf conf = ModelFactory.build(cfg);
            QuantizationPlan.requireKnownNames(cfg.quantization(), ModelFactory.layerRefs(conf));
            assertTrue(conf.layers().size() > 2, f.toString());
        }
    }

    @Test
    void resnet20W4A4QuantizesConvolutionInputsAt4BitsAndResidualsAt8() {
        NetConf conf = ModelFactory.build(ExperimentConfig.load(Path.of("..", "configs", "fashion-mnist",
                "resnet20-w4a4.yaml"), List.of()));
        assertTrue(conf instanceof NetConf.Graph);
        Map<String, Layer> byName = conf.layers().stream().collect(Collectors.toMap(Layer::getLayerName,
                Function.identity()));
        assertEquals("int(bits=8, narrow=true, axis=channel)", sites(byName.get("conv1")).weights().toString());
        assertEquals("int(bits=4, narrow=true, axis=channel)", sites(byName.get("s2b2_conv1")).weights().toString());
        assertEquals("int(bits=8, narrow=true, axis=channel)", sites(byName.get("output")).weights().toString());
        assertEquals("int(bits=8, signed=false, observer=ema)", spec(byName.get("conv1_act")));
        assertEquals("int(bits=4, signed=false, observer=ema)", spec(byName.get("s1b2_conv1_act")));
        assertEquals("int(bits=8, observer=ema)", spec(byName.get("s3b3_conv2_act")));
        assertEquals("int(bits=4, signed=false, observer=ema)", spec(byName.get("s3b3_add_relu")));
        assertEquals("int(bits=8, signed=false, observer=ema)", spec(byName.get("pool_act")));
        long convs = conf.layers().stream().filter(l -> l instanceof QuantConv2D).count();
        assertEquals(19, convs);
    }

    private static io.qat4j.layers.nn.QuantSites sites(Layer l) {
        return ((QuantLayer) l).getQuantSites();
    }

    private static String spec(Layer l) {
        return ((QuantActivation) l).spec().toString();
    }
}
