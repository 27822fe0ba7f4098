package io.qat4j.training.model;

import io.qat4j.layers.nn.DeviationBatchNorm;
import io.qat4j.layers.nn.NormKind;
import io.qat4j.layers.nn.BnFreezeListener;
import io.qat4j.layers.nn.FusedBatchNorm;
import io.qat4j.layers.nn.QuantActivation;
import io.qat4j.layers.nn.QuantConvBN2D;
import io.qat4j.layers.nn.QuantDenseBN;
import io.qat4j.layers.nn.QuantConv2D;
import io.qat4j.layers.nn.QuantDense;
import io.qat4j.layers.nn.QuantLayer;
import io.qat4j.layers.nn.QuantOutput;
import io.qat4j.training.UserException;
import io.qat4j.training.config.ExperimentConfig;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import io.qat4j.zoo.LayerKind;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The quantization section of a config becomes quantized layers with the documented specs. */
class ModelFactoryTest {
    private static final Path CONFIGS = Path.of("..", "configs", "mnist");

    private static MultiLayerConfiguration build(String file, String... overrides) {
        return ModelFactory.build(ExperimentConfig.load(CONFIGS.resolve(file), List.of(overrides)));
    }

    private static Layer layer(MultiLayerConfiguration c, String name) {
        return c.getConfs().stream().map(n -> n.getLayer()).filter(l -> name.equals(l.getLayerName())).findFirst()
                .orElseThrow();
    }

    private static String sites(MultiLayerConfiguration c, String name) {
        var s = ((QuantLayer) layer(c, name)).getQuantSites();
        return s.weights() + " | " + s.output();
    }

    @Test
    void floatConfigBuildsStockLayers() {
        MultiLayerConfiguration c = build("lenet5-fp32.yaml");
        assertEquals(ConvolutionLayer.class, layer(c, "conv1").getClass());
        assertEquals(OutputLayer.class, layer(c, "output").getClass());
    }

    @Test
    void w4a4KeepsTheFirstAndLastLayerAt8Bits() {
        MultiLayerConfiguration c = build("lenet5-w4a4.yaml");
        assertInstanceOf(QuantConv2D.class, layer(c, "conv1"));
        assertInstanceOf(QuantDense.class, layer(c, "fc1"));
        assertInstanceOf(QuantOutput.class, layer(c, "output"));
        // convolution activations are quantized after the max pooling that follows them
        assertEquals("int(bits=8, narrow=true, axis=channel) | float", sites(c, "conv1"));
        assertEquals("int(bits=8, signed=false, observer=ema)", ((QuantActivation) layer(c, "pool1_act")).spec().toString());
        assertEquals("int(bits=4, narrow=true, axis=channel) | float", sites(c, "conv2"));
        assertEquals("int(bits=4, signed=false, observer=ema)", ((QuantActivation) layer(c, "pool2_act")).spec().toString());
        assertEquals("int(bits=4, narrow=true, axis=channel) | int(bits=4, signed=false, observer=ema)", sites(c, "fc1"));
        assertEquals("int(bits=8, narrow=true, axis=channel) | float", sites(c, "output"));
    }

    @Test
    void spec_stringsAndNameOverridesApply() {
        MultiLayerConfiguration c = build("lenet5-w4a4.yaml", "quantization.layers=[{name: conv2, weights: ternary}]");
        assertEquals("ternary | float", sites(c, "conv2"));
    }

    @Test
    void binarizedNetworkQuantizesActivationsAfterBatchNorm() {
        MultiLayerConfiguration c = build("lenet5-bnn.yaml");
        assertEquals("int(bits=8, narrow=true, axis=channel) | float", sites(c, "conv1"));
        QuantActivation act = (QuantActivation) layer(c, "pool1_act");
        assertEquals("binary", act.spec().toString());
        assertEquals("binary(scale=channel) | float", sites(c, "conv2"));
        assertTrue(layer(c, "bn3_act") instanceof QuantActivation);
    }

