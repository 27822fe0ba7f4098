package io.qat4j.layers.nn;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.io.File;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QuantActivationTest {

    static MultiLayerConfiguration net(Layer act, DataType dt, IUpdater u) {
        return new NeuralNetConfiguration.Builder().seed(7).dataType(dt).updater(u).weightInit(WeightInit.XAVIER).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(3).activation(Activation.IDENTITY).build())
                .layer(act)
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(5, 5, 1)).build();
    }

    static DataSet data(DataType dt) {
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.rand(dt, 4, 1, 5, 5).subi(0.5);
        INDArray y = Nd4j.create(dt, 4, 2);
        for (int i = 0; i < 4; i++) {
            y.putScalar(i, i % 2, 1);
        }
        return new DataSet(x, y);
    }

    @Test
    void floatSpecEqualsDl4jActivationLayerAndPassesGradientCheck() {
        DataType before = Nd4j.dataType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        try {
            MultiLayerNetwork ref = new MultiLayerNetwork(net(new ActivationLayer(Activation.TANH), DataType.DOUBLE, new NoOp()));
            ref.init();
            MultiLayerNetwork q = new MultiLayerNetwork(net(new QuantActivation.Builder().activation(Activation.TANH)
                    .quant("float").build(), DataType.DOUBLE, new NoOp()));
            q.init();
            q.setParams(ref.params());
            DataSet ds = data(DataType.DOUBLE);
            assertTrue(ref.output(ds.getFeatures()).equalsWithEps(q.output(ds.getFeatures()), 1e-12));
            assertTrue(GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig().net(q).input(ds.getFeatures())
                    .labels(ds.getLabels()).print(GradientCheckUtil.PrintMode.FAILURES_ONLY)));
        } finally {
            Nd4j.setDefaultDataTypes(before, before);
        }
    }

    @Test
    void quantizedActivationsLieOnTheObservedGridAndSurviveSaving(@TempDir Path tmp) throws Exception {
        QuantActivation act = new QuantActivation.Builder().activation(Activation.RELU)
                .quant("int(bits=3, signed=false, observer=minmax)").build();
        MultiLayerConfiguration conf = net(act, DataType.FLOAT, new Adam(1e-2));
        assertEquals(conf, MultiLayerConfiguration.fromJson(conf.toJson()));
        MultiLayerNetwork n = new MultiLayerNetwork(conf);
        n.init();
        DataSet ds = data(DataType.FLOAT);
        n.fit(ds);
        INDArray a = n.feedForward(ds.getFeatures(), false).get(2);
        INDArray state = n.getLayer(1).getParam(QuantParamInitializer.OUTPUT_STATE_KEY);
        double max = state.getDouble(state.length() - 1);
        double step = max / 7;
        INDArray codes = a.div(step);
        assertTrue(codes.sub(org.nd4j.linalg.ops.transforms.Transforms.round(codes)).amaxNumber().doubleValue() < 1e-3,
                "activations on the 3-bit grid of the observed range");
        assertTrue(a.minNumber().doubleValue() >= 0);
        File f = tmp.resolve("a.zip").toFile();
        ModelSerializer.writeModel(n, f, true);
        MultiLayerNetwork back = ModelSerializer.restoreMultiLayerNetwork(f, true);
        assertEquals(n.output(ds.getFeatures()), back.output(ds.getFeatures()));
    }
}
