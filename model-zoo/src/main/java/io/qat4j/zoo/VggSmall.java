package io.qat4j.zoo;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.nd4j.linalg.activations.Activation;

import java.util.List;

/**
 * VGG-small, the CIFAR-10 network of the binarized and ternary network papers (BinaryConnect / BNN,
 * Courbariaux et al. 1511.00363 and 1602.02830; TWN, Li et al. 1605.04711; LQ-Nets, Zhang et al. 1807.10029):
 * {@code 2×128C3 – MP2 – 2×256C3 – MP2 – 2×512C3 – MP2 – FC – FC – 10}, every convolution and hidden fully
 * connected layer followed by batch normalization and the activation, channel and unit counts times a width
 * multiplier.
 *
 * <p>Vertex names: {@code conv1 .. conv6} (units, see {@link GraphLayers}), {@code pool1 .. pool3},
 * {@code fc1, fc2} (units) and {@code output}.
 */
public final class VggSmall {

    /**
     * @param width      multiplier of the 128/256/512 channels and of the fully connected widths, in (0, 1]·k
     * @param fc         widths of the hidden fully connected layers before the multiplier (default 1024, 1024)
     * @param batchNorm  normalization after every convolution and hidden fully connected layer
     * @param dropout    drop probability on the inputs of the fully connected layers, in [0, 1)
     * @param activation hidden activation (ReLU; hard tanh for binarized networks)
     * @param folding    folding of the convolutions' normalizations (standard normalization only)
     */
    public record Options(double width, List<Integer> fc, Normalization batchNorm, double dropout,
                          Activations activation, BnFolding folding) {
        public Options {
            if (!(width > 0) || width > 8) {
                throw new IllegalArgumentException("vgg_small width " + width + " is not allowed; allowed: (0, 8]");
            }
            fc = List.copyOf(fc);
            for (int w : fc) {
                if (w < 1) {
                    throw new IllegalArgumentException("vgg_small fc widths must be >= 1, got " + fc);
                }
            }
            if (!(dropout >= 0 && dropout < 1)) {
                throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
            }
            if (batchNorm == null || activation == null || folding == null) {
                throw new IllegalArgumentException("batchNorm, activation and folding must not be null");
            }
        }

        /** Full width, two 1024-unit fully connected layers, batch normalization, ReLU, no dropout. */
        public static Options defaults() {
            return new Options(1, List.of(1024, 1024), Normalization.STANDARD, 0, Activations.RELU, BnFolding.none());
        }
    }

    private VggSmall() {
    }

    static int scaled(int channels, double width) {
        return Math.max(1, (int) Math.round(channels * width));
    }

    /** Builds the graph with the layers the plan quantizes replaced by their quantized twins. */
    public static ComputationGraphConfiguration build(Options o, InputSpec in, NetSettings s, QuantPlan plan) {
        Activation act = o.activation().activation();
        ComputationGraphConfiguration.GraphBuilder g = ZooSupport.base(s, o.activation().weightInit()).graphBuilder()
                .addInputs("input");
        GraphLayers layers = new GraphLayers(g, plan, o.batchNorm(), o.folding());
        String x = "input";
        int[] channels = {128, 128, 256, 256, 512, 512};
        for (int i = 0; i < channels.length; i++) {
            x = layers.conv("conv" + (i + 1), x, 3, scaled(channels[i], o.width()), 1, act);
            if (i % 2 == 1) {
                x = layers.maxPool("pool" + (i / 2 + 1), x);
            }
        }
        for (int i = 0; i < o.fc().size(); i++) {
            x = layers.dense("fc" + (i + 1), x, scaled(o.fc().get(i), o.width()), act, o.dropout());
        }
        layers.output("output", x, in.numClasses(), o.dropout());
        g.setOutputs("output");
        g.setInputTypes(InputType.convolutionalFlat(in.height(), in.width(), in.channels()));
        return g.build();
    }
}
