package io.qat4j.training.config;

import static io.qat4j.training.config.Schema.bool;
import static io.qat4j.training.config.Schema.boolOrOneOf;
import static io.qat4j.training.config.Schema.integer;
import static io.qat4j.training.config.Schema.listOf;
import static io.qat4j.training.config.Schema.number;
import static io.qat4j.training.config.Schema.oneOf;
import static io.qat4j.training.config.Schema.pathPrecision;
import static io.qat4j.training.config.Schema.precision;
import static io.qat4j.training.config.Schema.quantSpec;
import static io.qat4j.training.config.Schema.string;

import java.util.List;
import java.util.Map;

/** The schema of an experiment config file: every allowed key, its type, range and default (package-private). */
final class ExperimentSchema {

    private ExperimentSchema() {
    }

    static final Schema.MapSchema DATASET = Schema.map()
            .required("name", oneOf(ConfigNames.DATASETS))
            .field("data_dir", string(), "data")
            .field("normalization", oneOf(ConfigNames.NORMALIZATIONS), "unit")
            .field("validation", integer(0, Integer.MAX_VALUE), 5000)
            .field("subset", integer(0, Integer.MAX_VALUE), 0)
            .field("test_subset", integer(0, Integer.MAX_VALUE), 0)
            .field("augment", bool(), false)
            .rule("augment",
                    (augment, dataset) -> !Boolean.TRUE.equals(augment)
                            || !(dataset.get("name") instanceof String name)
                            || ConfigNames.AUGMENTABLE_DATASETS.contains(name),
                    "augmentation is only available for " + String.join(", ", ConfigNames.AUGMENTABLE_DATASETS));

    static final Schema.MapSchema LENET5_OPTIONS = bnFolding(Schema.map("for model lenet5")
            .field("variant", oneOf(ConfigNames.LENET5_VARIANTS), "caffe")
            .field("batch_norm", boolOrOneOf(ConfigNames.BATCH_NORMS), false)
            .field("dropout", number().atLeast(0).below(1), 0.0)
            .field("activation", oneOf(ConfigNames.ACTIVATIONS), "relu")
            .field("bias", bool(), true));

    static final Schema.MapSchema MLP_OPTIONS = bnFolding(Schema.map("for model mlp")
            .field("hidden", listOf(integer(1, 65536), 1), List.of(1024, 1024))
            .field("batch_norm", boolOrOneOf(ConfigNames.BATCH_NORMS), false)
            .field("dropout", number().atLeast(0).below(1), 0.0)
            .field("activation", oneOf(ConfigNames.ACTIVATIONS), "relu")
            .field("bias", bool(), true));

    static final Schema.MapSchema RESNET_OPTIONS = bnFolding(Schema.map("for model resnet")
            .field("depth", integer(8, 1202), 20)
            .field("width", integer(1, 16), 1)
            .field("shortcut", oneOf(ConfigNames.RESNET_SHORTCUTS), "A")
            .field("batch_norm", boolOrOneOf(ConfigNames.BATCH_NORMS), true)
            .rule("depth", (d, m) -> (((Number) d).intValue() - 2) % 6 == 0,
                    "resnet depth must be 6n+2 (8, 14, 20, 32, 44, 56, 110)"));

    static final Schema.MapSchema VGG_SMALL_OPTIONS = bnFolding(Schema.map("for model vgg_small")
            .field("width", number().greaterThan(0).atMost(8), 1.0)
            .field("fc", listOf(integer(1, 65536), 0), List.of(1024, 1024))
            .field("batch_norm", boolOrOneOf(ConfigNames.BATCH_NORMS), true)
            .field("dropout", number().atLeast(0).below(1), 0.0)
            .field("activation", oneOf(ConfigNames.ACTIVATIONS), "relu"));

    static final Schema.MapSchema MOBILENET_V1_OPTIONS = bnFolding(Schema.map("for model mobilenet_v1")
            .field("width", number().greaterThan(0).atMost(4), 1.0)
            .field("batch_norm", boolOrOneOf(ConfigNames.BATCH_NORMS), true));

    /**
     * The batch-norm folding options of a model with {@code batch_norm}: {@code fold_bn}, and when the
     * folded layers freeze their statistics, {@code freeze_bn_after} (epochs) or
     * {@code freeze_bn_after_iterations}; neither = never.
     */
    private static Schema.MapSchema bnFolding(Schema.MapSchema options) {
        return options
                .field("fold_bn", bool(), false)
                .field("freeze_bn_after", integer(0, 100_000))
                .field("freeze_bn_after_iterations", integer(1, Integer.MAX_VALUE))
                .rule("fold_bn", (fold, m) -> !Boolean.TRUE.equals(fold) || Boolean.TRUE.equals(m.get("batch_norm"))
                                || "standard".equals(m.get("batch_norm")),
                        "fold_bn needs batch_norm: true or standard (it fuses each convolution / dense layer with the "
                                + "standard batch normalization after it)")
                .rule("freeze_bn_after", (epochs, m) -> Boolean.TRUE.equals(m.get("fold_bn")),
                        "freeze_bn_after needs fold_bn: true (only folded batch normalization can freeze its statistics)")
                .rule("freeze_bn_after_iterations", (it, m) -> Boolean.TRUE.equals(m.get("fold_bn")),
                        "freeze_bn_after_iterations needs fold_bn: true (only folded batch normalization can freeze "
                                + "its statistics)")
                .rule("freeze_bn_after_iterations", (it, m) -> !m.containsKey("freeze_bn_after"),
                        "give freeze_bn_after (epochs) or freeze_bn_after_iterations, not both");
    }

