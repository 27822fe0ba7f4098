package io.qat4j.zoo;

import io.qat4j.layers.nn.ChannelPadVertex;
import io.qat4j.layers.nn.QuantActivation;
import io.qat4j.layers.nn.QuantConv2D;
import io.qat4j.layers.nn.QuantConvBN2D;
import io.qat4j.layers.nn.QuantDepthwiseConv2D;
import io.qat4j.layers.nn.QuantOutput;
import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.quant.QuantSpec;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CIFAR-class graph models: structure, hand-counted parameters, quantized twins, a few training steps. */
class GraphModelsTest {
    private static final InputSpec MNIST = new InputSpec(1, 28, 28, 10);
    private static final InputSpec CIFAR = new InputSpec(3, 32, 32, 10);
    private static final NetSettings SETTINGS = new NetSettings(7, new Adam(1e-3), 0);

    /** 4-bit weights and unsigned / signed 4-bit activations, as a bit-width plan gives them. */
    static final QuantPlan W4A4 = new QuantPlan() {
        @Override
        public QuantSites sites(String name, LayerKind kind) {
            return sites(name, kind, true);
        }

        @Override
        public QuantSites sites(String name, LayerKind kind, boolean nonNegative) {
            String w = kind.hasWeights() ? "int(bits=4, narrow=true, axis=channel)" : "float";
            String a = kind == LayerKind.OUTPUT ? "float"
                    : nonNegative ? "int(bits=4, signed=false, observer=ema)" : "int(bits=4, observer=ema)";
            return QuantSites.of("float", w, "float", a);
        }
    };

    static ComputationGraph graph(String name, Object o, InputSpec in, QuantPlan plan) {
        return ((NetConf.Graph) ModelZoo.build(name, o, in, SETTINGS, plan)).init();
    }

    static Layer layer(ComputationGraph g, String name) {
        return g.getLayer(name).conf().getLayer();
    }

    @Test
    void resnet20HasHandCountedParametersAndTheCifarShortcuts() {
        ComputationGraph g = graph("resnet", ResNet.Options.defaults(), MNIST, QuantPlan.none());
        // convolution weights: stem 9*1*16; stage 1: 6 convs of 9*16*16; stage 2: 9*16*32 + 5 of 9*32*32;
        // stage 3: 9*32*64 + 5 of 9*64*64. 19 normalizations (gamma, beta, mean, variance) over 16 + 6*16 + 6*32
        // + 6*64 channels. Output 64*10 + 10. Option A shortcuts have no parameters.
        long convs = 9 * 16 + 6 * 9 * 16 * 16 + (9 * 16 * 32 + 5 * 9 * 32 * 32) + (9 * 32 * 64 + 5 * 9 * 64 * 64);
        long bn = 4L * (16 + 6 * 16 + 6 * 32 + 6 * 64);
        assertEquals(convs + bn + 64 * 10 + 10, g.numParams());
        long convLayers = g.getConfiguration().getVertices().values().stream().filter(v -> v instanceof LayerVertex lv
                && lv.getLayerConf().getLayer() instanceof ConvolutionLayer).count();
        assertEquals(19, convLayers, "6n+2 = 20 weighted layers: 19 convolutions and the classifier");
        long adds = g.getConfiguration().getVertices().values().stream()
                .filter(v -> v instanceof ElementWiseVertex).count();
        assertEquals(9, adds);
        ChannelPadVertex pad = (ChannelPadVertex) g.getConfiguration().getVertices().get("s2b1_pad");
        assertEquals(8, pad.getBefore());
        assertEquals(8, pad.getAfter());
        INDArray out = g.outputSingle(Nd4j.rand(3, 784));
        assertArrayEquals(new long[] {3, 10}, out.shape());
        assertArrayEquals(new long[] {3, 10}, graph("resnet", ResNet.Options.defaults(), CIFAR, QuantPlan.none())
                .outputSingle(Nd4j.rand(3, 3 * 32 * 32)).shape());
    }

    @Test
    void optionBShortcutsAreProjections() {
        ResNet.Options o = new ResNet.Options(8, 1, ResNet.Shortcut.B, Normalization.STANDARD, BnFolding.none());
        ComputationGraph g = graph("resnet", o, MNIST, QuantPlan.none());
        // ResNet-8: stem 9*16, stage 1: 2 of 9*16*16, stage 2: 9*16*32 + 9*32*32 + 1x1 projection 16*32,
        // stage 3: 9*32*64 + 9*64*64 + 32*64; normalizations over 16 + 2*16 + 3*32 + 3*64 channels
        long convs = 9 * 16 + 2 * 9 * 16 * 16 + (9 * 16 * 32 + 9 * 32 * 32 + 16 * 32) + (9 * 32 * 64 + 9 * 64 * 64 + 32 * 64);
        assertEquals(convs + 4L * (16 + 2 * 16 + 3 * 32 + 3 * 64) + 650, g.numParams());
        assertTrue(layer(g, "s2b1_proj") instanceof ConvolutionLayer);
        assertThrows(IllegalArgumentException.class, () -> new ResNet.Options(21, 1, ResNet.Shortcut.A,
                Normalization.STANDARD, BnFolding.none()));
    }