    /** Each learned-quantizer config builds, and its layers carry the learned parameters. */
    @Test
    void learnedQuantizerConfigsBuildLayersWithTheirParameters() {
        assertLearned(build("lenet5-pact-w4a4.yaml"), "conv1=[]", "pool1_act=[]", "conv2=[]", "pool2_act=[alpha]",
                "fc1=[alpha]", "output=[]");
        assertLearned(build("lenet5-lsq-w2a2.yaml"), "conv1=[]", "conv2=[wstep]", "pool2_act=[astep]",
                "fc1=[wstep, astep]", "output=[]");
        assertLearned(build("lenet5-qil-w3a3.yaml"), "conv2=[wc, wd, wgamma]", "pool2_act=[ac, ad]",
                "fc1=[wc, wd, wgamma, ac, ad]", "output=[]");
        assertLearned(build("lenet5-ttq.yaml"), "conv1=[wp, wn]", "conv2=[wp, wn]", "fc1=[wp, wn]", "output=[wp, wn]");
        MultiLayerConfiguration pact = build("lenet5-pact-w4a4.yaml");
        assertEquals("int(bits=8, signed=false, observer=ema)", ((QuantActivation) layer(pact, "pool1_act")).spec().toString());
        assertEquals("int(bits=4, narrow=true, axis=channel) | pact(bits=4, init=4, l2=0.0001, lr_scale=10)", sites(pact, "fc1"));
        assertEquals("qil(bits=3) | float", sites(build("lenet5-qil-w3a3.yaml"), "conv2"));

        MultiLayerConfiguration fashion = ModelFactory.build(ExperimentConfig.load(
                Path.of("..", "configs", "fashion-mnist", "lenet5-pact-w4a4.yaml"), List.of()));
        assertLearned(fashion, "pool1_act=[]", "pool2_act=[alpha]", "bn3_act=[alpha]", "fc1=[]");
        assertEquals("int(bits=8, signed=false, observer=ema)",
                ((QuantActivation) layer(fashion, "pool1_act")).spec().toString());
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork n = new org.deeplearning4j.nn.multilayer.MultiLayerNetwork(fashion);
        n.init();
        assertEquals(4.0, n.getLayer(fashion.getConfs().indexOf(fashion.getConfs().stream()
                .filter(x -> "bn3_act".equals(x.getLayer().getLayerName())).findFirst().orElseThrow()))
                .getParam("alpha").getDouble(0));
    }

    private static void assertLearned(MultiLayerConfiguration c, String... expected) {
        for (String e : expected) {
            String name = e.substring(0, e.indexOf('='));
            assertEquals(e, name + "=" + io.qat4j.layers.nn.QuantParamInitializer.learnedKeys(layer(c, name)));
        }
    }

    @Test
    void normalizationConfigsBuildTheirNormalizationLayers() {
        for (String file : List.of("lenet5-rangebn.yaml", "lenet5-l1bn.yaml")) {
            MultiLayerConfiguration c = build(file);
            NormKind kind = file.contains("range") ? NormKind.RANGE : NormKind.L1;
            for (String bn : List.of("bn1", "bn2", "bn3")) {
                DeviationBatchNorm l = assertInstanceOf(DeviationBatchNorm.class, layer(c, bn), file + " " + bn);
                assertEquals(kind, l.getKind());
                assertEquals(0.9, l.getDecay());
            }
            assertEquals(32, ((DeviationBatchNorm) layer(c, "bn1")).getNOut());
            assertEquals(512, ((DeviationBatchNorm) layer(c, "bn3")).getNOut());
            assertInstanceOf(ActivationLayer.class, layer(c, "bn3_relu"));
            assertEquals(List.of(LayerKind.CONV, LayerKind.BATCHNORM, LayerKind.ACTIVATION, LayerKind.POOL),
                    ModelFactory.layerRefs(c).stream().limit(4).map(QuantizationPlan.LayerRef::kind).toList());
        }
        assertInstanceOf(BatchNormalization.class, layer(build("lenet5-bn.yaml"), "bn1"));
        assertInstanceOf(BatchNormalization.class, layer(build("lenet5-rangebn.yaml", "model.options.batch_norm=true"), "bn2"));
        assertEquals(List.of("conv1", "pool1", "conv2", "pool2", "fc1", "output"),
                build("lenet5-rangebn.yaml", "model.options.batch_norm=false").getConfs().stream()
                        .map(n -> n.getLayer().getLayerName()).toList());
    }

