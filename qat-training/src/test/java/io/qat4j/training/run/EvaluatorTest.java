package io.qat4j.training.run;

import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class EvaluatorTest {

    /** Softmax layer with identity weights: the logits are the inputs. */
    private static MultiLayerNetwork identitySoftmax() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).list()
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(2).nOut(2)
                        .activation(Activation.SOFTMAX).build()).build());
        net.init();
        net.setParams(Nd4j.create(new double[]{1, 0, 0, 1, 0, 0}, 1, 6));
        return net;
    }

    @Test
    void accuracyLossAndConfusionMatchHandComputation() {
        double[][] logits = {{2, 0}, {0, 1}, {3, 0}, {0, 0.5}};
        int[] labels = {0, 1, 1, 0};
        double loss = 0;
        for (int i = 0; i < 4; i++) {
            double z = Math.exp(logits[i][0]) + Math.exp(logits[i][1]);
            loss -= Math.log(Math.exp(logits[i][labels[i]]) / z);
        }
        List<DataSet> batches = List.of(
                new DataSet(Nd4j.create(new double[][]{logits[0], logits[1], logits[2]}), Nd4j.create(new double[][]{{1, 0}, {0, 1}, {0, 1}})),
                new DataSet(Nd4j.create(new double[][]{logits[3]}), Nd4j.create(new double[][]{{1, 0}})));
        Evaluator.Result r = Evaluator.evaluate(io.qat4j.training.model.Network.of(identitySoftmax()), new ListDataSetIterator<>(batches, 3), 0);
        assertEquals(4, r.examples());
        assertEquals(0.5, r.accuracy(), 0);
        assertEquals(loss / 4, r.meanLoss(), 1e-12);
        assertArrayEquals(new long[]{1, 1}, r.confusion()[0]);
        assertArrayEquals(new long[]{1, 1}, r.confusion()[1]);

        Evaluator.Result limited = Evaluator.evaluate(io.qat4j.training.model.Network.of(identitySoftmax()), new ListDataSetIterator<>(batches, 3), 2);
        assertEquals(2, limited.examples());
        assertEquals(1.0, limited.accuracy(), 0);
    }
}
