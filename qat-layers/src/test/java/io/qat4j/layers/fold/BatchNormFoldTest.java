package io.qat4j.layers.fold;

import io.qat4j.layers.nn.DeviationBatchNorm;
import io.qat4j.layers.nn.NormKind;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Folded and unfolded float networks agree on random inputs (issue requirement: within 1e-5), for
 * DL4J's batch normalization and for RangeBN / L1BN.
 */
class BatchNormFoldTest {

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void foldedNetworkMatchesConvPlusBatchNorm(boolean logStd) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.FLOAT)
                .updater(new Adam(1e-2)).weightInit(WeightInit.RELU).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(6).hasBias(false).activation(Activation.IDENTITY)
                        .convolutionMode(ConvolutionMode.Same).build())
                .layer(new BatchNormalization.Builder().useLogStd(logStd).build())
                .layer(new org.deeplearning4j.nn.conf.layers.ActivationLayer(Activation.RELU))
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                .layer(new DenseLayer.Builder().nOut(16).activation(Activation.IDENTITY).build())
                .layer(new BatchNormalization.Builder().useLogStd(logStd).build())
                .layer(new org.deeplearning4j.nn.conf.layers.ActivationLayer(Activation.TANH))
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(4).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(8, 8, 2)).build());
        net.init();
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.rand(DataType.FLOAT, 32, 2, 8, 8).muli(3).subi(1);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 32, 4);
        for (int i = 0; i < 32; i++) {
            y.putScalar(i, i % 4, 1);
        }
        for (int i = 0; i < 20; i++) { // non-trivial running statistics and gamma/beta
            net.fit(new DataSet(x, y));
        }
        MultiLayerNetwork folded = BatchNormFold.foldAll(net);
        assertEquals(6, folded.getnLayers(), "both normalization layers are folded away");
        INDArray probe = Nd4j.rand(DataType.FLOAT, 16, 2, 8, 8).muli(4).subi(2);
        INDArray a = net.output(probe);
        INDArray b = folded.output(probe);
        double maxDiff = a.sub(b).amaxNumber().doubleValue();
        assertTrue(maxDiff < 1e-5, "max difference " + maxDiff);
        INDArray ha = net.feedForward(probe, false).get(3);   // after bn1 and its ReLU
        INDArray hb = folded.feedForward(probe, false).get(2);
        assertTrue(ha.sub(hb).amaxNumber().doubleValue() < 1e-5 * Math.max(1, ha.amaxNumber().doubleValue()));
    }

    /**
     * conv + RangeBN / L1BN (+ ReLU layer) and dense + the same normalization carrying a tanh: after
     * training, the folded network computes what the inference-mode network computes, and the
     * folded dense layer has taken over the normalization's tanh.
     */
    @ParameterizedTest
    @EnumSource(NormKind.class)
    void foldedNetworkMatchesConvPlusDeviationBatchNorm(NormKind kind) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(5).dataType(DataType.FLOAT)
                .updater(new Adam(1e-2)).weightInit(WeightInit.RELU).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(6).hasBias(false).activation(Activation.IDENTITY)
                        .convolutionMode(ConvolutionMode.Same).build())
                .layer(new DeviationBatchNorm.Builder(kind).build())
                .layer(new org.deeplearning4j.nn.conf.layers.ActivationLayer(Activation.RELU))
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                .layer(new DenseLayer.Builder().nOut(16).activation(Activation.IDENTITY).build())
                .layer(new DeviationBatchNorm.Builder(kind).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(4).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(8, 8, 2)).build());
        net.init();
        Nd4j.getRandom().setSeed(13);
        INDArray x = Nd4j.rand(DataType.FLOAT, 32, 2, 8, 8).muli(3).subi(1);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 32, 4);
        for (int i = 0; i < 32; i++) {
            y.putScalar(i, i % 4, 1);
        }
        for (int i = 0; i < 20; i++) { // non-trivial running statistics and gamma/beta
            net.fit(new DataSet(x, y));
        }
        INDArray std = net.getLayer(1).getParam("std");
        assertTrue(std.sub(1).amaxNumber().doubleValue() > 0.05, "running std estimate has moved from 1: " + std);

        BatchNormFold.Stats st = BatchNormFold.Stats.of(net.getLayer(1));
        INDArray expectedFactor = net.getLayer(1).getParam("gamma").div(std.add(1e-5));
        assertTrue(st.factor().sub(expectedFactor).amaxNumber().doubleValue() < 1e-6 * expectedFactor.amaxNumber().doubleValue(),
                "factor = gamma / (std + eps)");

        MultiLayerNetwork folded = BatchNormFold.foldAll(net);
        assertEquals(5, folded.getnLayers(), "both normalization layers are folded away");
        assertInstanceOf(ActivationTanH.class, ((DenseLayer) folded.getLayer(3).conf().getLayer()).getActivationFn());
        INDArray probe = Nd4j.rand(DataType.FLOAT, 16, 2, 8, 8).muli(4).subi(2);
        double maxDiff = net.output(probe).sub(folded.output(probe)).amaxNumber().doubleValue();
        assertTrue(maxDiff < 1e-5, "max difference " + maxDiff);
        INDArray ha = net.feedForward(probe, false).get(3);   // after bn1 and its ReLU
        INDArray hb = folded.feedForward(probe, false).get(2);
        double hiddenDiff = ha.sub(hb).amaxNumber().doubleValue();
        assertTrue(hiddenDiff < 1e-5 * Math.max(1, ha.amaxNumber().doubleValue()), "hidden difference " + hiddenDiff);
        INDArray ta = net.feedForward(probe, false).get(6);   // after fc1 and bn2 (tanh)
        INDArray tb = folded.feedForward(probe, false).get(4);
        assertTrue(ta.sub(tb).amaxNumber().doubleValue() < 1e-5);
    }

    @Test
    void statsRejectLayersThatAreNoNormalization() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().list()
                .layer(new DenseLayer.Builder().nIn(2).nOut(2).name("fc").build()).build());
        net.init();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BatchNormFold.Stats.of(net.getLayer(0)));
        assertEquals("layer fc (DenseLayer) is not a normalization layer; supported: BatchNormalization, DeviationBatchNorm",
                e.getMessage());
    }
}