    @Test
    void quantizedResNetQuantizesTheResidualBranchSignedAndTheBlockOutputUnsigned() {
        ComputationGraph g = graph("resnet", new ResNet.Options(8, 1, ResNet.Shortcut.A, Normalization.STANDARD,
                BnFolding.none()), MNIST, W4A4);
        assertInstanceOf(QuantConv2D.class, layer(g, "s1b1_conv1"));
        assertEquals("int(bits=4, observer=ema)", ((QuantActivation) layer(g, "s1b1_conv2_act")).spec().toString());
        assertEquals("int(bits=4, signed=false, observer=ema)",
                ((QuantActivation) layer(g, "s1b1_add_relu")).spec().toString());
        assertEquals("int(bits=4, signed=false, observer=ema)",
                ((QuantActivation) layer(g, "s1b1_conv1_act")).spec().toString());
        assertInstanceOf(QuantOutput.class, layer(g, "output"));
        assertTrue(g.getConfiguration().getVertices().containsKey("pool_act"));
        trainsAndStaysFinite(g, 784);

        ComputationGraph folded = graph("resnet", new ResNet.Options(8, 1, ResNet.Shortcut.A, Normalization.STANDARD,
                BnFolding.folded(0)), MNIST, W4A4);
        QuantConvBN2D c2 = (QuantConvBN2D) layer(folded, "s1b1_conv2");
        assertEquals("int(bits=4, observer=ema)", c2.getQuantSites().output().toString());
        assertFalse(folded.getConfiguration().getVertices().containsKey("s1b1_conv2_bn"));
        trainsAndStaysFinite(folded, 784);
    }

    @Test
    void vggSmallAndMobileNetBuildTrainAndQuantize() {
        VggSmall.Options v = new VggSmall.Options(0.125, List.of(64), Normalization.STANDARD, 0, Activations.RELU,
                BnFolding.none());
        ComputationGraph vf = graph("vgg_small", v, MNIST, QuantPlan.none());
        // 16/16/32/32/64/64 channels, 3x3 (28 -> 14 -> 7 -> 3 after the pools): conv weights, normalizations,
        // fc 64*3*3 -> 8 (64 * 0.125, no bias) + bn, output 8*10 + 10
        long convs = 9L * (1 * 16 + 16 * 16 + 16 * 32 + 32 * 32 + 32 * 64 + 64 * 64);
        long bn = 4L * (16 + 16 + 32 + 32 + 64 + 64 + 8);
        assertEquals(convs + bn + 64 * 3 * 3 * 8 + 8 * 10 + 10, vf.numParams());
        trainsAndStaysFinite(graph("vgg_small", v, MNIST, W4A4), 784);

        MobileNetV1.Options m = new MobileNetV1.Options(0.25, Normalization.STANDARD, BnFolding.none());
        ComputationGraph mf = graph("mobilenet_v1", m, CIFAR, QuantPlan.none());
        assertTrue(layer(mf, "dw1") instanceof DepthwiseConvolution2D);
        assertTrue(((QuantDepthwiseConv2D) layer(mf, "dw1")).getQuantSites().isFloat());
        assertArrayEquals(new long[] {2, 10}, mf.outputSingle(Nd4j.rand(2, 3 * 32 * 32)).shape());
        ComputationGraph mq = graph("mobilenet_v1", new MobileNetV1.Options(0.25, Normalization.STANDARD,
                BnFolding.folded(0)), MNIST, W4A4);
        assertInstanceOf(QuantDepthwiseConv2D.class, layer(mq, "dw3"), "depth-wise convolutions keep their normalization");
        assertInstanceOf(QuantConvBN2D.class, layer(mq, "pw3"));
        INDArray before = mq.params().dup();
        for (int i = 0; i < 3; i++) {
            mq.fit(new DataSet(Nd4j.rand(4, 784), Nd4j.eye(10).getRows(0, 1, 2, 3)));
        }
        assertTrue(Double.isFinite(mq.score()) && !mq.params().equals(before), "the quantized MobileNet trains");
        trainsAndStaysFinite(graph("mobilenet_v1", new MobileNetV1.Options(0.25, Normalization.STANDARD,
                BnFolding.none()), MNIST, QuantPlan.none()), 784);
    }

    @Test
    void floatPlansQuantizeNothing() {
        ComputationGraphConfiguration c = ((NetConf.Graph) ModelZoo.build("resnet", ResNet.Options.defaults(), MNIST,
                SETTINGS)).conf();
        for (var v : c.getVertices().values()) {
            if (v instanceof LayerVertex lv) {
                Layer l = lv.getLayerConf().getLayer();
                assertTrue(l instanceof io.qat4j.layers.nn.QuantLayer q ? q.getQuantSites().isFloat()
                        : !l.getClass().getName().startsWith("io.qat4j"), l.getLayerName());
            }
        }
    }

    /**
     * Ten steps on one small batch: the training-mode loss (batch statistics; the running statistics of a fresh
     * network are not yet meaningful) falls and nothing becomes NaN.
     */
    static void trainsAndStaysFinite(ComputationGraph g, int features) {
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.rand(8, features);
        INDArray y = Nd4j.zeros(8, 10);
        for (int i = 0; i < 8; i++) {
            y.putScalar(i, i % 10, 1);
        }
        DataSet ds = new DataSet(x, y);
        double first = g.score(ds, true);
        for (int i = 0; i < 10; i++) {
            g.fit(ds);
        }
        double last = g.score(ds, true);
        assertTrue(Double.isFinite(last) && last < first, "loss " + first + " -> " + last);
    }
}
