package io.qat4j.zoo;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.nd4j.linalg.activations.Activation;

import java.util.List;

/**
 * Multi-layer perceptron with configurable hidden widths, e.g. 784-1024-1024-10.
 *
 * <p>Layer names: {@code fc1 .. fcN, [bn1, bn1_relu .. bnN, bnN_relu], output}. With
 * {@code batchNorm} each hidden dense layer is followed by batch normalization of the chosen
 * {@link Normalization} and then its activation (a layer of its own, {@code bn1_relu}, or {@code bn1_act} when
 * quantized). With {@link BnFolding} each dense layer and its (standard) normalization are one {@code QuantDenseBN}
 * ({@code fc1}, then {@code fc1_relu} or {@code fc1_act}). With {@code dropout} > 0 every dense layer after the first, and the output layer, drop their inputs
 * with that probability.
 */
public final class Mlp {

    /**
     * @param hidden     widths of the hidden layers, at least one
     * @param batchNorm  the batch normalization after each hidden layer ({@link Normalization#NONE} for none)
     * @param dropout    drop probability on hidden activations, in [0, 1)
     * @param activation hidden activation
     * @param folding    folding of the normalizations into the dense layers (needs standard {@code batchNorm})
     * @param bias       whether the dense layers have biases (a layer followed by batch normalization never has one)
     */
    public record Options(List<Integer> hidden, Normalization batchNorm, double dropout, Activations activation,
                          BnFolding folding, boolean bias) {
        public Options {
            if (batchNorm == null) {
                throw new IllegalArgumentException("batchNorm must not be null; allowed: " + java.util.Arrays.toString(Normalization.values()));
            }
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
            ZooLayers.requireBatchNorm(folding, batchNorm);
        }

        /** With biases. */
        public Options(List<Integer> hidden, Normalization batchNorm, double dropout, Activations activation,
                       BnFolding folding) {
            this(hidden, batchNorm, dropout, activation, folding, true);
        }

        /** Without folding. */
        public Options(List<Integer> hidden, Normalization batchNorm, double dropout, Activations activation) {
            this(hidden, batchNorm, dropout, activation, BnFolding.none());
        }

        /** With DL4J's standard batch normalization when {@code batchNorm} is true, none otherwise. */
        public Options(List<Integer> hidden, boolean batchNorm, double dropout, Activations activation) {
            this(hidden, batchNorm ? Normalization.STANDARD : Normalization.NONE, dropout, activation);
        }

        /** 1024-1024 ReLU, no batch norm, no dropout. */
        public static Options defaults() {
            return new Options(List.of(1024, 1024), Normalization.NONE, 0, Activations.RELU);
        }
    }

    private Mlp() {
    }

    /** Builds the float network configuration. */
    public static MultiLayerConfiguration build(Options o, InputSpec in, NetSettings s) {
        return build(o, in, s, QuantPlan.none());
    }

    /** Builds the network configuration with the layers the plan quantizes replaced by their quantized twins. */
    public static MultiLayerConfiguration build(Options o, InputSpec in, NetSettings s, QuantPlan plan) {
        Activation act = o.activation().activation();
        NeuralNetConfiguration.ListBuilder b = ZooSupport.base(s, o.activation().weightInit()).list();
        ZooLayers layers = new ZooLayers(b, plan, o.batchNorm(), o.folding(), o.bias());
        for (int i = 0; i < o.hidden().size(); i++) {
            layers.dense("fc" + (i + 1), o.hidden().get(i), act, layers.normName("bn" + (i + 1)),
                    i > 0 ? o.dropout() : 0);
        }
        layers.output("output", in.numClasses(), o.dropout());
        b.setInputType(InputType.feedForward(in.flatSize()));
        return b.build();
    }
}
