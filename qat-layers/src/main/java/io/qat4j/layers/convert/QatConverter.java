package io.qat4j.layers.convert;

import io.qat4j.layers.nn.QuantAddVertex;
import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.quant.QuantSpec;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a float DL4J network (configuration or trained model, {@code MultiLayerNetwork} or
 * {@code ComputationGraph}) into its quantization-aware twin, like PyTorch's {@code prepare_qat} or QKeras's
 * {@code model_quantize}, and reports what it did to every layer and vertex ({@link ConversionReport}).
 *
 * <p>Each layer is offered to a {@link QuantizationRule}; when the rule returns sites that are not all float,
 * the layer is replaced by its quantized twin with every configuration field copied ({@link LayerTwins}):
 * {@code DenseLayer} → {@code QuantDense}, {@code ConvolutionLayer} (exactly that class) → {@code QuantConv2D},
 * {@code DepthwiseConvolution2D} → {@code QuantDepthwiseConv2D}, {@code SeparableConvolution2D} →
 * {@code QuantSeparableConv2D} (the point-wise weights follow the weight site), {@code OutputLayer} →
 * {@code QuantOutput}. With {@link Options}:
 * <ul>
 *   <li>{@code foldBatchNorm}: a {@code BatchNormalization} right after a converted conv / dense layer (its only
 *       consumer, identity activation) and the layer become one {@code QuantConvBN2D} / {@code QuantDenseBN} (the
 *       linear layer's name; the normalization's consumers read it), with the normalization's decay and epsilon;
 *       converting a trained network copies W, b, γ, β and the running mean and variance (DL4J's log10 standard
 *       deviation converted to a variance) and starts with frozen statistics, so the twin computes what the float
 *       network computes ({@code bnStart} chooses batch statistics instead, to train from scratch);</li>
 *   <li>{@code addSpec}: each {@code ElementWiseVertex(Add)} of a graph becomes a {@code QuantAddVertex} with that
 *       output spec, taking over a ReLU {@code ActivationLayer} that is its only consumer;</li>
 *   <li>{@code convertFloatSites}: layers whose sites are all float are replaced too (their twins compute the
 *       same).</li>
 * </ul>
 * Every other layer and vertex (pooling, activation, dropout, padding, local response normalization, merge,
 * preprocessors, ...), the input type and the network-level settings (seed, data type, updater, ...) are kept.
 *
 * <p>Converting a trained network copies its parameters by layer and key; the quantized layers' observer state
 * ({@code qin}, {@code qout}) starts empty and the updater starts fresh (the float configuration's updater, no
 * state). The report is logged (a summary at INFO, the table at DEBUG) and returned by the {@code convert}
 * methods; the {@code quantize} methods return the twin alone with the default options.
 *
 * <pre>
 * QatConverter.Result&lt;ComputationGraph&gt; r = QatConverter.convert(trained,
 *     QuantizationRule.uniform(QuantSites.of("uint8", "int(bits=8, axis=channel)", "float", "float")),
 *     QatConverter.Options.DEFAULTS.withFoldBatchNorm(true).withAddSpec("int(bits=8, signed=false, observer=ema)"));
 * System.out.println(r.report().toTable());
 * </pre>
 */
public final class QatConverter {
    private static final Logger LOG = LoggerFactory.getLogger(QatConverter.class);

    private QatConverter() {
    }

    /** How the statistics of a layer with folded batch normalization start. */
    public enum BnStart {
        /** Frozen when converting a network (its trained statistics), batch statistics when converting a configuration. */
        AUTO,
        /** Frozen running statistics: the twin computes what the float network computes (fine-tuning). */
        FROZEN,
        /** Batch statistics until frozen ({@code BnFreezeListener}, {@code freezeBnAfter}): training from scratch. */
        BATCH_STATISTICS
    }

    /**
     * Options of a conversion.
     *
     * @param foldBatchNorm     fold {@code BatchNormalization} into the converted conv / dense layer before it
     * @param bnStart           how the folded statistics start (default {@link BnStart#AUTO})
     * @param addSpec           output spec of the {@code QuantAddVertex} replacing each {@code ElementWiseVertex(Add)},
     *                          or null to keep the additions float
     * @param convertFloatSites replace layers even when the rule gives them all-float sites
     */
    public record Options(boolean foldBatchNorm, BnStart bnStart, QuantSpec addSpec, boolean convertFloatSites) {
        /** Nothing folded, additions kept, layers with all-float sites kept. */
        public static final Options DEFAULTS = new Options(false, BnStart.AUTO, null, false);

        /**
         * @throws IllegalArgumentException for a null {@code bnStart} or an add spec a {@link QuantAddVertex} does not
         *     take
         */
        public Options {
            if (bnStart == null) {
                throw new IllegalArgumentException("bnStart must not be null; allowed: " + java.util.Arrays.toString(
                        BnStart.values()));
            }
            if (addSpec != null) {
                QuantAddVertex.validate(addSpec);
            }
        }

        public Options withFoldBatchNorm(boolean fold) {
            return new Options(fold, bnStart, addSpec, convertFloatSites);
        }

