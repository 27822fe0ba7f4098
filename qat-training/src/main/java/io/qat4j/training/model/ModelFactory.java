package io.qat4j.training.model;

import io.qat4j.training.config.ExperimentConfig;
import io.qat4j.training.config.ModelConfig;
import io.qat4j.training.config.OptimizerConfig;
import io.qat4j.training.config.TrainingConfig;
import io.qat4j.training.data.DatasetKind;
import io.qat4j.layers.nn.BnFreezeListener;
import io.qat4j.zoo.Activations;
import io.qat4j.zoo.BnFolding;
import io.qat4j.zoo.InputSpec;
import io.qat4j.zoo.LeNet5;
import io.qat4j.zoo.Mlp;
import io.qat4j.zoo.ModelZoo;
import io.qat4j.zoo.QuantPlan;
import io.qat4j.zoo.NetSettings;
import io.qat4j.zoo.Normalization;
import io.qat4j.zoo.LayerKind;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;

import java.util.ArrayList;
import java.util.List;

/** Turns the {@code model} and {@code training} sections of an experiment into a DL4J network configuration. */
public final class ModelFactory {
    private ModelFactory() {
    }

    /**
     * The network configuration of an experiment: the zoo model with the layers that the
     * {@code quantization} section quantizes replaced by their quantized twins.
     *
     * @throws UserException when the section names unknown layers or asks for what this release cannot do
     */
    public static MultiLayerConfiguration build(ExperimentConfig cfg) {
        DatasetKind kind = DatasetKind.fromName(cfg.dataset().name());
        Object options = zooOptions(cfg.model());
        MultiLayerConfiguration floatConf = ModelZoo.build(cfg.model().name(), options, inputSpec(kind), settings(cfg.training()));
        if (cfg.quantization().isFloatEverywhere()) {
            return floatConf;
        }
        List<QuantizationPlan.LayerRef> refs = layerRefs(floatConf);
        QuantizationPlan.requireKnownNames(cfg.quantization(), refs);
        List<QuantizationPlan.LayerPrecision> precisions = QuantizationPlan.resolve(cfg.quantization(), refs);
        boolean nonNegative = "relu".equals(cfg.model().optString("activation"));
        QuantPlan plan = SitePlan.of(precisions, nonNegative);
        return ModelZoo.build(cfg.model().name(), options, inputSpec(kind), settings(cfg.training()), plan);
    }

    /** The DL4J input type of an experiment's network (flat images for both convolutional and dense models). */
    public static InputType inputType(ExperimentConfig cfg, MultiLayerConfiguration conf) {
        InputSpec in = inputSpec(DatasetKind.fromName(cfg.dataset().name()));
        if (conf.getConf(0).getLayer() instanceof ConvolutionLayer) {
            return InputType.convolutionalFlat(in.height(), in.width(), in.channels());
        }
        return InputType.feedForward(in.flatSize());
    }

    /** Name and kind of each layer, in order. */
    public static List<QuantizationPlan.LayerRef> layerRefs(MultiLayerConfiguration conf) {
        List<QuantizationPlan.LayerRef> refs = new ArrayList<>();
        for (NeuralNetConfiguration c : conf.getConfs()) {
            refs.add(new QuantizationPlan.LayerRef(c.getLayer().getLayerName(), LayerKind.of(c.getLayer())));
        }
        return refs;
    }

    /** Image shape and class count of a data set. */
    public static InputSpec inputSpec(DatasetKind kind) {
        return new InputSpec(kind.channels(), kind.height(), kind.width(), kind.numClasses());
    }

    /** Seed, optimizer and weight decay. */
    public static NetSettings settings(TrainingConfig t) {
        return new NetSettings(t.seed(), updater(t.optimizer()), t.weightDecay());
    }

    /** The one switch from optimizer name to DL4J updater. */
    public static IUpdater updater(OptimizerConfig o) {
        return switch (o.name()) {
            case "sgd" -> new Sgd(o.lr());
            case "nesterov" -> new Nesterovs(o.lr(), o.momentum());
            case "adam" -> new Adam(o.lr(), o.beta1(), o.beta2(), o.epsilon());
            default -> throw new IllegalArgumentException("unknown optimizer '" + o.name() + "'; allowed: sgd, nesterov, adam");
        };
    }

    /**
     * The training listeners an experiment's model needs: a {@link BnFreezeListener} when the folded batch
     * normalization freezes its statistics after {@code model.options.freeze_bn_after} epochs.
     */
    public static List<TrainingListener> listeners(ExperimentConfig cfg) {
        Integer epochs = cfg.model().optIntOrNull("freeze_bn_after");
        return epochs == null ? List.of() : List.of(new BnFreezeListener(epochs));
    }

    /** {@code fold_bn} and {@code freeze_bn_after_iterations} as the zoo's folding option. */
    static BnFolding folding(ModelConfig m) {
        if (!m.optBool("fold_bn")) {
            return BnFolding.none();
        }
        Integer iterations = m.optIntOrNull("freeze_bn_after_iterations");
        return BnFolding.folded(iterations == null ? 0 : iterations);
    }

    /** The one switch from model name to the zoo's typed options. */
    static Object zooOptions(ModelConfig m) {
        return switch (m.name()) {
            case "lenet5" -> new LeNet5.Options(LeNet5.Variant.fromName(m.optString("variant")),
                    Normalization.fromName(m.optText("batch_norm")), m.optDouble("dropout"),
                    Activations.fromName(m.optString("activation")), folding(m));
            case "mlp" -> new Mlp.Options(m.optIntList("hidden"), Normalization.fromName(m.optText("batch_norm")),
                    m.optDouble("dropout"), Activations.fromName(m.optString("activation")), folding(m));
            default -> throw new IllegalArgumentException("unknown model '" + m.name() + "'; allowed: "
                    + String.join(", ", ModelZoo.NAMES));
        };
    }
}
