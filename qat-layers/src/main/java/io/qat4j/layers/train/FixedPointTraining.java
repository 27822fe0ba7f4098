package io.qat4j.layers.train;

import io.qat4j.layers.nn.QuantLayer;
import io.qat4j.layers.quant.QuantSpec;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.learning.regularization.L1Regularization;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.learning.regularization.Regularization;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Turns a network configuration into a fixed-point training configuration: attaches the gradient,
 * update, optimizer-state and loss-side quantization of the backward half of the training step to the
 * layers. Everything it adds is part of the DL4J configuration (JSON), so a saved model trains on the
 * same way after {@code ModelSerializer} restores it.
 *
 * <p>Where each tensor is quantized in DL4J's training step (1.0.0-M2.1: forward, backward,
 * divide by minibatch, gradient normalization, regularization BEFORE_UPDATER, updater,
 * regularization POST_UPDATER, {@code params -= update}):
 * <ul>
 *   <li>E, the error a quantized layer hands back: inside the layer's backward pass
 *       ({@link ErrorSite}, the {@code errors} site of {@code QuantSites}); the error entering the output
 *       layer: its loss function ({@link QuantizedLoss}), which also applies the loss scale;</li>
 *   <li>G, weight and bias gradients: {@link GradientQuantization} before the updater;</li>
 *   <li>optimizer state and loss-scale removal: the updater ({@link QuantizedUpdater});</li>
 *   <li>the update ΔW and the stored weights: {@link WeightUpdateQuantization} after the updater;</li>
 *   <li>WAGE's constant layer scale α and initialization: {@link ScaledActivation}, {@link WageWeightInit}.</li>
 * </ul>
 * Batch-normalization parameters take no regularization in DL4J, so their gradients stay float (the
 * loss scale is still removed, by the updater).
 *
 * <p>Example: {@code FixedPointTraining.apply(conf, name -> GradientSpec.parse("int(bits=8, rounding=stochastic)"),
 * FixedPointTraining.Options.NONE)}.
 */
public final class FixedPointTraining {

    /**
     * Network-wide options.
     *
     * @param updates        format of the update ΔW after the updater ({@code float}: none)
     * @param masterWeights  format the weights are stored in ({@code float}: float32 master weights)
     * @param weightClip     0, or clip stored weights to [-clip, clip] after each update
     * @param optimizerState format of momentum / Adam moments ({@code float}: float32)
     * @param lossScale      static loss scale, a power of two (1: none)
     * @param wageScaleBits  0, or the weight bits k_W of WAGE's layer scale α and initialization
     */
    public record Options(GradientSpec updates, QuantSpec masterWeights, double weightClip, QuantSpec optimizerState,
                          double lossScale, int wageScaleBits) {
        /** Nothing network-wide. */
        public static final Options NONE = new Options(GradientSpec.FLOAT, QuantSpec.FLOAT, 0, QuantSpec.FLOAT, 1, 0);

        public Options {
            updates.requireAllowedFor("updates");
            GradientSpec.of(masterWeights);
            GradientSpec.of(optimizerState);
            if (!(weightClip >= 0) || !Double.isFinite(weightClip)) {
                throw new IllegalArgumentException("weight clip must be 0 (none) or positive, got " + weightClip);
            }
            QuantizedUpdater.checkLossScale(lossScale);
            if (wageScaleBits != 0) {
                Wage.wm(wageScaleBits);
            }
        }

        boolean storesWeights() {
            return !updates.isFloat() || !masterWeights.isFloat() || weightClip > 0;
        }

        boolean wrapsUpdater() {
            return !optimizerState.isFloat() || lossScale != 1;
        }
    }

    private FixedPointTraining() {
    }

    /**
     * Edits {@code conf} in place (and returns it).
     *
     * @param gradients the gradient spec of each layer, by layer name (null means float); layers without weights
     *                  (pooling, activation, batch normalization) ignore theirs
     * @param o         network-wide options
     * @throws IllegalArgumentException when a combination cannot work, naming the layer and the allowed choices
     */
    public static MultiLayerConfiguration apply(MultiLayerConfiguration conf, Function<String, GradientSpec> gradients,
                                                Options o) {
        apply(indexedLayers(conf), gradients, o);
        return conf;
    }

