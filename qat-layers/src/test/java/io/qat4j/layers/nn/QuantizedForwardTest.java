package io.qat4j.layers.nn;

import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.Quantizers;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.ops.transforms.Transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Quantized sites compute with the quantized values, checked against the quantizers applied by hand. */
class QuantizedForwardTest {

    private static MultiLayerNetwork denseNet(QuantSites sites) {
        MultiLayerNetwork n = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.FLOAT)
                .updater(new Sgd(0.1)).weightInit(WeightInit.XAVIER).list()
                .layer(new QuantDense.Builder().nOut(6).activation(Activation.RELU).quant(sites).build())
                .layer(new QuantOutput.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).build())
                .setInputType(InputType.feedForward(5)).build());
        n.init();
        return n;
    }

    @Test
    void denseUsesPerChannelQuantizedWeightsAndQuantizedOutput() {
        QuantSites sites = QuantSites.of("float", "int(bits=4, axis=channel, narrow=true)", "float",
                "int(bits=4, signed=false, observer=minmax)");
        MultiLayerNetwork n = denseNet(sites);
        Nd4j.getRandom().setSeed(1);
        INDArray x = Nd4j.rand(DataType.FLOAT, 8, 5);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 8, 3);
        for (int i = 0; i < 8; i++) {
            y.putScalar(i, i % 3, 1);
        }
        // One training step feeds the output observer (running min/max); then inference uses that range.

        n.fit(new DataSet(x, y));
        INDArray w = n.getLayer(0).getParam("W").dup();
        INDArray b = n.getLayer(0).getParam("b").dup();

        INDArray wq = Quantizers.of("int(bits=4, axis=channel, narrow=true)").apply(w, QuantContext.of(1));
        // each output column uses at most 15 distinct levels, symmetric around 0
        for (int c = 0; c < 6; c++) {
            INDArray col = wq.getColumn(c);
            double step = Transforms.abs(col).maxNumber().doubleValue() / 7;
            INDArray codes = col.div(step);
            assertTrue(codes.sub(Transforms.round(codes)).amaxNumber().doubleValue() < 1e-4, "column " + c + " on the grid");
        }
        INDArray hidden = Transforms.relu(x.mmul(wq).addRowVector(b));
        INDArray state = n.getLayer(0).getParam(QuantParamInitializer.OUTPUT_STATE_KEY);
        var obs = io.qat4j.layers.observe.Observers.of(sites.output().observer());
        INDArray expected = Quantizers.of(sites.output()).apply(hidden,
                QuantContext.of(-1).withRange(obs.min(state), obs.max(state)).withTraining(false));
        INDArray actual = n.feedForward(x, false).get(1);
        assertTrue(expected.equalsWithEps(actual, 1e-6), "hidden activations: expected\n" + expected + "\nactual\n" + actual);
        assertTrue(obs.updates(state) >= 1, "the observer saw the training batch");
        long distinct = java.util.Arrays.stream(actual.data().asDouble()).distinct().count();
        assertTrue(distinct <= 16, "at most 16 output levels, saw " + distinct);
        assertEquals(sites, ((QuantDense) n.getLayer(0).conf().getLayer()).getQuantSites());
    }
}
