package io.qat4j.zoo;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.nd4j.linalg.activations.Activation;

/**
 * ResNet for small images (He et al., "Deep Residual Learning for Image Recognition", 1512.03385, §4.2):
 * a 3x3 convolution with 16·w channels, three stages of n basic blocks with 16·w, 32·w and 64·w channels
 * (the first block of stages 2 and 3 halves the resolution with stride 2), global average pooling and the
 * classifier; depth 6n+2 (ResNet-8, 14, 20, 32, 44, 56, 110). A basic block is two 3x3 convolution units,
 * the second without activation, added to the shortcut, then ReLU. Where the width changes the shortcut is
 * either option A, the input subsampled with stride 2 and zero-padded to the new width (the paper's CIFAR
 * choice, no parameters), or option B, a 1x1 convolution unit with stride 2 (a projection).
 *
 * <p>Vertex names: {@code conv1} (stem), then for stage s and block b the prefix {@code s<s>b<b>}:
 * {@code _conv1, _conv2} (units, see {@link GraphLayers}), {@code _proj} (option B) or {@code _down, _pad}
 * (option A), {@code _add} and {@code _add_relu}; then {@code pool} (and {@code pool_act} when quantized) and
 * {@code output}. Quantized, the residual branch is quantized signed after its normalization
 * ({@code _conv2_act}, or the fused layer's output), the block output unsigned after the ReLU.
 */
public final class ResNet {

    /** The two shortcut options of the paper where the width changes. */
    public enum Shortcut {
        /** Stride-2 subsampling and zero channels: no parameters. */
        A,
        /** 1x1 convolution with stride 2 and normalization. */
        B;

        /** Parses {@code A} / {@code B} (either case). */
        public static Shortcut fromName(String name) {
            return switch (name.toUpperCase(java.util.Locale.ROOT)) {
                case "A" -> A;
                case "B" -> B;
                default -> throw new IllegalArgumentException("unknown shortcut '" + name + "'; allowed: A, B");
            };
        }
    }

    /**
     * @param depth     6n+2 with n ≥ 1 (8, 14, 20, 32, 44, 56, 110)
     * @param width     channel multiplier of 16/32/64, ≥ 1
     * @param shortcut  option A or B where the width changes
     * @param batchNorm normalization after every convolution ({@link Normalization#NONE} for none)
     * @param folding   folding of the normalizations into the convolutions (standard normalization only)
     */
    public record Options(int depth, int width, Shortcut shortcut, Normalization batchNorm, BnFolding folding) {
        public Options {
            if (depth < 8 || (depth - 2) % 6 != 0) {
                throw new IllegalArgumentException("resnet depth " + depth + " is not allowed; allowed: 6n+2 with n >= 1 "
                        + "(8, 14, 20, 32, 44, 56, 110)");
            }
            if (width < 1) {
                throw new IllegalArgumentException("resnet width " + width + " is not allowed; allowed: an integer >= 1");
            }
            if (shortcut == null || batchNorm == null || folding == null) {
                throw new IllegalArgumentException("shortcut, batchNorm and folding must not be null");
            }
        }

        /** ResNet-20, width 1, option A, standard batch normalization, no folding. */
        public static Options defaults() {
            return new Options(20, 1, Shortcut.A, Normalization.STANDARD, BnFolding.none());
        }
    }

    private ResNet() {
    }

    /** Builds the graph with the layers the plan quantizes replaced by their quantized twins. */
    public static ComputationGraphConfiguration build(Options o, InputSpec in, NetSettings s, QuantPlan plan) {
        ComputationGraphConfiguration.GraphBuilder g = ZooSupport.base(s, org.deeplearning4j.nn.weights.WeightInit.RELU)
                .graphBuilder().addInputs("input");
        GraphLayers layers = new GraphLayers(g, plan, o.batchNorm(), o.folding());
        int n = (o.depth() - 2) / 6;
        int channels = 16 * o.width();
        String x = layers.conv("conv1", "input", 3, channels, 1, Activation.RELU);
        for (int stage = 1; stage <= 3; stage++) {
            int out = 16 * o.width() << (stage - 1);
            for (int b = 1; b <= n; b++) {
                String p = "s" + stage + "b" + b;
                int stride = stage > 1 && b == 1 ? 2 : 1;
                String r = layers.conv(p + "_conv1", x, 3, out, stride, Activation.RELU);
                r = layers.conv(p + "_conv2", r, 3, out, 1, Activation.IDENTITY);
                String shortcut = x;
                if (stride != 1 || out != channels) {
                    shortcut = o.shortcut() == Shortcut.A
                            ? layers.padShortcut(p, x, stride, (out - channels) / 2, out - channels - (out - channels) / 2)
                            : layers.conv(p + "_proj", x, 1, out, stride, Activation.IDENTITY);
                }
                x = layers.addRelu(p + "_add", r, shortcut);
                channels = out;
            }
        }
        String pooled = layers.globalAvgPool("pool", x, true);
        layers.output("output", pooled, in.numClasses(), 0);
        g.setOutputs("output");
        g.setInputTypes(InputType.convolutionalFlat(in.height(), in.width(), in.channels()));
        return g.build();
    }
}
