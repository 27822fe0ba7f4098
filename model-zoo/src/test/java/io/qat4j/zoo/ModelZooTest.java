package io.qat4j.zoo;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import io.qat4j.layers.nn.DeviationBatchNorm;
import io.qat4j.layers.nn.NormKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelZooTest {
    private static final InputSpec MNIST = new InputSpec(1, 28, 28, 10);
    private static final NetSettings SETTINGS = new NetSettings(7, new Adam(1e-3), 0);

    private static MultiLayerNetwork net(String name, Object options, InputSpec in) {
        return ((NetConf.Stack) ModelZoo.build(name, options, in, SETTINGS)).init();
    }

    private static List<String> names(MultiLayerNetwork n) {
        return Arrays.stream(n.getLayers()).map(l -> l.conf().getLayer().getLayerName()).toList();
    }

    @Test
    void caffeLeNetHasHandCountedParameters() {
        MultiLayerNetwork n = net("lenet5", LeNet5.Options.defaults(), MNIST);
        // conv1 20*1*25+20, conv2 50*20*25+50, fc1 (50*4*4)*500+500, output 500*10+10
        assertEquals(520 + 25_050 + 400_500 + 5_010, n.numParams());
        assertEquals(List.of("conv1", "pool1", "conv2", "pool2", "fc1", "output"), names(n));
        INDArray out = n.output(Nd4j.rand(3, 784));
        assertArrayEquals(new long[]{3, 10}, out.shape());
        assertEquals(3.0, out.sumNumber().doubleValue(), 1e-5, "softmax rows sum to one");
    }

    @Test
    void wageLeNetHasHandCountedParameters() {
        LeNet5.Options o = new LeNet5.Options(LeNet5.Variant.WAGE, false, 0, Activations.RELU);
        MultiLayerNetwork n = net("lenet5", o, MNIST);
        // conv1 32*25+32, conv2 64*32*25+64, fc1 (64*4*4)*512+512, output 512*10+10
        assertEquals(832 + 51_264 + 524_800 + 5_130, n.numParams());
    }

    @Test
    void batchNormLeNetDropsBiasesAndAddsNormalization() {
        LeNet5.Options o = new LeNet5.Options(LeNet5.Variant.CAFFE, true, 0.5, Activations.RELU);
        MultiLayerNetwork n = net("lenet5", o, MNIST);
        assertEquals(List.of("conv1", "bn1", "bn1_relu", "pool1", "conv2", "bn2", "bn2_relu", "pool2", "fc1", "bn3",
                "bn3_relu", "output"), names(n));
        // DL4J's normalization layer applies no activation, so the ReLU is a layer of its own and really runs
        INDArray afterRelu = n.feedForward(Nd4j.rand(4, 784).subi(0.5), false).get(3);
        assertTrue(afterRelu.minNumber().doubleValue() >= 0, "ReLU after bn1");
        // weights without biases; each BN has gamma, beta, mean, var for its channels
        long expected = 500 + 25_000 + 400_000 + 5_010 + 4L * (20 + 50 + 500);
        assertEquals(expected, n.numParams());
    }

    @ParameterizedTest
    @EnumSource(value = Normalization.class, names = {"RANGE", "L1"})
    void rangeAndL1LeNetsHaveTheLayoutOfTheStandardOne(Normalization norm) {
        MultiLayerNetwork std = net("lenet5", new LeNet5.Options(LeNet5.Variant.WAGE, Normalization.STANDARD, 0, Activations.RELU), MNIST);
        MultiLayerNetwork n = net("lenet5", new LeNet5.Options(LeNet5.Variant.WAGE, norm, 0, Activations.RELU), MNIST);
        assertEquals(names(std), names(n));
        assertEquals(std.numParams(), n.numParams(), "gamma, beta, mean, std per channel like gamma, beta, mean, var");
        NormKind kind = norm == Normalization.RANGE ? NormKind.RANGE : NormKind.L1;
        for (int i : new int[]{1, 5, 9}) {
            DeviationBatchNorm bn = (DeviationBatchNorm) n.getLayer(i).conf().getLayer();
            assertEquals(kind, bn.getKind());
            assertEquals(LayerKind.BATCHNORM, LayerKind.of(bn));
        }
        assertEquals(List.of(32L, 64L, 512L), Arrays.stream(new int[]{1, 5, 9})
                .mapToObj(i -> ((DeviationBatchNorm) n.getLayer(i).conf().getLayer()).getNOut()).toList());
        INDArray x = Nd4j.rand(4, 784);
        INDArray afterRelu = n.feedForward(x, false).get(3);
        assertTrue(afterRelu.minNumber().doubleValue() >= 0, "ReLU after bn1");
        INDArray y = Nd4j.zeros(x.dataType(), 4, 10);
        for (int i = 0; i < 4; i++) {
            y.putScalar(i, i, 1);
        }
        n.fit(new org.nd4j.linalg.dataset.DataSet(x, y));
        assertTrue(n.getLayer(1).getParam("mean").amaxNumber().doubleValue() > 0, "a training step moves the running mean");

        MultiLayerNetwork mlp = net("mlp", new Mlp.Options(List.of(30, 20), norm, 0, Activations.RELU), MNIST);
        assertEquals(List.of("fc1", "bn1", "bn1_relu", "fc2", "bn2", "bn2_relu", "output"), names(mlp));
        assertEquals(kind, ((DeviationBatchNorm) mlp.getLayer(4).conf().getLayer()).getKind());
    }

    @Test
    void batchNormNamesParse() {
        assertEquals(Normalization.NONE, Normalization.fromName("false"));
        assertEquals(Normalization.STANDARD, Normalization.fromName("true"));
        assertEquals(Normalization.STANDARD, Normalization.fromName("standard"));
        assertEquals(Normalization.RANGE, Normalization.fromName("range"));
        assertEquals(Normalization.L1, Normalization.fromName("l1"));
        assertEquals("unknown batch_norm 'l2'; allowed: false, true, standard, range, l1",
                assertThrows(IllegalArgumentException.class, () -> Normalization.fromName("l2")).getMessage());
        assertEquals(new LeNet5.Options(LeNet5.Variant.CAFFE, Normalization.STANDARD, 0, Activations.RELU),
                new LeNet5.Options(LeNet5.Variant.CAFFE, true, 0, Activations.RELU));
        assertThrows(IllegalArgumentException.class,
                () -> new Mlp.Options(List.of(3), (Normalization) null, 0, Activations.RELU));
    }

    @Test
    void foldedBatchNormLeNetFusesEachNormalizationIntoItsLayer() {
        LeNet5.Options o = new LeNet5.Options(LeNet5.Variant.WAGE, Normalization.STANDARD, 0.5, Activations.RELU,
                BnFolding.folded(100));
        MultiLayerNetwork n = net("lenet5", o, MNIST);
        assertEquals(List.of("conv1", "conv1_relu", "pool1", "conv2", "conv2_relu", "pool2", "fc1", "fc1_relu", "output"),
                names(n));
        assertTrue(n.getLayer(0).conf().getLayer() instanceof io.qat4j.layers.nn.QuantConvBN2D);
        assertTrue(n.getLayer(6).conf().getLayer() instanceof io.qat4j.layers.nn.QuantDenseBN);
        assertEquals(100, ((io.qat4j.layers.nn.FusedBatchNorm) n.getLayer(6).conf().getLayer()).getFreezeBnAfter());
        assertTrue(n.getLayer(6).conf().getLayer().getIDropout() != null, "dropout before fc1");
        // the same parameters as the unfused network: weights without biases, gamma/beta/mean/var per channel
        MultiLayerNetwork unfused = net("lenet5", new LeNet5.Options(LeNet5.Variant.WAGE, true, 0.5, Activations.RELU), MNIST);
        assertEquals(unfused.numParams(), n.numParams());
        assertEquals(800 + 51_200 + 524_288 + 5_130 + 4L * (32 + 64 + 512), n.numParams());
        INDArray afterRelu = n.feedForward(Nd4j.rand(4, 784).subi(0.5), false).get(2);
        assertTrue(afterRelu.minNumber().doubleValue() >= 0, "ReLU after conv1");
        List<LayerKind> kinds = Arrays.stream(n.getLayers()).map(l -> LayerKind.of(l.conf().getLayer())).toList();
        assertEquals(List.of(LayerKind.CONV, LayerKind.ACTIVATION, LayerKind.POOL, LayerKind.CONV, LayerKind.ACTIVATION,
                LayerKind.POOL, LayerKind.DENSE, LayerKind.ACTIVATION, LayerKind.OUTPUT), kinds);
    }

    @Test
    void foldedBatchNormMlpQuantizesActivationsAfterTheFusedLayer() {
        QuantPlan plan = (name, kind) -> kind == LayerKind.DENSE
                ? io.qat4j.layers.nn.QuantSites.of("float", "int(bits=4, axis=channel)", "float", "uint4")
                : io.qat4j.layers.nn.QuantSites.none();
        Mlp.Options o = new Mlp.Options(List.of(64, 32), Normalization.STANDARD, 0, Activations.RELU, BnFolding.folded(0));
        MultiLayerNetwork n = ((NetConf.Stack) ModelZoo.build("mlp", o, MNIST, SETTINGS, plan)).init();
        n.init();
        assertEquals(List.of("fc1", "fc1_act", "fc2", "fc2_act", "output"), names(n));
        var fc1 = (io.qat4j.layers.nn.QuantDenseBN) n.getLayer(0).conf().getLayer();
        assertEquals("float", fc1.getQuantSites().output().toString(), "the activation layer quantizes, not the fused one");
        assertEquals("int(bits=4, axis=channel)", fc1.getQuantSites().weights().toString());
        assertEquals("uint4", ((io.qat4j.layers.nn.QuantActivation) n.getLayer(1).conf().getLayer()).spec().toString());
    }

    @Test
    void lenetBuildsForCifarShapedInput() {
        MultiLayerNetwork n = net("lenet5", LeNet5.Options.defaults(), new InputSpec(3, 32, 32, 10));
        // conv1 20*3*25+20; after two conv+pool stages 32 -> 28 -> 14 -> 10 -> 5
        assertEquals(1_520 + 25_050 + (50 * 5 * 5 * 500 + 500) + 5_010, n.numParams());
        assertArrayEquals(new long[]{2, 10}, n.output(Nd4j.rand(2, 3 * 32 * 32)).shape());
    }

    @Test
    void mlpHasHandCountedParameters() {
        MultiLayerNetwork n = net("mlp", Mlp.Options.defaults(), MNIST);
        assertEquals(785L * 1024 + 1025L * 1024 + 1025L * 10, n.numParams());
        assertEquals(List.of("fc1", "fc2", "output"), names(n));
    }

    @Test
    void layerKindsClassifyZooLayers() {
        MultiLayerNetwork n = net("lenet5", new LeNet5.Options(LeNet5.Variant.CAFFE, true, 0, Activations.RELU), MNIST);
        List<LayerKind> kinds = Arrays.stream(n.getLayers()).map(l -> LayerKind.of(l.conf().getLayer())).toList();
        assertEquals(List.of(LayerKind.CONV, LayerKind.BATCHNORM, LayerKind.ACTIVATION, LayerKind.POOL, LayerKind.CONV,
                LayerKind.BATCHNORM, LayerKind.ACTIVATION, LayerKind.POOL, LayerKind.DENSE, LayerKind.BATCHNORM,
                LayerKind.ACTIVATION, LayerKind.OUTPUT), kinds);
        assertEquals(LayerKind.CONV, LayerKind.fromConfigName("conv"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> LayerKind.fromConfigName("lstm"))
                .getMessage().contains("conv, dense, output"));
    }

    @Test
    void unknownNamesAndWrongOptionsAreRejectedClearly() {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> ModelZoo.build("resnet99", null, MNIST, SETTINGS)).getMessage().contains("lenet5, mlp"));
        assertThrows(IllegalArgumentException.class, () -> ModelZoo.build("mlp", LeNet5.Options.defaults(), MNIST, SETTINGS));
        assertThrows(IllegalArgumentException.class, () -> new Mlp.Options(List.of(), false, 0, Activations.RELU));
        assertThrows(IllegalArgumentException.class, () -> new LeNet5.Options(LeNet5.Variant.WAGE, false, 1.0, Activations.RELU));
        assertThrows(IllegalArgumentException.class, () -> LeNet5.Variant.fromName("alexnet"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new LeNet5.Options(
                LeNet5.Variant.WAGE, Normalization.NONE, 0, Activations.RELU, BnFolding.folded(0)));
        assertTrue(e.getMessage().contains("batch_norm is none"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new LeNet5.Options(LeNet5.Variant.WAGE, Normalization.RANGE,
                0, Activations.RELU, BnFolding.folded(0)));
        assertThrows(IllegalArgumentException.class, () -> new Mlp.Options(List.of(8), Normalization.NONE, 0,
                Activations.RELU, BnFolding.folded(0)));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new BnFolding(true, -1)).getMessage().contains("-1"));
        assertThrows(IllegalArgumentException.class, () -> new BnFolding(false, 5));
    }
}
