package io.qat4j.zoo;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.nd4j.linalg.activations.Activation;

/**
 * MobileNetV1 for small images (Howard et al., "MobileNets", 1704.04861): a 3x3 convolution with 32·α
 * channels, then 13 depth-wise separable blocks — a 3x3 depth-wise convolution unit and a 1x1 point-wise
 * convolution unit, each with batch normalization and ReLU — of 64, 128, 128, 256, 256, 512 (×6), 1024, 1024
 * channels times the width multiplier α, global average pooling and the classifier. For 32x32 (and 28x28)
 * inputs the stem and the first block keep stride 1 and the blocks that halve the resolution are the 2nd,
 * 4th, 6th and 12th (the paper's strides after its stem), so the last feature map is 2x2.
 *
 * <p>Vertex names: {@code conv1}, {@code dw1, pw1 .. dw13, pw13} (units, see {@link GraphLayers}),
 * {@code pool} ({@code pool_act}) and {@code output}.
 */
public final class MobileNetV1 {
    private static final int[] CHANNELS = {64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024};
    private static final int[] STRIDES = {1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1};

    /**
     * @param width     the width multiplier α, in (0, 4]
     * @param batchNorm normalization after every convolution
     * @param folding   folding of the point-wise and stem convolutions' normalizations (standard only;
     *                  depth-wise convolutions keep theirs)
     */
    public record Options(double width, Normalization batchNorm, BnFolding folding) {
        public Options {
            if (!(width > 0) || width > 4) {
                throw new IllegalArgumentException("mobilenet_v1 width " + width + " is not allowed; allowed: (0, 4]");
            }
            if (batchNorm == null || folding == null) {
                throw new IllegalArgumentException("batchNorm and folding must not be null");
            }
        }

        /** α = 1, batch normalization, no folding. */
        public static Options defaults() {
            return new Options(1, Normalization.STANDARD, BnFolding.none());
        }
    }

    private MobileNetV1() {
    }

    /** Builds the graph with the layers the plan quantizes replaced by their quantized twins. */
    public static ComputationGraphConfiguration build(Options o, InputSpec in, NetSettings s, QuantPlan plan) {
        ComputationGraphConfiguration.GraphBuilder g = ZooSupport.base(s, org.deeplearning4j.nn.weights.WeightInit.RELU)
                .graphBuilder().addInputs("input");
        GraphLayers layers = new GraphLayers(g, plan, o.batchNorm(), o.folding());
        String x = layers.conv("conv1", "input", 3, VggSmall.scaled(32, o.width()), 1, Activation.RELU);
        for (int i = 0; i < CHANNELS.length; i++) {
            x = layers.depthwise("dw" + (i + 1), x, 3, STRIDES[i], Activation.RELU);
            x = layers.conv("pw" + (i + 1), x, 1, VggSmall.scaled(CHANNELS[i], o.width()), 1, Activation.RELU);
        }
        String pooled = layers.globalAvgPool("pool", x, true);
        layers.output("output", pooled, in.numClasses(), 0);
        g.setOutputs("output");
        g.setInputTypes(InputType.convolutionalFlat(in.height(), in.width(), in.channels()));
        return g.build();
    }
}
