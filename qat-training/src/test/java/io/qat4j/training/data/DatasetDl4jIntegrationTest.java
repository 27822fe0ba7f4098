package io.qat4j.training.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Checks that the iterators work with DL4J fit/evaluate and {@code InputType.convolutionalFlat}. */
class DatasetDl4jIntegrationTest {

    @TempDir
    Path tmp;

    @Test
    void fitAndEvaluateOnSyntheticCifar() throws IOException {
        SyntheticData.writeCifar(tmp.resolve("cifar-10-batches-bin"), 6, 10);
        DataSplits splits = DataSplits.load(DatasetOptions.builder(DatasetKind.CIFAR10, tmp)
                .normalization(Normalization.STANDARDIZE).validationSize(5).augment(true).build());
        DatasetKind k = splits.kind();
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(1)
                .updater(new Sgd(0.01))
                .list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(2).stride(2, 2).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nOut(k.numClasses()).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(k.height(), k.width(), k.channels()))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        for (int epoch = 0; epoch < 2; epoch++) {
            net.fit(splits.train(8, epoch));
        }
        Evaluation eval = net.evaluate(splits.test(4));
        assertEquals(10, eval.getNumRowCounter());
        Evaluation val = net.evaluate(splits.validation(4));
        assertEquals(5, val.getNumRowCounter());
        assertTrue(Double.isFinite(net.score()));
    }
}
