package io.qat4j.zoo;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.List;

/**
 * Multi-layer perceptron with configurable hidden widths, e.g. 784-1024-1024-10.
 *
 * <p>Layer names: {@code fc1 .. fcN, [bn1 .. bnN], output}. With {@code batchNorm} each hidden
 * dense layer is followed by batch normalization, which then carries the activation. With
 * {@code dropout} > 0 every dense layer after the first, and the output layer, drop their inputs
 * with that probability.
 */
public final class Mlp {

    /**
     * @param hidden     widths of the hidden layers, at least one
     * @param batchNorm  batch normalization after each hidden layer
     * @param dropout    drop probability on hidden activations, in [0, 1)
     * @param activation hidden activation
     */
    public record Options(List<Integer> hidden, boolean batchNorm, double dropout, Activations activation) {
        public Options {
            hidden = List.copyOf(hidden);
            if (hidden.isEmpty()) {
                throw new IllegalArgumentException("mlp needs at least one hidden layer");
            }
            for (int w : hidden) {
                if (w < 1) {
                    throw new IllegalArgumentException("hidden layer widths must be >= 1, got " + hidden);
                }
            }
            if (!(dropout >= 0 && dropout < 1)) {
                throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
            }
        }

        /** 1024-1024 ReLU, no batch norm, no dropout. */
        public static Options defaults() {
            return new Options(List.of(1024, 1024), false, 0, Activations.RELU);
        }
    }

    private Mlp() {
    }

    /** Builds the network configuration. */
    public static MultiLayerConfiguration build(Options o, InputSpec in, NetSettings s) {
        Activation act = o.activation().activation();
        NeuralNetConfiguration.ListBuilder b = ZooSupport.base(s, o.activation().weightInit()).list();
        for (int i = 0; i < o.hidden().size(); i++) {
            DenseLayer.Builder d = new DenseLayer.Builder().name("fc" + (i + 1)).nOut(o.hidden().get(i))
                    .hasBias(!o.batchNorm()).activation(o.batchNorm() ? Activation.IDENTITY : act);
            if (i > 0 && o.dropout() > 0) {
                d.dropOut(1.0 - o.dropout());
            }
            b.layer(d.build());
            if (o.batchNorm()) {
                b.layer(new BatchNormalization.Builder().name("bn" + (i + 1)).activation(act).build());
            }
        }
        OutputLayer.Builder out = new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("output")
                .nOut(in.numClasses()).activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER);
        if (o.dropout() > 0) {
            out.dropOut(1.0 - o.dropout());
        }
        b.layer(out.build());
        b.setInputType(InputType.feedForward(in.flatSize()));
        return b.build();
    }
}