    /** {@link #apply(MultiLayerConfiguration, Function, Options)} for a graph. */
    public static ComputationGraphConfiguration apply(ComputationGraphConfiguration conf,
                                                      Function<String, GradientSpec> gradients, Options o) {
        apply(indexedLayers(conf), gradients, o);
        return conf;
    }

    /** The layers of a stack by their DL4J layer index. */
    static Map<Integer, Layer> indexedLayers(MultiLayerConfiguration conf) {
        Map<Integer, Layer> out = new java.util.LinkedHashMap<>();
        for (int i = 0; i < conf.getConfs().size(); i++) {
            out.put(i, conf.getConf(i).getLayer());
        }
        return out;
    }

    /**
     * The layers of a graph by the index DL4J gives their vertex: the network inputs first, then the vertices in
     * the order they were added ({@code ComputationGraph.calculateIndices}).
     */
    static Map<Integer, Layer> indexedLayers(ComputationGraphConfiguration conf) {
        Map<Integer, Layer> out = new java.util.LinkedHashMap<>();
        int i = conf.getNetworkInputs().size();
        for (var v : conf.getVertices().values()) {
            if (v instanceof org.deeplearning4j.nn.conf.graph.LayerVertex lv) {
                out.put(i, lv.getLayerConf().getLayer());
            }
            i++;
        }
        return out;
    }

    private static void apply(Map<Integer, Layer> layers, Function<String, GradientSpec> gradients, Options o) {
        for (Map.Entry<Integer, Layer> entry : layers.entrySet()) {
            int i = entry.getKey();
            Layer l = entry.getValue();
            String name = l.getLayerName();
            boolean weighted = isWeighted(l);
            GradientSpec g = gradients.apply(name);
            g = g == null ? GradientSpec.FLOAT : g.requireAllowedFor("gradients");
            if (!weighted) {
                g = GradientSpec.FLOAT; // no weights, or parameters DL4J does not regularize (batch normalization)
            }
            if (!(l instanceof BaseLayer bl)) {
                continue;
            }
            if (o.lossScale() != 1) {
                rejectBeforeUpdaterPenalty(bl);
            }
            if (!g.isFloat()) {
                if (g.kind() == GradientSpec.Kind.WAGE) {
                    requirePowerOfTwoSgd(bl, g);
                }
                int axis = weightChannelAxis(l);
                bl.setRegularization(plus(bl.getRegularization(), new GradientQuantization(g, i, axis, 0)));
                bl.setRegularizationBias(plus(bl.getRegularizationBias(), new GradientQuantization(g, i, -1, 1)));
            }
            if (weighted && o.storesWeights()) {
                bl.setRegularization(plus(bl.getRegularization(),
                        new WeightUpdateQuantization(o.updates(), o.masterWeights(), o.weightClip(), i, 0)));
                bl.setRegularizationBias(plus(bl.getRegularizationBias(),
                        new WeightUpdateQuantization(o.updates(), o.masterWeights(), o.weightClip(), i, 1)));
            }
            if (o.wrapsUpdater()) {
                bl.setIUpdater(wrap(bl.getIUpdater(), o));
                if (bl.getBiasUpdater() != null) {
                    bl.setBiasUpdater(wrap(bl.getBiasUpdater(), o));
                }
            }
            if (weighted && o.wageScaleBits() > 0) {
                double alpha = Wage.alpha(o.wageScaleBits(), fanIn(l));
                bl.setActivationFn(new ScaledActivation(bl.getActivationFn(), 1.0 / alpha));
                bl.setWeightInitFn(new WageWeightInit(o.wageScaleBits()));
            }
            if (l instanceof BaseOutputLayer out) {
                GradientSpec e = out instanceof QuantLayer q ? q.getQuantSites().errors() : GradientSpec.FLOAT;
                if (!e.isFloat() || o.lossScale() != 1) {
                    if (out.getLossFn() instanceof QuantizedLoss) {
                        throw new IllegalArgumentException("layer " + name + ": the loss is already quantized; apply "
                                + "FixedPointTraining once");
                    }
                    out.setLossFn(new QuantizedLoss(out.getLossFn(), e, o.lossScale(), i));
                }
            }
        }
    }

