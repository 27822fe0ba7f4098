package io.qat4j.zoo;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.nd4j.linalg.activations.Activation;

/**
 * LeNet-5 in its two common modern variants.
 *
 * <ul>
 *   <li>{@code caffe}: 20C5-MP2-50C5-MP2-500FC-10, the network of Caffe's MNIST example.</li>
 *   <li>{@code wage}: 32C5-MP2-64C5-MP2-512FC-10, the network used by TWN (Li et al., 1605.04711) and
 *       WAGE (Wu et al., 1802.04680).</li>
 * </ul>
 * Convolutions are 5x5, stride 1, no padding; pooling is 2x2 max with stride 2. With
 * {@code batchNorm} each convolution and the hidden dense layer are followed by batch normalization
 * of the chosen {@link Normalization} (standard, RangeBN or L1BN; the activation then moves after the
 * normalization and the biases before it are dropped).
 * Layer names: {@code conv1, [bn1, bn1_relu], pool1, [pool1_act], conv2, [bn2, bn2_relu], pool2,
 * [pool2_act], fc1, [bn3, bn3_relu | bn3_act], output}; with batch normalization the activation is a
 * layer of its own ({@code bn1_relu}, named after the activation), because DL4J's normalization
 * layer does not apply one; the {@code _act} layers quantize activations when a plan asks for it
 * (after max pooling, which commutes with the monotone activation quantizers).
 *
 * <p>With {@link BnFolding} enabled (standard batch normalization required) each convolution and fc1 is fused
 * with its normalization into one layer that folds γ/σ into the weights before weight quantization
 * ({@code QuantConvBN2D}, {@code QuantDenseBN}, identity activation); the activation follows as a
 * layer of its own. Layer names: {@code conv1, conv1_relu, pool1, [pool1_act], conv2, conv2_relu,
 * pool2, [pool2_act], fc1, fc1_relu | fc1_act, output}; conv1's own activation precision is the one
 * quantized after pool1 (there is no {@code bn1}).
 */
public final class LeNet5 {

    /** The two layer-width variants. */
    public enum Variant {
        CAFFE(20, 50, 500), WAGE(32, 64, 512);

        final int conv1;
        final int conv2;
        final int fc;

        Variant(int conv1, int conv2, int fc) {
            this.conv1 = conv1;
            this.conv2 = conv2;
            this.fc = fc;
        }

        /** Parses {@code caffe} or {@code wage}. */
        public static Variant fromName(String name) {
            return switch (name) {
                case "caffe" -> CAFFE;
                case "wage" -> WAGE;
                default -> throw new IllegalArgumentException("unknown lenet5 variant '" + name + "'; allowed: caffe, wage");
            };
        }
    }

    /**
     * @param variant    layer widths
     * @param batchNorm  the batch normalization after conv1, conv2 and fc1 ({@link Normalization#NONE} for none)
     * @param dropout    drop probability on the inputs of the two fully connected layers, in [0, 1); 0 disables it
     * @param activation hidden activation
     * @param folding    folding of the normalizations into the layers before them (needs standard {@code batchNorm})
     * @param bias       whether the convolutions and dense layers have biases (a layer followed by batch
     *                   normalization never has one); WAGE's reference network has none
     */
    public record Options(Variant variant, Normalization batchNorm, double dropout, Activations activation,
                          BnFolding folding, boolean bias) {
        public Options {
            if (batchNorm == null) {
                throw new IllegalArgumentException("batchNorm must not be null; allowed: " + java.util.Arrays.toString(Normalization.values()));
            }
            if (!(dropout >= 0 && dropout < 1)) {
                throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
            }
            ZooLayers.requireBatchNorm(folding, batchNorm);
        }

        /** With biases. */
        public Options(Variant variant, Normalization batchNorm, double dropout, Activations activation,
                       BnFolding folding) {
            this(variant, batchNorm, dropout, activation, folding, true);
        }

        /** Without folding. */
        public Options(Variant variant, Normalization batchNorm, double dropout, Activations activation) {
            this(variant, batchNorm, dropout, activation, BnFolding.none());
        }

        /** With DL4J's standard batch normalization when {@code batchNorm} is true, none otherwise. */
        public Options(Variant variant, boolean batchNorm, double dropout, Activations activation) {
            this(variant, batchNorm ? Normalization.STANDARD : Normalization.NONE, dropout, activation);
        }

        /** Caffe variant, ReLU, no batch norm, no dropout. */
        public static Options defaults() {
            return new Options(Variant.CAFFE, Normalization.NONE, 0, Activations.RELU);
        }
    }

    private LeNet5() {
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
        layers.maxPool("pool1", layers.convBeforePool("conv1", 5, o.variant().conv1, act, layers.normName("bn1")));
        layers.maxPool("pool2", layers.convBeforePool("conv2", 5, o.variant().conv2, act, layers.normName("bn2")));
        layers.dense("fc1", o.variant().fc, act, layers.normName("bn3"), o.dropout());
        layers.output("output", in.numClasses(), o.dropout());
        b.setInputType(InputType.convolutionalFlat(in.height(), in.width(), in.channels()));
        return b.build();
    }
}
