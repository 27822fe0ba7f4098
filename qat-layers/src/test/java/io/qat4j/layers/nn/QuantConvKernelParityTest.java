package io.qat4j.layers.nn;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code QuantConv2D} with float sites computes through its own im2col / col2im kernels exactly what DL4J's
 * {@code ConvolutionLayer} computes, bit for bit in float32: outputs, gradients (weights, biases, input errors) and
 * trained parameters, over strides, padding, dilation, convolution modes and data formats (the products are DL4J's
 * own calls and the kernels are exact copies / libnd4j's summation order). DL4J's gradient check passes in double
 * precision; a ComputationGraph with a residual add outputs and trains identically.
 */
class QuantConvKernelParityTest {

    static Layer conv(boolean quant, int k, int stride, int pad, int dilation, ConvolutionMode mode, int nOut,
                      Activation act, CNN2DFormat format) {
        ConvolutionLayer.BaseConvBuilder<?> b = quant ? new QuantConv2D.Builder(k, k).quant(QuantSites.none())
                : new ConvolutionLayer.Builder(k, k);
        b.stride(stride, stride).padding(pad, pad).dilation(dilation, dilation).convolutionMode(mode);
        ConvolutionLayer layer = quant ? ((QuantConv2D.Builder) b).nOut(nOut).activation(act).build()
                : ((ConvolutionLayer.Builder) b).nOut(nOut).activation(act).build();
        layer.setCnn2dDataFormat(format);
        return layer;
    }

    /** conv(geometry) -> conv 3x3 Same stride 1 -> global average -> softmax, on 3-channel 9x11 images. */
    static MultiLayerConfiguration net(boolean quant, DataType dt, int k, int stride, int pad, int dilation,
                                       ConvolutionMode mode, CNN2DFormat format, boolean noOp) {
        return net(quant, dt, k, stride, pad, dilation, mode, format, noOp, Activation.TANH);
    }

    static MultiLayerConfiguration net(boolean quant, DataType dt, int k, int stride, int pad, int dilation,
                                       ConvolutionMode mode, CNN2DFormat format, boolean noOp, Activation first) {
        return new NeuralNetConfiguration.Builder().seed(3).dataType(dt).updater(noOp ? new NoOp() : new Adam(1e-2))
                .weightInit(WeightInit.XAVIER).list()
                .layer(conv(quant, k, stride, pad, dilation, mode, 5, first, format))
                .layer(conv(quant, 3, 1, 0, 1, ConvolutionMode.Same, 4, noOp ? Activation.SIGMOID : Activation.RELU,
                        format))
                .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX)
                        .build())
                .setInputType(InputType.convolutional(9, 11, 3, format)).build();
    }

    static DataSet data(DataType dt, int n, CNN2DFormat format) {
        Nd4j.getRandom().setSeed(17);
        INDArray x = format == CNN2DFormat.NCHW ? Nd4j.randn(dt, n, 3, 9, 11) : Nd4j.randn(dt, n, 9, 11, 3);
        INDArray y = Nd4j.zeros(dt, n, 3);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, i % 3, 1.0);
        }
        return new DataSet(x, y);
    }

    static MultiLayerNetwork init(MultiLayerConfiguration c) {
        MultiLayerNetwork n = new MultiLayerNetwork(c);
        n.init();
        return n;
    }

    /** Bitwise equality of two float arrays' values (any layouts). */
    static void assertBits(INDArray expected, INDArray actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what);
        assertArrayEquals(expected.dup('c').data().asFloat(), actual.dup('c').data().asFloat(), what);
    }

    @ParameterizedTest(name = "k={0} s={1} p={2} d={3} {4} {5} n={6} {7}")
    @CsvSource({
        "3, 1, 0, 1, Truncate, NCHW, 7, TANH",
        "3, 2, 1, 1, Truncate, NCHW, 7, RELU",
        "5, 1, 2, 1, Truncate, NCHW, 1, LEAKYRELU",
        "1, 2, 0, 1, Truncate, NCHW, 7, IDENTITY",
        "3, 1, 0, 2, Same, NCHW, 7, RELU6",
        "3, 2, 0, 1, Same, NCHW, 1, HARDTANH",
        "5, 2, 0, 1, Same, NHWC, 7, RELU",
        "3, 1, 1, 1, Truncate, NHWC, 7, SIGMOID",
    })
    void float32OutputsGradientsAndTrainingAreBitIdentical(int k, int s, int p, int d, ConvolutionMode mode,
                                                       CNN2DFormat format, int n, Activation first) {
        MultiLayerNetwork ref = init(net(false, DataType.FLOAT, k, s, p, d, mode, format, false, first));
        MultiLayerNetwork q = init(net(true, DataType.FLOAT, k, s, p, d, mode, format, false, first));
        q.setParams(ref.params().dup());
        DataSet ds = data(DataType.FLOAT, n, format);
        for (int layer : new int[] {0, 1}) {
            INDArray a = ref.feedForward(ds.getFeatures(), false).get(layer + 1);
            INDArray b = q.feedForward(ds.getFeatures(), false).get(layer + 1);
            assertArrayEquals(a.dup('c').data().asFloat(), b.dup('c').data().asFloat(), "layer " + layer + " output");
        }
        assertArrayEquals(ref.output(ds.getFeatures()).data().asFloat(), q.output(ds.getFeatures()).data().asFloat());

        ref.setInput(ds.getFeatures());
        ref.setLabels(ds.getLabels());
        q.setInput(ds.getFeatures());
        q.setLabels(ds.getLabels());
        ref.computeGradientAndScore();
        q.computeGradientAndScore();
        assertEquals(ref.score(), q.score(), 0.0);
        for (String key : new String[] {"0_W", "0_b", "1_W", "1_b"}) {
            assertBits(ref.gradient().getGradientFor(key), q.gradient().getGradientFor(key), "gradient " + key);
        }
        // input error of the first convolution: through the network's input gradient
        INDArray inRef = ref.calculateGradients(ds.getFeatures(), ds.getLabels(), null, null).getSecond();
        INDArray inQ = q.calculateGradients(ds.getFeatures(), ds.getLabels(), null, null).getSecond();
        assertBits(inRef, inQ, "input error");
        for (int i = 0; i < 3; i++) {
            ref.fit(ds);
            q.fit(ds);
        }
        assertBits(ref.params(), q.params(), "parameters after three Adam steps");
    }

    @Test
    void backwardPassAfterANewInputDoesNotReuseTheKeptForwardPass() {
        MultiLayerNetwork ref = init(net(false, DataType.FLOAT, 3, 1, 1, 1, ConvolutionMode.Truncate, CNN2DFormat.NCHW,
                false, Activation.RELU));
        MultiLayerNetwork q = init(net(true, DataType.FLOAT, 3, 1, 1, 1, ConvolutionMode.Truncate, CNN2DFormat.NCHW,
                false, Activation.RELU));
        q.setParams(ref.params().dup());
        ref.initGradientsView();
        q.initGradientsView();
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        INDArray x1 = data(DataType.FLOAT, 4, CNN2DFormat.NCHW).getFeatures();
        INDArray x2 = x1.mul(-0.7).addi(0.3);
        INDArray eps = Nd4j.randn(DataType.FLOAT, 4, 5, 9, 11);
        org.deeplearning4j.nn.api.Layer r = ref.getLayer(0);
        org.deeplearning4j.nn.api.Layer l = q.getLayer(0);
        l.activate(x1, true, mgr);
        l.setInput(x2, mgr);
        r.setInput(x2, mgr);
        var gr = r.backpropGradient(eps.dup(), mgr);
        var gq = l.backpropGradient(eps.dup(), mgr);
        assertBits(gr.getSecond(), gq.getSecond(), "input error at the new input");
        assertBits(gr.getFirst().getGradientFor("W"), gq.getFirst().getGradientFor("W"), "weight gradient");
        // and after a forward pass on the same input, the kept pass gives the same result
        INDArray a = l.activate(x2, true, mgr);
        assertBits(r.activate(x2, true, mgr), a, "activation");
        assertBits(gr.getSecond(), l.backpropGradient(eps.dup(), mgr).getSecond(), "input error from the kept pass");
    }

    @Test
    void gradientCheckInDoublePrecisionThroughTheKernels() {
        DataType before = Nd4j.dataType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        try {
            for (Object[] c : new Object[][] {{3, 2, 1, 1, ConvolutionMode.Truncate, CNN2DFormat.NCHW},
                {3, 1, 0, 2, ConvolutionMode.Same, CNN2DFormat.NHWC}}) {
                MultiLayerNetwork q = init(net(true, DataType.DOUBLE, (int) c[0], (int) c[1], (int) c[2], (int) c[3],
                        (ConvolutionMode) c[4], (CNN2DFormat) c[5], true));
                DataSet ds = data(DataType.DOUBLE, 2, (CNN2DFormat) c[5]);
                boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig().net(q)
                        .input(ds.getFeatures()).labels(ds.getLabels()).epsilon(1e-6).maxRelError(1e-5)
                        .minAbsoluteError(1e-9).print(GradientCheckUtil.PrintMode.FAILURES_ONLY).exitOnFirstError(false));
                assertTrue(ok, "DL4J gradient check " + java.util.Arrays.toString(c));
            }
        } finally {
            Nd4j.setDefaultDataTypes(before, before);
        }
    }

    /** A residual block graph of 3x3 convolutions, BN and an add, stock or quantized. */
    static ComputationGraphConfiguration graph(boolean quant) {
        return new NeuralNetConfiguration.Builder().seed(5).dataType(DataType.FLOAT).updater(new Adam(1e-2))
                .weightInit(WeightInit.XAVIER).graphBuilder().addInputs("in")
                .setInputTypes(InputType.convolutional(8, 8, 2))
                .addLayer("c0", conv(quant, 3, 1, 0, 1, ConvolutionMode.Same, 4, Activation.RELU, CNN2DFormat.NCHW), "in")
                .addLayer("c1", conv(quant, 3, 1, 0, 1, ConvolutionMode.Same, 4, Activation.IDENTITY, CNN2DFormat.NCHW),
                        "c0")
                .addLayer("bn", new BatchNormalization.Builder().build(), "c1")
                .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "bn", "c0")
                .addLayer("c2", conv(quant, 3, 2, 1, 1, ConvolutionMode.Truncate, 6, Activation.RELU, CNN2DFormat.NCHW),
                        "add")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "c2")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("out").build();
    }

    @Test
    void computationGraphOutputsAndTrainingMatchTheStockGraph() {
        ComputationGraph ref = new ComputationGraph(graph(false));
        ref.init();
        ComputationGraph q = new ComputationGraph(graph(true));
        q.init();
        q.setParams(ref.params().dup());
        Nd4j.getRandom().setSeed(9);
        INDArray x = Nd4j.randn(DataType.FLOAT, 6, 2, 8, 8);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 6, 3);
        for (int i = 0; i < 6; i++) {
            y.putScalar(i, i % 3, 1.0);
        }
        assertArrayEquals(ref.outputSingle(x).data().asFloat(), q.outputSingle(x).data().asFloat(), "outputSingle");
        assertArrayEquals(ref.feedForward(x, false).get("c2").dup().data().asFloat(),
                q.feedForward(x, false).get("c2").dup().data().asFloat(), "feedForward");
        DataSet ds = new DataSet(x, y);
        assertEquals(ref.score(ds), q.score(ds), 0.0, "score");
        for (int i = 0; i < 4; i++) {
            ref.fit(ds);
            q.fit(ds);
        }
        assertBits(ref.params(), q.params(), "parameters after four Adam steps");
        assertBits(ref.outputSingle(x), q.outputSingle(x), "output after training");
    }
}
