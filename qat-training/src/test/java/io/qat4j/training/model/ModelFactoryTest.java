package io.qat4j.training.model;

import io.qat4j.layers.nn.QuantActivation;
import io.qat4j.layers.nn.QuantConv2D;
import io.qat4j.layers.nn.QuantDense;
import io.qat4j.layers.nn.QuantLayer;
import io.qat4j.layers.nn.QuantOutput;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.train.GradientQuantization;
import io.qat4j.layers.train.GradientSpec;
import io.qat4j.layers.train.QuantizedLoss;
import io.qat4j.layers.train.QuantizedUpdater;
import io.qat4j.layers.train.ScaledActivation;
import io.qat4j.layers.train.WageWeightInit;
import io.qat4j.layers.train.WeightUpdateQuantization;
import io.qat4j.training.UserException;
import io.qat4j.training.config.ExperimentConfig;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.lossfunctions.impl.LossL2;

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

    private static List<Regularization> regs(MultiLayerConfiguration c, String name) {
        return ((BaseLayer) layer(c, name)).getRegularization();
    }

    @Test
    void wageConfigBuildsEveryBackwardPath() {
        MultiLayerConfiguration c = build("lenet5-wage-2888.yaml");
        // errors: every layer with weights but the first hands back a shift(bits=8) error
        assertEquals(GradientSpec.FLOAT, ((QuantLayer) layer(c, "conv1")).getQuantSites().errors());
        for (String l : List.of("conv2", "fc1", "output")) {
            assertEquals("shift(bits=8)", ((QuantLayer) layer(c, l)).getQuantSites().errors().toString(), l);
        }
        // gradients before the updater, stored weights after it, per parameter (weights: channel axis 0 for convs)
        int conv2 = c.getConfs().indexOf(c.getConfs().stream().filter(n -> n.getLayer().getLayerName().equals("conv2"))
                .findFirst().orElseThrow());
        assertEquals(List.of(new GradientQuantization(GradientSpec.parse("wage(bits=8)"), conv2, 0, 0),
                new WeightUpdateQuantization(GradientSpec.FLOAT, QuantSpec.parse("fixed(m=0, n=7)"), 0.5, conv2, 0)),
                regs(c, "conv2"));
        // WAGE's layer scales 2, 16, 16, 8 and initialization
        double[] alphas = {2, 16, 16, 8};
        String[] names = {"conv1", "conv2", "fc1", "output"};
        for (int i = 0; i < 4; i++) {
            BaseLayer b = (BaseLayer) layer(c, names[i]);
            assertEquals(1 / alphas[i], ((ScaledActivation) b.getActivationFn()).scale(), 0, names[i]);
            assertEquals(new WageWeightInit(2), b.getWeightInitFn(), names[i]);
        }
        // the paper's loss: squared error on the raw (scaled) outputs, its gradient quantized as the last layer's error
        BaseOutputLayer out = (BaseOutputLayer) layer(c, "output");
        QuantizedLoss loss = (QuantizedLoss) out.getLossFn();
        assertInstanceOf(LossL2.class, loss.base());
        assertEquals("shift(bits=8)", loss.errors().toString());
        assertInstanceOf(ActivationIdentity.class, ((ScaledActivation) out.getActivationFn()).base());
    }

    @Test
    void bitWidthsOfTheBackwardPathsMeanPerTensorIntegers() {
        MultiLayerConfiguration c = build("lenet5-int8-train.yaml");
        assertEquals("int8", ((QuantLayer) layer(c, "fc1")).getQuantSites().errors().toString());
        assertEquals(GradientSpec.parse("int(bits=8, rounding=stochastic)"),
                ((GradientQuantization) regs(c, "fc1").get(0)).spec());
        MultiLayerConfiguration fp8 = build("lenet5-fp8-train.yaml");
        BaseLayer conv1 = (BaseLayer) layer(fp8, "conv1");
        QuantizedUpdater u = (QuantizedUpdater) conv1.getIUpdater();
        assertEquals(256, u.lossScale(), 0);
        assertEquals("fp16", u.state().toString());
        assertInstanceOf(Nesterovs.class, u.base());
        assertEquals(256, ((QuantizedLoss) ((BaseOutputLayer) layer(fp8, "output")).getLossFn()).lossScale(), 0);
    }

    @Test
    void terngradNeedsNoQuantizedLayers() {
        MultiLayerConfiguration c = build("lenet5-terngrad.yaml");
        assertEquals(ConvolutionLayer.class, layer(c, "conv1").getClass());
        assertEquals(List.of(new GradientQuantization(GradientSpec.parse("terngrad"), 0, 0, 0)), regs(c, "conv1"));
    }

    @Test
    void wageGradientsNeedSgdWithPowerOfTwoLearningRates() {
        UserException e = assertThrows(UserException.class, () -> build("lenet5-wage-2888.yaml",
                "training.optimizer.name=adam"));
        assertTrue(e.getMessage().contains("training.optimizer.name: sgd") && e.getMessage().contains("adam"), e.getMessage());
        e = assertThrows(UserException.class, () -> build("lenet5-wage-2888.yaml", "training.optimizer.lr=0.1"));
        assertTrue(e.getMessage().contains("power-of-two training.optimizer.lr") && e.getMessage().contains("0.1"),
                e.getMessage());
        e = assertThrows(UserException.class, () -> build("lenet5-wage-2888.yaml", "training.schedule.type=cosine"));
        assertTrue(e.getMessage().contains("cosine"), e.getMessage());
        e = assertThrows(UserException.class, () -> build("lenet5-wage-2888.yaml", "model.options.batch_norm=true"));
        assertTrue(e.getMessage().contains("wage_scale") && e.getMessage().contains("batch_norm: false"), e.getMessage());
        e = assertThrows(UserException.class, () -> build("lenet5-wage-2888.yaml", "quantization.first_layer={weights: 8}"));
        assertTrue(e.getMessage().contains("same weight bit width") && e.getMessage().contains("conv1=8"), e.getMessage());
    }
}
