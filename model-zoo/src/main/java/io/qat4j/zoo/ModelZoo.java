package io.qat4j.zoo;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;

import java.util.List;

/**
 * The one switch from a model name to a network configuration.
 *
 * <p>Each model takes a typed options record ({@link LeNet5.Options}, {@link Mlp.Options}, {@link ResNet.Options},
 * {@link VggSmall.Options}, {@link MobileNetV1.Options}); callers
 * translate their configuration files into those records.
 */
public final class ModelZoo {

    /** Model names accepted by {@link #build}. */
    public static final List<String> NAMES = List.of("lenet5", "mlp", "resnet", "vgg_small", "mobilenet_v1");

    private ModelZoo() {
    }

    /**
     * Builds the named model.
     *
     * @param name    one of {@link #NAMES}
     * @param options the options record of that model
     */
    public static NetConf build(String name, Object options, InputSpec in, NetSettings s) {
        return build(name, options, in, s, QuantPlan.none());
    }

    /** Builds the named model with the quantization {@code plan}. */
    public static NetConf build(String name, Object options, InputSpec in, NetSettings s, QuantPlan plan) {
        return switch (name) {
            case "lenet5" -> new NetConf.Stack(LeNet5.build(cast(name, options, LeNet5.Options.class), in, s, plan));
            case "mlp" -> new NetConf.Stack(Mlp.build(cast(name, options, Mlp.Options.class), in, s, plan));
            case "resnet" -> new NetConf.Graph(ResNet.build(cast(name, options, ResNet.Options.class), in, s, plan));
            case "vgg_small" -> new NetConf.Graph(VggSmall.build(cast(name, options, VggSmall.Options.class), in, s,
                    plan));
            case "mobilenet_v1" -> new NetConf.Graph(MobileNetV1.build(cast(name, options, MobileNetV1.Options.class),
                    in, s, plan));
            default -> throw new IllegalArgumentException("unknown model '" + name + "'; allowed: " + String.join(", ", NAMES));
        };
    }

    private static <T> T cast(String name, Object options, Class<T> type) {
        if (!type.isInstance(options)) {
            throw new IllegalArgumentException("model '" + name + "' takes " + type.getName() + " options, got "
                    + (options == null ? "null" : options.getClass().getName()));
        }
        return type.cast(options);
    }
}
