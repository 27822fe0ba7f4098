package io.qat4j.training.model;

import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.train.FixedPointTraining;
import io.qat4j.layers.train.GradientSpec;
import io.qat4j.training.UserException;
import io.qat4j.training.config.ExperimentConfig;
import io.qat4j.training.config.FixedPointConfig;
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
import io.qat4j.zoo.MobileNetV1;
import io.qat4j.zoo.ModelZoo;
import io.qat4j.zoo.NetConf;
import io.qat4j.zoo.ResNet;
import io.qat4j.zoo.VggSmall;
import io.qat4j.zoo.QuantPlan;
import io.qat4j.zoo.NetSettings;
import io.qat4j.zoo.Normalization;
import io.qat4j.zoo.LayerKind;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.lossfunctions.impl.LossL2;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** Turns the {@code model} and {@code training} sections of an experiment into a DL4J network configuration. */
public final class ModelFactory {
    private ModelFactory() {
    }

    /**
     * The network configuration of an experiment: the zoo model with the layers that the
     * {@code quantization} section quantizes replaced by their quantized twins, the loss of
     * {@code training.loss}, and the backward paths of fixed-point training ({@code gradients},
     * {@code errors}, {@code fixed_point}) attached.
     *
     * @throws UserException when the section names unknown layers or asks for a combination that cannot work
     */
    public static NetConf build(ExperimentConfig cfg) {
        DatasetKind kind = DatasetKind.fromName(cfg.dataset().name());
        Object options = zooOptions(cfg.model());
        NetConf floatConf = ModelZoo.build(cfg.model().name(), options, inputSpec(kind), settings(cfg.training()));
        if (cfg.quantization().isFloatEverywhere()) {
            useLoss(floatConf, cfg.training().loss());
            return floatConf;
        }
        List<QuantizationPlan.LayerRef> refs = layerRefs(floatConf);
        QuantizationPlan.requireKnownNames(cfg.quantization(), refs);
        List<QuantizationPlan.LayerPrecision> precisions = QuantizationPlan.resolve(cfg.quantization(), refs);
        // ResNet and MobileNet have no activation option: they use ReLU
        boolean nonNegative = !cfg.model().options().containsKey("activation")
                || "relu".equals(cfg.model().optString("activation"));
        QuantPlan plan;
        try {
            FixedPointConfig fp = cfg.quantization().fixedPoint();
            plan = SitePlan.of(precisions, nonNegative, fp.accumulation(), fp.accumulationChunk(),
                    fp.accumulationBackward());
        } catch (IllegalArgumentException e) {
            throw new UserException("quantization: " + e.getMessage(), e);
        }
        NetConf conf;
        try {
            conf = ModelZoo.build(cfg.model().name(), options, inputSpec(kind), settings(cfg.training()), plan);
        } catch (IllegalArgumentException e) {
            throw new UserException("model " + cfg.model().name() + " with this quantization: " + e.getMessage(), e);
        }
        useLoss(conf, cfg.training().loss());
        applyFixedPoint(cfg, conf, precisions);
        return conf;
    }

    /** {@code training.loss: sse}: the output layer gets WAGE's loss, squared error summed over classes, on raw outputs. */
    static void useLoss(NetConf conf, String loss) {
        switch (loss) {
            case "cross_entropy" -> { }
            case "sse" -> {
                List<org.deeplearning4j.nn.conf.layers.Layer> layers = conf.layers();
                BaseOutputLayer out = (BaseOutputLayer) layers.get(layers.size() - 1);
                out.setLossFn(new LossL2());
                out.setActivationFn(new ActivationIdentity());
            }
            default -> throw new IllegalArgumentException("unknown loss '" + loss + "'; allowed: cross_entropy, sse");
        }
    }