    /**
     * Puts freshly initialized weights and biases on their stored format (low-precision master weights, weight
     * clip); call once after {@code net.init()} when training starts from scratch.
     */
    public static void initialize(org.deeplearning4j.nn.api.Model net) {
        org.deeplearning4j.nn.api.Layer[] all = net instanceof org.deeplearning4j.nn.graph.ComputationGraph g
                ? g.getLayers() : ((MultiLayerNetwork) net).getLayers();
        for (org.deeplearning4j.nn.api.Layer layer : all) {
            if (!(layer.conf().getLayer() instanceof BaseLayer bl)) {
                continue;
            }
            for (Map.Entry<String, INDArray> p : layer.paramTable().entrySet()) {
                List<Regularization> rs = bl.getRegularizationByParam(p.getKey());
                if (rs == null) {
                    continue;
                }
                for (Regularization r : rs) {
                    if (r instanceof WeightUpdateQuantization u) {
                        u.snap(p.getValue());
                    }
                }
            }
        }
    }

    /**
     * The backward paths a configuration quantizes, as text lines (a table per layer with weights, then the
     * network-wide settings), read from the configuration itself; empty when nothing is quantized.
     */
    public static List<String> describe(MultiLayerConfiguration conf) {
        return describe(new ArrayList<>(indexedLayers(conf).values()));
    }

    /** {@link #describe(MultiLayerConfiguration)} for a graph. */
    public static List<String> describe(ComputationGraphConfiguration conf) {
        return describe(new ArrayList<>(indexedLayers(conf).values()));
    }

