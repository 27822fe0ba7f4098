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
import io.qat4j.zoo.LayerKind;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
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
        return ((io.qat4j.zoo.NetConf.Stack) ModelFactory.build(ExperimentConfig.load(CONFIGS.resolve(file),
                List.of(overrides)))).conf();
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
    void wageNetworkHasNoBiases() {
        MultiLayerConfiguration wage = build("lenet5-wage-2888.yaml");
        MultiLayerConfiguration int8 = build("lenet5-int8-train.yaml");
        for (String name : List.of("conv1", "conv2", "fc1", "output")) {
            Layer l = layer(wage, name);
            boolean hasBias = l instanceof org.deeplearning4j.nn.conf.layers.ConvolutionLayer c ? c.hasBias()
                    : ((org.deeplearning4j.nn.conf.layers.FeedForwardLayer) l).initializer().numParams(l)
                    > ((org.deeplearning4j.nn.conf.layers.FeedForwardLayer) l).getNIn()
                    * ((org.deeplearning4j.nn.conf.layers.FeedForwardLayer) l).getNOut();
            assertEquals(false, hasBias, name);
        }
        // the default keeps them (int8 training: conv layers before RangeBN have none, the output layer has one)
        org.deeplearning4j.nn.conf.layers.FeedForwardLayer out =
                (org.deeplearning4j.nn.conf.layers.FeedForwardLayer) layer(int8, "output");
        assertEquals(out.getNIn() * out.getNOut() + out.getNOut(), out.initializer().numParams(out));
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
        // every layer with a matrix product accumulates in FP16, the convolutions included
        for (String name : List.of("conv1", "conv2", "fc1", "output")) {
            assertEquals("fp16", ((QuantLayer) layer(fp8, name)).getQuantSites().accumulation().toString(), name);
            assertEquals(64, ((QuantLayer) layer(fp8, name)).getQuantSites().accumulationChunk(), name);
        }
    }

    /** Banner et al.'s 8-bit training normalizes with RangeBN: float normalization layers between quantized ones. */
    @Test
    void int8TrainingUsesRangeBatchNormWithFloatGradients() {
        MultiLayerConfiguration c = build("lenet5-int8-train.yaml");
        for (String bn : List.of("bn1", "bn2", "bn3")) {
            DeviationBatchNorm l = assertInstanceOf(DeviationBatchNorm.class, layer(c, bn), bn);
            assertEquals(NormKind.RANGE, l.getKind(), bn);
            // no gradient quantization on gamma and beta (DL4J regularizes no normalization parameter)
            for (String p : List.of("gamma", "beta", "mean", "std")) {
                assertEquals(null, l.getRegularizationByParam(p), bn + " " + p);
            }
        }
        // the conv layers before a normalization have no bias; their weight gradients are still quantized
        assertEquals(GradientSpec.parse("int(bits=8, rounding=stochastic)"),
                ((GradientQuantization) regs(c, "conv2").get(0)).spec());
        assertEquals("int8", ((QuantLayer) layer(c, "conv2")).getQuantSites().errors().toString());
        assertEquals("int(bits=8, signed=false, observer=ema)", ((QuantActivation) layer(c, "bn3_act")).spec().toString());
    }

    @Test
    void fixedPointTrainingReachesFusedBatchNormLayers() {
        MultiLayerConfiguration c = build("lenet5-int8-train.yaml", "model.options.batch_norm=true",
                "model.options.fold_bn=true");
        assertInstanceOf(QuantConvBN2D.class, layer(c, "conv2"));
        assertInstanceOf(QuantDenseBN.class, layer(c, "fc1"));
        for (String l : List.of("conv2", "fc1")) {
            assertEquals("int8", ((QuantLayer) layer(c, l)).getQuantSites().errors().toString(), l);
            assertEquals(GradientSpec.parse("int(bits=8, rounding=stochastic)"),
                    ((GradientQuantization) regs(c, l).get(0)).spec(), l);
        }
    }

    @Test
    void foldedConvolutionsRejectTheAccumulatorFormat() {
        UserException e = assertThrows(UserException.class, () -> build("lenet5-fp8-train.yaml",
                "model.options.batch_norm=true", "model.options.fold_bn=true"));
        assertTrue(e.getMessage().contains("layer conv1") && e.getMessage().contains("fold_bn")
                && e.getMessage().contains("accumulator format fp16"), e.getMessage());
    }

    @Test
    void wageScaleRejectsEveryNormalization() {
        for (String bn : List.of("true", "range", "l1")) {
            UserException e = assertThrows(UserException.class, () -> build("lenet5-wage-2888.yaml",
                    "model.options.batch_norm=" + bn));
            assertTrue(e.getMessage().contains("wage_scale") && e.getMessage().contains("batch_norm: " + bn), e.getMessage());
        }
    }

    @Test
    void terngradNeedsNoQuantizedLayers() {
        MultiLayerConfiguration c = build("lenet5-terngrad.yaml");
        assertEquals(ConvolutionLayer.class, layer(c, "conv1").getClass());
        assertEquals(List.of(new GradientQuantization(GradientSpec.parse("terngrad"), 0, 0, 0)), regs(c, "conv1"));
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

        MultiLayerConfiguration fashion = stack(ModelFactory.build(ExperimentConfig.load(
                Path.of("..", "configs", "fashion-mnist", "lenet5-pact-w4a4.yaml"), List.of())));
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
                    ModelFactory.layerRefs(new io.qat4j.zoo.NetConf.Stack(c)).stream().limit(4).map(QuantizationPlan.LayerRef::kind).toList());
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
        MultiLayerConfiguration c = stack(ModelFactory.build(cfg));
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

    static MultiLayerConfiguration stack(io.qat4j.zoo.NetConf conf) {
        return ((io.qat4j.zoo.NetConf.Stack) conf).conf();
    }
}
