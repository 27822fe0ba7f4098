package io.qat4j.training.examples;

import io.qat4j.layers.nn.QuantConv2D;
import io.qat4j.layers.nn.QuantDense;
import io.qat4j.layers.nn.QuantOutput;
import io.qat4j.training.data.DataSplits;
import io.qat4j.training.data.DatasetKind;
import io.qat4j.training.data.DatasetOptions;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.nio.file.Path;

/**
 * A W4A4 LeNet-5 written directly with qat4j layers in a plain DL4J configuration and trained with
 * {@code fit}: the code shown in the README (a test runs it, so the snippet cannot rot).
 *
 * <p>Run: {@code java -cp ... io.qat4j.training.examples.W4A4LeNetExample [dataDir]}.
 */
public final class W4A4LeNetExample {
    private W4A4LeNetExample() {
    }

    /** The network: 8-bit first and last layer, 4-bit weights and activations in between. */
    public static MultiLayerConfiguration configuration() {
        // --- README snippet start
        String w4 = "int(bits=4, narrow=true, axis=channel)";   // symmetric, one scale per output channel
        String a4 = "int(bits=4, signed=false, observer=ema)";  // unsigned after ReLU, EMA-observed range
        return new NeuralNetConfiguration.Builder()
                .seed(42).updater(new Adam(1e-3)).weightInit(WeightInit.RELU)
                .list()
                .layer(new QuantConv2D.Builder(5, 5).name("conv1").nOut(20).activation(Activation.RELU)
                        .weightQuant("int(bits=8, narrow=true, axis=channel)").outputQuant("uint8").build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                .layer(new QuantConv2D.Builder(5, 5).name("conv2").nOut(50).activation(Activation.RELU)
                        .weightQuant(w4).outputQuant(a4).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                .layer(new QuantDense.Builder().name("fc1").nOut(500).activation(Activation.RELU)
                        .weightQuant(w4).outputQuant(a4).build())
                .layer(new QuantOutput.Builder(LossFunctions.LossFunction.MCXENT).name("output").nOut(10)
                        .weightQuant("int(bits=8, narrow=true, axis=channel)").build())
                .setInputType(InputType.convolutionalFlat(28, 28, 1))
                .build();
        // --- README snippet end
    }

    /** Trains the network for {@code epochs} epochs on (a subset of) MNIST and returns it. */
    public static MultiLayerNetwork train(Path dataDir, int trainImages, int epochs) {
        DataSplits mnist = DataSplits.load(DatasetOptions.builder(DatasetKind.MNIST, dataDir)
                .validationSize(0).trainSubset(trainImages).seed(42).build());
        MultiLayerNetwork net = new MultiLayerNetwork(configuration());
        net.init();
        for (int e = 0; e < epochs; e++) {
            net.fit(mnist.train(64, e));
        }
        return net;
    }

    public static void main(String[] args) {
        Path dataDir = Path.of(args.length > 0 ? args[0] : "data");
        MultiLayerNetwork net = train(dataDir, 0, 1);
        DataSplits mnist = DataSplits.load(DatasetOptions.builder(DatasetKind.MNIST, dataDir).validationSize(0).build());
        Evaluation eval = net.evaluate(mnist.test(500));
        System.out.printf("W4A4 LeNet-5 after one epoch: test accuracy %.2f%%%n", 100 * eval.accuracy());
    }
}