    @Test
    void batchNormKindOverridesApplyToRangeAndL1Normalization() {
        // kind: batchnorm addresses RangeBN / L1BN layers like DL4J's: their activations get quantized
        MultiLayerConfiguration c = build("lenet5-l1bn.yaml", "quantization.layers=[{kind: batchnorm, activations: 4}]");
        assertInstanceOf(DeviationBatchNorm.class, layer(c, "bn1"));
        assertEquals("int(bits=4, signed=false, observer=ema)", ((QuantActivation) layer(c, "pool1_act")).spec().toString());
        assertEquals("int(bits=4, signed=false, observer=ema)", ((QuantActivation) layer(c, "bn3_act")).spec().toString());
        // the normalization layers themselves are never quantized layers
        assertEquals(DeviationBatchNorm.class, layer(build("lenet5-rangebn.yaml", "quantization.weights=4"), "bn2").getClass());
    }

    @Test
    void convBnConfigFoldsBatchNormIntoQuantizedLayers() {
        ExperimentConfig cfg = ExperimentConfig.load(CONFIGS.resolve("lenet5-convbn-w4a4.yaml"), List.of());
        MultiLayerConfiguration c = ModelFactory.build(cfg);
        assertEquals(List.of("conv1", "conv1_relu", "pool1", "pool1_act", "conv2", "conv2_relu", "pool2", "pool2_act",
                "fc1", "fc1_act", "output"), c.getConfs().stream().map(n -> n.getLayer().getLayerName()).toList());
        assertInstanceOf(QuantConvBN2D.class, layer(c, "conv1"));
        assertInstanceOf(QuantConvBN2D.class, layer(c, "conv2"));
        assertInstanceOf(QuantDenseBN.class, layer(c, "fc1"));
        // the weight site quantizes the folded weights; activations are quantized after the activation / pool
        assertEquals("int(bits=8, narrow=true, axis=channel) | float", sites(c, "conv1"));
        assertEquals("int(bits=8, signed=false, observer=ema)", ((QuantActivation) layer(c, "pool1_act")).spec().toString());
        assertEquals("int(bits=4, narrow=true, axis=channel) | float", sites(c, "conv2"));
        assertEquals("int(bits=4, signed=false, observer=ema)", ((QuantActivation) layer(c, "pool2_act")).spec().toString());
        assertEquals("int(bits=4, narrow=true, axis=channel) | float", sites(c, "fc1"));
        assertEquals("int(bits=4, signed=false, observer=ema)", ((QuantActivation) layer(c, "fc1_act")).spec().toString());
        assertEquals("int(bits=8, narrow=true, axis=channel) | float", sites(c, "output"));
        assertEquals(0, ((FusedBatchNorm) layer(c, "fc1")).getFreezeBnAfter(), "frozen by epoch, not by iteration");
        List<TrainingListener> listeners = ModelFactory.listeners(cfg);
        assertEquals(1, listeners.size());
        assertEquals(2, ((BnFreezeListener) listeners.get(0)).epochs());

        MultiLayerConfiguration byIterations = build("lenet5-convbn-w4a4.yaml", "model.options.freeze_bn_after=",
                "model.options.freeze_bn_after_iterations=30");
        assertEquals(30, ((FusedBatchNorm) layer(byIterations, "conv2")).getFreezeBnAfter());
        assertEquals(List.of(), ModelFactory.listeners(ExperimentConfig.load(CONFIGS.resolve("lenet5-w4a4.yaml"), List.of())));
    }

    @Test
    void gradientPrecisionsAreRefusedUntilFixedPointTraining() {
        UserException e = assertThrows(UserException.class, () -> build("lenet5-w8a8.yaml", "quantization.gradients=8"));
        assertTrue(e.getMessage().contains("fixed-point training"), e.getMessage());
    }
}
