package io.qat4j.layers.nn;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
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

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code QuantDepthwiseConv2D} with float sites, computed by the project's depth-wise kernels, against DL4J's
 * {@code DepthwiseConvolution2D}: outputs, gradients and training steps agree to float32 rounding; DL4J's gradient
 * check passes in double precision.
 */
class QuantDepthwiseKernelParityTest {

    /** pointwise conv (CNHW output, as in MobileNet) -> depth-wise (geometry) -> global average -> softmax. */
    static MultiLayerConfiguration net(boolean quant, DataType dt, int k, int stride, int multiplier,
                                       ConvolutionMode mode, Activation act, boolean noOp) {
        Layer dw = quant
                ? new QuantDepthwiseConv2D.Builder(k, k).quant(QuantSites.none()).depthMultiplier(multiplier)
                .stride(stride, stride).convolutionMode(mode).activation(act).build()
                : new DepthwiseConvolution2D.Builder(k, k).depthMultiplier(multiplier).stride(stride, stride)
                .convolutionMode(mode).activation(act).build();
        return new NeuralNetConfiguration.Builder().seed(21).dataType(dt).updater(noOp ? new NoOp() : new Adam(1e-2))
                .weightInit(WeightInit.XAVIER).list()
                .layer(new ConvolutionLayer.Builder(1, 1).nOut(4).activation(Activation.TANH).build())
                .layer(dw)
                .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX)
                        .build())
                .setInputType(InputType.convolutional(9, 10, 2)).build();
    }

    static DataSet data(DataType dt, int n) {
        Nd4j.getRandom().setSeed(23);
        INDArray x = Nd4j.randn(dt, n, 2, 9, 10);
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

    static double relativeError(INDArray expected, INDArray actual) {
        return expected.sub(actual).norm2Number().doubleValue() / expected.norm2Number().doubleValue();
    }

    @ParameterizedTest(name = "k={0} s={1} m={2} {3} {4}")
    @CsvSource({"3, 1, 1, Same, RELU", "3, 2, 2, Same, TANH", "2, 1, 1, Truncate, SIGMOID", "5, 2, 1, Truncate, RELU"})
    void float32OutputsGradientsAndTrainingMatchDl4j(int k, int s, int m, ConvolutionMode mode, Activation act) {
        MultiLayerNetwork ref = init(net(false, DataType.FLOAT, k, s, m, mode, act, false));
        MultiLayerNetwork q = init(net(true, DataType.FLOAT, k, s, m, mode, act, false));
        q.setParams(ref.params().dup());
        DataSet ds = data(DataType.FLOAT, 6);
        INDArray a = ref.feedForward(ds.getFeatures(), false).get(2);
        INDArray b = q.feedForward(ds.getFeatures(), false).get(2);
        assertTrue(relativeError(a, b) < 1e-6, "depth-wise output " + relativeError(a, b));
        ref.setInput(ds.getFeatures());
        ref.setLabels(ds.getLabels());
        q.setInput(ds.getFeatures());
        q.setLabels(ds.getLabels());
        ref.computeGradientAndScore();
        q.computeGradientAndScore();
        for (String key : new String[] {"1_W", "1_b", "0_W", "0_b"}) {
            double e = relativeError(ref.gradient().getGradientFor(key), q.gradient().getGradientFor(key));
            assertTrue(e < 1e-5, "gradient " + key + ": " + e);
        }
        for (int i = 0; i < 3; i++) {
            ref.fit(ds);
            q.fit(ds);
        }
        assertTrue(relativeError(ref.params(), q.params()) < 1e-5, "three Adam steps");
    }

    @Test
    void gradientCheckInDoublePrecision() {
        DataType before = Nd4j.dataType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        try {
            MultiLayerNetwork q = init(net(true, DataType.DOUBLE, 3, 2, 2, ConvolutionMode.Same, Activation.TANH, true));
            DataSet ds = data(DataType.DOUBLE, 2);
            boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig().net(q)
                    .input(ds.getFeatures()).labels(ds.getLabels()).epsilon(1e-6).maxRelError(1e-5)
                    .minAbsoluteError(1e-9).print(GradientCheckUtil.PrintMode.FAILURES_ONLY).exitOnFirstError(false));
            assertTrue(ok, "DL4J gradient check");
        } finally {
            Nd4j.setDefaultDataTypes(before, before);
        }
    }
}