        public Options withBnStart(BnStart start) {
            return new Options(foldBatchNorm, start, addSpec, convertFloatSites);
        }

        /** Additions quantized with this spec (null: kept float). */
        public Options withAddSpec(QuantSpec spec) {
            return new Options(foldBatchNorm, bnStart, spec, convertFloatSites);
        }

        /** Additions quantized with this spec string, e.g. {@code int(bits=8, signed=false, observer=ema)}. */
        public Options withAddSpec(String spec) {
            return withAddSpec(QuantSpec.parse(spec));
        }

        public Options withConvertFloatSites(boolean convert) {
            return new Options(foldBatchNorm, bnStart, addSpec, convert);
        }

        /** Whether folded statistics start frozen, for a network ({@code trained}) or a configuration. */
        boolean bnFrozen(boolean trained) {
            return bnStart == BnStart.FROZEN || (bnStart == BnStart.AUTO && trained);
        }
    }

    /**
     * A converted network or configuration and the report of its conversion.
     *
     * @param model  the quantization-aware twin
     * @param report what happened to each layer and vertex
     */
    public record Result<T>(T model, ConversionReport report) {
    }

    /** True for the layer classes the converter can replace ({@link LayerTwins}). */
    public static boolean isConvertible(Layer layer) {
        return layer != null && LayerTwins.noTwinReason(layer) == null;
    }

    /**
     * The quantized twin of one layer with these sites (even all-float ones).
     *
     * @throws IllegalArgumentException for a layer class that has no quantized twin, or a {@code DenseLayer} with
     *     layer normalization
     */
    public static Layer convert(Layer layer, QuantSites sites) {
        requireNonNull(layer, "layer");
        requireNonNull(sites, "sites");
        return LayerTwins.convert(layer, sites);
    }

    // ------------------------------------------------------------------ with a report

    /** The quantized twin of a MultiLayerNetwork configuration and the report (the input is not modified). */
    public static Result<MultiLayerConfiguration> convert(MultiLayerConfiguration floatConf, QuantizationRule rule,
                                                          Options options) {
        check(floatConf, rule, options);
        StackConversion.Plan p = StackConversion.plan(floatConf, rule, options, false);
        return logged(new Result<>(p.conf(), p.report()), "MultiLayerConfiguration");
    }

    /** The quantized twin of a ComputationGraph configuration and the report (the input is not modified). */
    public static Result<ComputationGraphConfiguration> convert(ComputationGraphConfiguration floatConf,
                                                                QuantizationRule rule, Options options) {
        check(floatConf, rule, options);
        GraphConversion.Plan p = GraphConversion.plan(floatConf, rule, options, false);
        return logged(new Result<>(p.conf(), p.report()), "ComputationGraphConfiguration");
    }

    /** The quantized twin of a trained MultiLayerNetwork, initialized with its parameters, and the report. */
    public static Result<MultiLayerNetwork> convert(MultiLayerNetwork trained, QuantizationRule rule, Options options) {
        check(trained, rule, options);
        return logged(StackConversion.convert(trained, rule, options), "MultiLayerNetwork");
    }

    /** The quantized twin of a trained ComputationGraph, initialized with its parameters, and the report. */
    public static Result<ComputationGraph> convert(ComputationGraph trained, QuantizationRule rule, Options options) {
        check(trained, rule, options);
        return logged(GraphConversion.convert(trained, rule, options), "ComputationGraph");
    }

    // ------------------------------------------------------------------ the twin alone, default options

    /** The quantized twin of a MultiLayerNetwork configuration (the input is not modified). */
    public static MultiLayerConfiguration quantize(MultiLayerConfiguration floatConf, QuantizationRule rule) {
        return convert(floatConf, rule, Options.DEFAULTS).model();
    }

    /** The quantized twin of a ComputationGraph configuration (the input is not modified). */
    public static ComputationGraphConfiguration quantize(ComputationGraphConfiguration floatConf,
                                                         QuantizationRule rule) {
        return convert(floatConf, rule, Options.DEFAULTS).model();
    }

    /** The quantized twin of a trained MultiLayerNetwork, initialized with its parameters. */
    public static MultiLayerNetwork quantize(MultiLayerNetwork trained, QuantizationRule rule) {
        return convert(trained, rule, Options.DEFAULTS).model();
    }

    /** The quantized twin of a trained ComputationGraph, initialized with its parameters. */
    public static ComputationGraph quantize(ComputationGraph trained, QuantizationRule rule) {
        return convert(trained, rule, Options.DEFAULTS).model();
    }

    private static <T> Result<T> logged(Result<T> r, String kind) {
        LOG.info("{} converted: {}", kind, r.report().summary());
        if (LOG.isDebugEnabled()) {
            LOG.debug("conversion report\n{}", r.report().toTable());
        }
        return r;
    }

    private static void check(Object network, QuantizationRule rule, Options options) {
        requireNonNull(network, "the network");
        requireNonNull(rule, "rule");
        requireNonNull(options, "options");
    }

    private static void requireNonNull(Object o, String what) {
        if (o == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
    }
}
