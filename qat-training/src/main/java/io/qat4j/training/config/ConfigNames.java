package io.qat4j.training.config;

import java.util.List;

/** The allowed names of every enumerated config value, listed in one place. */
public final class ConfigNames {

    /** {@code dataset.name}. */
    public static final List<String> DATASETS = List.of("mnist", "fashion-mnist", "cifar10");
    /** Datasets for which {@code dataset.augment: true} is allowed. */
    public static final List<String> AUGMENTABLE_DATASETS = List.of("cifar10");
    /** {@code dataset.normalization}: {@code unit} scales pixels to [0, 1]; {@code standardize} uses per-channel mean/std. */
    public static final List<String> NORMALIZATIONS = List.of("unit", "standardize");
    /** {@code model.name}. */
    public static final List<String> MODELS = List.of("lenet5", "mlp", "resnet", "vgg_small", "mobilenet_v1");
    /** {@code model.options.shortcut} for resnet: A = zero-padding identity, B = 1x1 projection. */
    public static final List<String> RESNET_SHORTCUTS = List.of("A", "B");
    /** {@code model.options.variant} for lenet5: caffe = 20C5-MP2-50C5-MP2-500FC, wage = 32C5-MP2-64C5-MP2-512FC. */
    public static final List<String> LENET5_VARIANTS = List.of("caffe", "wage");
    /**
     * {@code model.options.batch_norm}, besides {@code false} (none) and {@code true} (= {@code standard}):
     * {@code standard} = DL4J's batch normalization, {@code range} = RangeBN (Banner et al., 1805.11046),
     * {@code l1} = L1BN (Wu et al., 1802.09769).
     */
    public static final List<String> BATCH_NORMS = List.of("standard", "range", "l1");
    /** {@code model.options.activation}. */
    public static final List<String> ACTIVATIONS = List.of("relu", "tanh", "hardtanh");
    /** {@code training.optimizer.name}. */
    public static final List<String> OPTIMIZERS = List.of("sgd", "nesterov", "adam");
    /** {@code training.schedule.type}. */
    public static final List<String> SCHEDULES = List.of("constant", "step", "exponential", "cosine", "multistep");
    /** {@code training.loss}: cross-entropy on softmax outputs, or WAGE's sum of squared errors on the raw outputs. */
    public static final List<String> LOSSES = List.of("cross_entropy", "sse");
    /** {@code quantization.layers[].kind}. */
    public static final List<String> LAYER_KINDS = List.of("conv", "dense", "output", "batchnorm", "activation", "default");

    private ConfigNames() {
    }
}