    private static List<String> describe(List<Layer> layers) {
        List<String> rows = new ArrayList<>();
        String fmt = "%-10s %-36s %-26s %s";
        java.util.Set<String> updaters = new java.util.TreeSet<>();
        boolean any = false;
        for (Layer l : layers) {
            if (l instanceof BaseLayer bl && bl.getIUpdater() instanceof QuantizedUpdater q) {
                updaters.add("optimizer state " + q.state() + ", loss scale " + SpecText.number(q.lossScale()));
            }
            if (l instanceof QuantLayer q && !q.getQuantSites().accumulation().isFloat()) {
                var sites = q.getQuantSites();
                updaters.add("accumulation " + sites.accumulation() + " in chunks of " + sites.accumulationChunk()
                        + " products (" + (sites.accumulateBackward() ? "forward and backward passes" : "forward pass")
                        + ")");
            }
            if (!isWeighted(l)) {
                continue;
            }
            BaseLayer bl = (BaseLayer) l;
            String errors = l instanceof QuantLayer q ? q.getQuantSites().errors().toString() : "float";
            if (l instanceof BaseOutputLayer out && out.getLossFn() instanceof QuantizedLoss ql) {
                errors += " (loss: " + ql.errors() + ")";
            }
            String grads = "float";
            String update = "float";
            for (Regularization r : nullToEmpty(bl.getRegularization())) {
                if (r instanceof GradientQuantization g) {
                    grads = g.spec().toString();
                } else if (r instanceof WeightUpdateQuantization u) {
                    update = (u.updates().isFloat() ? "" : u.updates() + " -> ") + (u.master().isFloat() ? "float32"
                            : u.master().toString()) + (u.clip() > 0 ? ", clip " + SpecText.number(u.clip()) : "");
                }
            }
            any |= !errors.equals("float") || !grads.equals("float") || !update.equals("float");
            rows.add(String.format(java.util.Locale.ROOT, fmt, l.getLayerName(), errors, grads, update));
        }
        if (!any && updaters.isEmpty()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        out.add(String.format(java.util.Locale.ROOT, fmt, "layer", "errors handed back", "gradients", "stored weights"));
        out.addAll(rows);
        out.addAll(updaters);
        return out;
    }

    /** Number formatting of {@link #describe}. */
    private static final class SpecText {
        static String number(double d) {
            return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
        }
    }

    /**
     * True for layers whose parameters DL4J regularizes: convolution, dense and output layers, including the
     * layers with folded batch normalization ({@code QuantConvBN2D}, {@code QuantDenseBN}), whose γ and β take no
     * regularization (so their gradients stay float, as in a separate normalization layer).
     */
    public static boolean isWeighted(Layer l) {
        return l instanceof ConvolutionLayer || l instanceof BaseOutputLayer
                || (l instanceof FeedForwardLayer && l instanceof BaseLayer b && isDense(b));
    }

    private static boolean isDense(BaseLayer b) {
        return b instanceof org.deeplearning4j.nn.conf.layers.DenseLayer || b instanceof io.qat4j.layers.nn.QuantDense
                || b instanceof io.qat4j.layers.nn.QuantDenseBN;
    }

    /** Output-channel axis of a layer's weights: 0 for convolutions [nOut, nIn, kH, kW], 1 for dense [nIn, nOut]. */
    static int weightChannelAxis(Layer l) {
        if (l instanceof DepthwiseConvolution2D) {
            return -1;
        }
        return l instanceof ConvolutionLayer ? 0 : 1;
    }

    /** The fan-in DL4J's weight initializers see: nIn·kH·kW for convolutions, nIn for dense layers. */
    static double fanIn(Layer l) {
        if (l instanceof DepthwiseConvolution2D) {
            throw new IllegalArgumentException("layer " + l.getLayerName() + ": WAGE's layer scale is defined for dense "
                    + "and convolution layers, not depthwise convolutions");
        }
        if (l instanceof ConvolutionLayer c) {
            return (double) c.getNIn() * c.getKernelSize()[0] * c.getKernelSize()[1];
        }
        return ((FeedForwardLayer) l).getNIn();
    }

    private static List<Regularization> plus(List<Regularization> list, Regularization r) {
        List<Regularization> out = list == null ? new ArrayList<>() : new ArrayList<>(list);
        out.add(r);
        return out;
    }

    private static IUpdater wrap(IUpdater u, Options o) {
        if (u instanceof QuantizedUpdater) {
            throw new IllegalArgumentException("the updater is already a QuantizedUpdater; apply FixedPointTraining once");
        }
        return new QuantizedUpdater(u, o.optimizerState(), o.lossScale());
    }

    private static IUpdater baseUpdater(BaseLayer bl) {
        IUpdater u = bl.getIUpdater();
        return u instanceof QuantizedUpdater q ? q.base() : u;
    }

    private static void requirePowerOfTwoSgd(BaseLayer bl, GradientSpec g) {
        IUpdater u = baseUpdater(bl);
        if (!(u instanceof Sgd sgd)) {
            throw new IllegalArgumentException("layer " + bl.getLayerName() + ": gradients " + g + " fold the learning rate "
                    + "into the update (WAGE), which needs plain SGD; got " + (u == null ? "no updater"
                    : u.getClass().getSimpleName()) + "; allowed optimizer: sgd");
        }
        double lr = sgd.getLearningRate();
        if (sgd.getLearningRateSchedule() == null && !isPowerOfTwo(lr)) {
            throw new IllegalArgumentException("layer " + bl.getLayerName() + ": gradients " + g + " need a power-of-two "
                    + "learning rate (WAGE shifts by it), got " + lr + "; e.g. 1, 2, 4, 8, 0.5");
        }
    }

    /** True for exact powers of two (positive). */
    public static boolean isPowerOfTwo(double v) {
        return v > 0 && Double.isFinite(v) && Math.scalb(1.0, Math.getExponent(v)) == v;
    }

    private static void rejectBeforeUpdaterPenalty(BaseLayer bl) {
        for (List<Regularization> rs : List.of(nullToEmpty(bl.getRegularization()), nullToEmpty(bl.getRegularizationBias()))) {
            for (Regularization r : rs) {
                if (r instanceof L1Regularization || r instanceof L2Regularization) {
                    throw new IllegalArgumentException("layer " + bl.getLayerName() + ": loss scaling and "
                            + r.getClass().getSimpleName() + " (applied to the still scaled gradient) do not mix; use "
                            + "weight decay (applied after the updater) instead");
                }
            }
        }
        if (bl instanceof QuantLayer q) {
            for (io.qat4j.layers.nn.QuantSites.Site site : io.qat4j.layers.nn.QuantSites.Site.values()) {
                QuantSpec spec = q.getQuantSites().spec(site);
                if (spec.kind() == io.qat4j.layers.quant.QuantKind.PACT && spec.l2() > 0) {
                    throw new IllegalArgumentException("layer " + bl.getLayerName() + ": loss scaling and the L2 "
                            + "penalty of '" + spec + "' on alpha (applied to the still scaled gradient) do not mix; "
                            + "use l2=0 or no loss scale");
                }
            }
        }
    }

    private static List<Regularization> nullToEmpty(List<Regularization> l) {
        return l == null ? List.of() : l;
    }
}
