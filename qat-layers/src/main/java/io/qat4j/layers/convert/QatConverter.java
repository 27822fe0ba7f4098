package io.qat4j.layers.convert;

import io.qat4j.layers.nn.QuantConv2D;
import io.qat4j.layers.nn.QuantDense;
import io.qat4j.layers.nn.QuantDepthwiseConv2D;
import io.qat4j.layers.nn.QuantOutput;
import io.qat4j.layers.nn.QuantSites;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Turns a float DL4J network (configuration or trained model) into its quantization-aware twin, like
 * PyTorch's {@code prepare_qat} or QKeras's {@code model_quantize}.
 *
 * <p>Each layer is offered to a {@link QuantizationRule}; when the rule returns sites that are not all
 * float, the layer is replaced by its quantized twin with every configuration field copied:
 * {@code DenseLayer} → {@link QuantDense}, {@code ConvolutionLayer} (exactly that class) →
 * {@link QuantConv2D}, {@code DepthwiseConvolution2D} → {@link QuantDepthwiseConv2D},
 * {@code OutputLayer} → {@link QuantOutput}. Every other layer, the input preprocessors, the input
 * type and the network-level settings (seed, data type, backprop type, updater, ...) are kept.
 *
 * <p>Converting a trained network copies its parameters by layer and key (W, b, batch-normalization
 * statistics, ...); the quantized layers' observer state ({@code qin}, {@code qout}) starts empty and
 * the updater starts fresh (the float configuration's updater, no state).
 *
 * <pre>
 * MultiLayerNetwork qat = QatConverter.quantize(trained,
 *     QuantizationRule.uniform(QuantSites.of("float", "int(bits=8, axis=channel)", "float", "float")));
 * </pre>
 */
public final class QatConverter {
    private QatConverter() {
    }

    /** True for the layer classes the converter can replace. */
    public static boolean isConvertible(Layer layer) {
        return layer != null && (layer.getClass() == DenseLayer.class || layer.getClass() == ConvolutionLayer.class
                || layer.getClass() == DepthwiseConvolution2D.class || layer.getClass() == OutputLayer.class);
    }

    /** The quantized twin of a MultiLayerNetwork configuration (the input is not modified). */
    public static MultiLayerConfiguration quantize(MultiLayerConfiguration floatConf, QuantizationRule rule) {
        return quantize(floatConf, rule, true);
    }

    /** The quantized twin of a ComputationGraph configuration (the input is not modified). */
    public static ComputationGraphConfiguration quantize(ComputationGraphConfiguration floatConf,
                                                         QuantizationRule rule) {
        return quantize(floatConf, rule, true);
    }

    /** The quantized twin of a trained MultiLayerNetwork, initialized with its parameters. */
    public static MultiLayerNetwork quantize(MultiLayerNetwork trained, QuantizationRule rule) {
        return quantize(trained, rule, true);
    }

    /** The quantized twin of a trained ComputationGraph, initialized with its parameters. */
    public static ComputationGraph quantize(ComputationGraph trained, QuantizationRule rule) {
        return quantize(trained, rule, true);
    }

    // ------------------------------------------------------------------ networks

    static MultiLayerConfiguration quantize(MultiLayerConfiguration floatConf, QuantizationRule rule,
                                            boolean keepFloatLayers) {
        requireNonNull(floatConf, "floatConf");
        requireNonNull(rule, "rule");
        MultiLayerConfiguration out = floatConf.clone();
        for (int i = 0; i < out.getConfs().size(); i++) {
            NeuralNetConfiguration nnc = out.getConf(i);
            Layer layer = nnc.getLayer();
            QuantSites sites = rule.sitesFor(i, layer.getLayerName(), layer);
            if (replaces(sites, keepFloatLayers)) {
                nnc.setLayer(convert(layer, sites));
            }
        }
        return out;
    }

    static ComputationGraphConfiguration quantize(ComputationGraphConfiguration floatConf, QuantizationRule rule,
                                                  boolean keepFloatLayers) {
        requireNonNull(floatConf, "floatConf");
        requireNonNull(rule, "rule");
        ComputationGraphConfiguration out = floatConf.clone();
        int index = 0;
        for (Map.Entry<String, GraphVertex> e : out.getVertices().entrySet()) {
            if (e.getValue() instanceof LayerVertex lv) {
                Layer layer = lv.getLayerConf().getLayer();
                QuantSites sites = rule.sitesFor(index++, e.getKey(), layer);
                if (replaces(sites, keepFloatLayers)) {
                    lv.getLayerConf().setLayer(convert(layer, sites));
                }
            }
        }
        return out;
    }

    static MultiLayerNetwork quantize(MultiLayerNetwork trained, QuantizationRule rule, boolean keepFloatLayers) {
        requireNonNull(trained, "trained");
        MultiLayerNetwork out = new MultiLayerNetwork(quantize(trained.getLayerWiseConfigurations(), rule,
                keepFloatLayers));
        out.init();
        for (int i = 0; i < trained.getnLayers(); i++) {
            copyParams(trained.getLayer(i), out.getLayer(i), "layer " + i);
        }
        return out;
    }

    static ComputationGraph quantize(ComputationGraph trained, QuantizationRule rule, boolean keepFloatLayers) {
        requireNonNull(trained, "trained");
        ComputationGraph out = new ComputationGraph(quantize(trained.getConfiguration(), rule, keepFloatLayers));
        out.init();
        for (org.deeplearning4j.nn.api.Layer l : trained.getLayers()) {
            String name = l.conf().getLayer().getLayerName();
            copyParams(l, out.getLayer(name), "layer '" + name + "'");
        }
        return out;
    }

    private static void copyParams(Model from, Model to, String where) {
        Map<String, INDArray> target = to.paramTable();
        for (Map.Entry<String, INDArray> p : from.paramTable().entrySet()) {
            INDArray dst = target.get(p.getKey());
            if (dst == null || !java.util.Arrays.equals(dst.shape(), p.getValue().shape())) {
                throw new IllegalStateException(where + ": parameter '" + p.getKey() + "' "
                        + java.util.Arrays.toString(p.getValue().shape()) + " has no counterpart of the same shape in "
                        + "the quantized layer (its parameters: " + target.keySet() + ")");
            }
            to.setParam(p.getKey(), p.getValue());
        }
    }

    private static boolean replaces(QuantSites sites, boolean keepFloatLayers) {
        return sites != null && !(keepFloatLayers && sites.isFloat());
    }

    // ------------------------------------------------------------------ layers

    /**
     * The quantized twin of one layer with these sites (even all-float ones).
     *
     * @throws IllegalArgumentException for a layer class that has no quantized twin, or a
     *     {@code DenseLayer} with layer normalization
     */
    public static Layer convert(Layer layer, QuantSites sites) {
        requireNonNull(layer, "layer");
        requireNonNull(sites, "sites");
        if (layer.getClass() == DenseLayer.class) {
            return toQuantDense((DenseLayer) layer, sites);
        }
        if (layer.getClass() == ConvolutionLayer.class) {
            return toQuantConv2D((ConvolutionLayer) layer, sites);
        }
        if (layer.getClass() == DepthwiseConvolution2D.class) {
            return toQuantDepthwiseConv2D((DepthwiseConvolution2D) layer, sites);
        }
        if (layer.getClass() == OutputLayer.class) {
            return toQuantOutput((OutputLayer) layer, sites);
        }
        throw new IllegalArgumentException("layer " + layer.getLayerName() + " of class "
                + layer.getClass().getSimpleName() + " has no quantized twin; allowed: DenseLayer, ConvolutionLayer, "
                + "DepthwiseConvolution2D, OutputLayer (return null from the rule to keep other layers)");
    }

    /** {@code DenseLayer} → {@link QuantDense}. */
    public static QuantDense toQuantDense(DenseLayer f, QuantSites sites) {
        if (f.hasLayerNorm()) {
            throw new IllegalArgumentException("DenseLayer " + f.getLayerName() + " has hasLayerNorm=true, which "
                    + "QuantDense does not support; allowed: hasLayerNorm=false");
        }
        QuantDense q = new QuantDense();
        copyFeedForward(f, q);
        q.setHasBias(f.hasBias());
        q.setQuantSites(sites);
        return q;
    }

    /** {@code ConvolutionLayer} → {@link QuantConv2D}. */
    public static QuantConv2D toQuantConv2D(ConvolutionLayer f, QuantSites sites) {
        QuantConv2D q = new QuantConv2D();
        copyConvolution(f, q);
        q.setQuantSites(sites);
        return q;
    }

    /** {@code DepthwiseConvolution2D} → {@link QuantDepthwiseConv2D}. */
    public static QuantDepthwiseConv2D toQuantDepthwiseConv2D(DepthwiseConvolution2D f, QuantSites sites) {
        QuantDepthwiseConv2D q = new QuantDepthwiseConv2D();
        copyConvolution(f, q);
        q.setDepthMultiplier(f.getDepthMultiplier());
        q.setQuantSites(sites);
        return q;
    }

    /** {@code OutputLayer} → {@link QuantOutput} (the output site must be float). */
    public static QuantOutput toQuantOutput(OutputLayer f, QuantSites sites) {
        QuantOutput q = new QuantOutput();
        copyFeedForward(f, q);
        q.setLossFn(f.getLossFn());
        q.setHasBias(f.hasBias());
        q.setQuantSites(sites);
        return q;
    }

    private static void copyConvolution(ConvolutionLayer f, ConvolutionLayer q) {
        copyFeedForward(f, q);
        q.setHasBias(f.hasBias());
        q.setKernelSize(f.getKernelSize().clone());
        q.setStride(f.getStride().clone());
        q.setPadding(f.getPadding().clone());
        q.setDilation(f.getDilation().clone());
        q.setConvolutionMode(f.getConvolutionMode());
        q.setCnn2dDataFormat(f.getCnn2dDataFormat());
        q.setCudnnAllowFallback(f.isCudnnAllowFallback());
        q.setCudnnAlgoMode(f.getCudnnAlgoMode());
        q.setCudnnFwdAlgo(f.getCudnnFwdAlgo());
        q.setCudnnBwdFilterAlgo(f.getCudnnBwdFilterAlgo());
        q.setCudnnBwdDataAlgo(f.getCudnnBwdDataAlgo());
    }

    /** Fields of Layer, BaseLayer and FeedForwardLayer. */
    private static void copyFeedForward(FeedForwardLayer f, FeedForwardLayer q) {
        copyBase(f, q);
        q.setNIn(f.getNIn());
        q.setNOut(f.getNOut());
        q.setTimeDistributedFormat(f.getTimeDistributedFormat());
    }

    private static void copyBase(BaseLayer f, BaseLayer q) {
        q.setLayerName(f.getLayerName());
        q.setIDropout(f.getIDropout() == null ? null : f.getIDropout().clone());
        q.setConstraints(f.getConstraints() == null ? null : cloneConstraints(f));
        q.setActivationFn(f.getActivationFn());
        q.setWeightInitFn(f.getWeightInitFn());
        q.setBiasInit(f.getBiasInit());
        q.setGainInit(f.getGainInit());
        q.setRegularization(f.getRegularization() == null ? null : new ArrayList<>(f.getRegularization()));
        q.setRegularizationBias(f.getRegularizationBias() == null ? null : new ArrayList<>(f.getRegularizationBias()));
        q.setIUpdater(f.getIUpdater() == null ? null : f.getIUpdater().clone());
        q.setBiasUpdater(f.getBiasUpdater() == null ? null : f.getBiasUpdater().clone());
        q.setWeightNoise(f.getWeightNoise() == null ? null : f.getWeightNoise().clone());
        q.setGradientNormalization(f.getGradientNormalization());
        q.setGradientNormalizationThreshold(f.getGradientNormalizationThreshold());
    }

    private static List<org.deeplearning4j.nn.api.layers.LayerConstraint> cloneConstraints(Layer f) {
        List<org.deeplearning4j.nn.api.layers.LayerConstraint> out = new ArrayList<>();
        for (org.deeplearning4j.nn.api.layers.LayerConstraint c : f.getConstraints()) {
            out.add(c.clone());
        }
        return out;
    }

    private static void requireNonNull(Object o, String what) {
        if (o == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
    }
}