    /** Attaches gradient, update, optimizer-state and loss-side quantization (fixed-point training). */
    static void applyFixedPoint(ExperimentConfig cfg, NetConf conf,
                                List<QuantizationPlan.LayerPrecision> precisions) {
        FixedPointConfig fp = cfg.quantization().fixedPoint();
        Map<String, GradientSpec> gradients = new HashMap<>();
        Map<String, Integer> weightBits = new TreeMap<>();
        boolean wageGradients = false;
        for (QuantizationPlan.LayerPrecision lp : precisions) {
            if (!lp.kind().hasWeights()) {
                continue;
            }
            GradientSpec g;
            try {
                g = SitePlan.gradientSpec(lp.gradients());
            } catch (IllegalArgumentException e) {
                throw new UserException("layer " + lp.layer() + ": quantization.gradients " + lp.gradients() + ": "
                        + e.getMessage(), e);
            }
            gradients.put(lp.layer(), g);
            wageGradients |= g.kind() == GradientSpec.Kind.WAGE;
            QuantSpec w = SitePlan.weightSpec(lp.weights());
            weightBits.put(lp.layer(), w.isFloat() ? 32 : w.bits());
        }
        if (wageGradients) {
            requireWageOptimizer(cfg);
        }
        int wageBits = 0;
        if (fp.wageScale()) {
            String bn = cfg.model().optText("batch_norm");
            if (Normalization.fromName(bn).isPresent()) {
                throw new UserException("quantization.fixed_point.wage_scale: WAGE replaces batch normalization by its "
                        + "constant layer scale, got model.options.batch_norm: " + bn
                        + "; set model.options.batch_norm: false (or wage_scale: false)");
            }
            java.util.Set<Integer> widths = new java.util.TreeSet<>(weightBits.values());
            if (widths.size() != 1 || widths.contains(32) || widths.iterator().next() > 16) {
                throw new UserException("quantization.fixed_point.wage_scale needs the same weight bit width (2..16) in "
                        + "every layer with weights, got " + weightBits + "; set quantization.weights to e.g. "
                        + "\"fixed(m=0, n=1, overflow=saturate_symmetric)\" (2 bits) and no per-layer weight overrides");
            }
            wageBits = widths.iterator().next();
        }
        FixedPointTraining.Options o;
        try {
            o = new FixedPointTraining.Options(SitePlan.updateSpec(fp.updates()), fp.masterWeights(), fp.weightClip(),
                    fp.optimizerState(), fp.lossScale(), wageBits);
            if (conf instanceof NetConf.Graph gr) {
                FixedPointTraining.apply(gr.conf(), gradients::get, o);
            } else {
                FixedPointTraining.apply(((NetConf.Stack) conf).conf(), gradients::get, o);
            }
        } catch (IllegalArgumentException e) {
            throw new UserException("quantization.fixed_point: " + e.getMessage(), e);
        }
    }

    /**
     * WAGE's gradient operator folds the learning rate into the update with shifts: plain SGD and a power-of-two
     * learning rate in every epoch.
     */
    private static void requireWageOptimizer(ExperimentConfig cfg) {
        OptimizerConfig o = cfg.training().optimizer();
        if (!o.name().equals("sgd")) {
            throw new UserException("quantization.gradients wage(...) folds the learning rate into the update (WAGE) and "
                    + "needs training.optimizer.name: sgd, got " + o.name() + "; allowed: sgd");
        }
        if (!FixedPointTraining.isPowerOfTwo(o.lr())) {
            throw new UserException("quantization.gradients wage(...) needs a power-of-two training.optimizer.lr (1, 2, 4, "
                    + "8, 0.5, ...), got " + o.lr());
        }
        var sch = cfg.training().schedule();
        boolean ok = switch (sch.type()) {
            case "constant" -> true;
            case "step", "exponential" -> FixedPointTraining.isPowerOfTwo(sch.gamma());
            default -> false;
        };
        if (!ok) {
            throw new UserException(String.format(Locale.ROOT, "quantization.gradients wage(...) needs power-of-two "
                    + "learning rates in every epoch: training.schedule.type constant, or step / exponential with a "
                    + "power-of-two gamma (0.5, 0.25, 0.125, ...); got %s with gamma %s", sch.type(), sch.gamma()));
        }
    }

    /** The DL4J input type of an experiment's network (flat images for both convolutional and dense models). */
    public static InputType inputType(ExperimentConfig cfg, NetConf conf) {
        InputSpec in = inputSpec(DatasetKind.fromName(cfg.dataset().name()));
        if (conf instanceof NetConf.Graph || conf.layers().get(0) instanceof ConvolutionLayer) {
            return InputType.convolutionalFlat(in.height(), in.width(), in.channels());
        }
        return InputType.feedForward(in.flatSize());
    }

    /** Name and kind of each layer, in order. */
    public static List<QuantizationPlan.LayerRef> layerRefs(NetConf conf) {
        List<QuantizationPlan.LayerRef> refs = new ArrayList<>();
        for (org.deeplearning4j.nn.conf.layers.Layer l : conf.layers()) {
            refs.add(new QuantizationPlan.LayerRef(l.getLayerName(), LayerKind.of(l)));
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
                    Activations.fromName(m.optString("activation")), folding(m), m.optBool("bias"));
            case "mlp" -> new Mlp.Options(m.optIntList("hidden"), Normalization.fromName(m.optText("batch_norm")),
                    m.optDouble("dropout"), Activations.fromName(m.optString("activation")), folding(m),
                    m.optBool("bias"));
            case "resnet" -> new ResNet.Options(m.optInt("depth"), m.optInt("width"),
                    ResNet.Shortcut.fromName(m.optString("shortcut")), Normalization.fromName(m.optText("batch_norm")),
                    folding(m));
            case "vgg_small" -> new VggSmall.Options(m.optDouble("width"), m.optIntList("fc"),
                    Normalization.fromName(m.optText("batch_norm")), m.optDouble("dropout"),
                    Activations.fromName(m.optString("activation")), folding(m));
            case "mobilenet_v1" -> new MobileNetV1.Options(m.optDouble("width"),
                    Normalization.fromName(m.optText("batch_norm")), folding(m));
            default -> throw new IllegalArgumentException("unknown model '" + m.name() + "'; allowed: "
                    + String.join(", ", ModelZoo.NAMES));
        };
    }
}