    static final Schema.MapSchema MODEL = Schema.map()
            .required("name", oneOf(ConfigNames.MODELS))
            .field("options", Schema.select("name", Map.of("lenet5", LENET5_OPTIONS, "mlp", MLP_OPTIONS,
                    "resnet", RESNET_OPTIONS, "vgg_small", VGG_SMALL_OPTIONS, "mobilenet_v1", MOBILENET_V1_OPTIONS)));

    static final Schema.MapSchema OPTIMIZER = Schema.map()
            .field("name", oneOf(ConfigNames.OPTIMIZERS), "adam")
            .field("lr", number().greaterThan(0), 0.001)
            .field("momentum", number().atLeast(0).below(1), 0.9)
            .field("beta1", number().atLeast(0).below(1), 0.9)
            .field("beta2", number().atLeast(0).below(1), 0.999)
            .field("epsilon", number().greaterThan(0), 1e-8);

    static final Schema.MapSchema SCHEDULE = Schema.map()
            .field("type", oneOf(ConfigNames.SCHEDULES), "constant")
            .field("step_epochs", integer(1, Integer.MAX_VALUE), 10)
            .field("gamma", number().greaterThan(0).atMost(1), 0.1)
            .field("min_lr", number().atLeast(0), 0.0)
            .field("milestones", listOf(integer(1, 100_000), 0), List.of())
            .rule("milestones", (v, m) -> isAscending((List<?>) v), "milestones must be ascending epochs, e.g. [82, 123]")
            .rule("milestones", (v, m) -> ((List<?>) v).isEmpty() || "multistep".equals(m.get("type")),
                    "milestones need type: multistep")
            .rule("type", (v, m) -> !"multistep".equals(v) || !((List<?>) m.getOrDefault("milestones", List.of()))
                    .isEmpty(), "type multistep needs milestones, e.g. milestones: [82, 123]");

    private static boolean isAscending(List<?> values) {
        for (int i = 1; i < values.size(); i++) {
            if (((Number) values.get(i)).longValue() <= ((Number) values.get(i - 1)).longValue()) {
                return false;
            }
        }
        return true;
    }

    static final Schema.MapSchema TRAINING = Schema.map()
            .field("epochs", integer(1, 100_000), 10)
            .field("batch_size", integer(1, 65_536), 64)
            .field("seed", integer(Long.MIN_VALUE, Long.MAX_VALUE), 42L)
            .field("weight_decay", number().atLeast(0), 0.0)
            .field("optimizer", OPTIMIZER)
            .field("schedule", SCHEDULE)
            .field("early_stop_patience", integer(0, Integer.MAX_VALUE), 0)
            .field("log_every", integer(1, Integer.MAX_VALUE), 50)
            .field("loss", oneOf(ConfigNames.LOSSES), "cross_entropy");

    /** Precision overrides for one site: all four keys optional, absent means "inherit". */
    static final Schema.MapSchema SITE_OVERRIDE = Schema.map()
            .field("weights", precision())
            .field("activations", precision())
            .field("gradients", pathPrecision("gradients"))
            .field("errors", pathPrecision("errors"));

    static final Schema.MapSchema LAYER_OVERRIDE = Schema.map()
            .field("name", string())
            .field("kind", oneOf(ConfigNames.LAYER_KINDS))
            .field("weights", precision())
            .field("activations", precision())
            .field("gradients", pathPrecision("gradients"))
            .field("errors", pathPrecision("errors"))
            .exactlyOneOf("name", "kind");

    /** Network-wide settings of fixed-point training (the backward half of the training step). */
    static final Schema.MapSchema FIXED_POINT = Schema.map()
            .field("master_weights", quantSpec(), "float")
            .field("weight_clip", number().atLeast(0), 0.0)
            .field("updates", pathPrecision("updates"), "float")
            .field("optimizer_state", quantSpec(), "float")
            .field("loss_scale", number().atLeast(1).atMost(16_777_216), 1.0)
            .field("wage_scale", bool(), false)
            .field("accumulation", quantSpec(), "float")
            .field("accumulation_chunk", integer(1, 1 << 20), 64)
            .field("accumulation_backward", bool(), false)
            .rule("accumulation_backward", (v, m) -> !Boolean.TRUE.equals(v) || !"float".equals(m.getOrDefault(
                    "accumulation", "float")), "accumulation_backward needs an accumulation format (e.g. fp16)")
            .rule("loss_scale", (v, m) -> io.qat4j.layers.train.FixedPointTraining.isPowerOfTwo(((Number) v).doubleValue()),
                    "the loss scale must be a power of two (1, 2, 4, ..., 16777216) so that scaling is exact");

    static final Schema.MapSchema QUANTIZATION = Schema.map()
            .field("weights", precision(), "float")
            .field("activations", precision(), "float")
            .field("gradients", pathPrecision("gradients"), "float")
            .field("errors", pathPrecision("errors"), "float")
            .field("first_layer", SITE_OVERRIDE)
            .field("last_layer", SITE_OVERRIDE)
            .field("layers", listOf(LAYER_OVERRIDE, 0), List.of())
            .field("fixed_point", FIXED_POINT);

    static final Schema.MapSchema ROOT = Schema.map()
            .field("extends", string())
            .field("name", string())
            .field("description", string())
            .field("dataset", DATASET)
            .field("model", MODEL)
            .field("training", TRAINING)
            .field("quantization", QUANTIZATION)
            .field("init_from", string());
}
