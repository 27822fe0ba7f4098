package io.qat4j.layers.convert;

import io.qat4j.layers.nn.BnSettings;
import io.qat4j.layers.nn.QuantConv2D;
import io.qat4j.layers.nn.QuantConvBN2D;
import io.qat4j.layers.nn.QuantDense;
import io.qat4j.layers.nn.QuantDenseBN;
import io.qat4j.layers.nn.QuantDepthwiseConv2D;
import io.qat4j.layers.nn.QuantOutput;
import io.qat4j.layers.nn.QuantSeparableConv2D;
import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.quant.QuantSpec;
import org.deeplearning4j.nn.api.layers.LayerConstraint;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.nd4j.linalg.activations.impl.ActivationIdentity;

import java.util.ArrayList;
import java.util.List;

/**
 * The quantized twin of one float layer configuration, every configuration field copied (name, nIn/nOut,
 * activation, weight init, updaters, regularization, dropout, constraints, weight noise, gradient normalization,
 * kernel geometry, data format, cuDNN settings):
 * <ul>
 *   <li>{@code DenseLayer} (without layer normalization) → {@link QuantDense};</li>
 *   <li>{@code ConvolutionLayer} (exactly that class, not its 1-D / 3-D / transposed subclasses) →
 *       {@link QuantConv2D};</li>
 *   <li>{@code DepthwiseConvolution2D} → {@link QuantDepthwiseConv2D} (depth multiplier copied);</li>
 *   <li>{@code SeparableConvolution2D} → {@link QuantSeparableConv2D}: the weight site quantizes the depth-wise
 *       weights (per input channel with {@code axis=channel}) and the point-wise weights follow the same spec
 *       (per output channel);</li>
 *   <li>{@code OutputLayer} → {@link QuantOutput} (loss function copied; the output site must be float);</li>
 *   <li>{@code ConvolutionLayer} or {@code DenseLayer} followed by {@code BatchNormalization} →
 *       {@link QuantConvBN2D} / {@link QuantDenseBN} ({@link #fuse}): the linear layer's fields, the
 *       normalization's decay and epsilon, the bias site float (the exporter quantizes the folded bias).</li>
 * </ul>
 */
public final class LayerTwins {
    private LayerTwins() {
    }

    /** Why a layer has no quantized twin, or null when it has one. */
    public static String noTwinReason(Layer layer) {
        if (layer instanceof DenseLayer d && d.getClass() == DenseLayer.class) {
            return d.hasLayerNorm() ? "no quantized twin with hasLayerNorm=true" : null;
        }
        Class<?> k = layer == null ? null : layer.getClass();
        if (k == ConvolutionLayer.class || k == DepthwiseConvolution2D.class || k == SeparableConvolution2D.class
                || k == OutputLayer.class) {
            return null;
        }
        return "no quantized twin";
    }

    /**
     * The quantized twin of one layer with these sites (even all-float ones).
     *
     * @throws IllegalArgumentException for a layer without a twin ({@link #noTwinReason}), naming the layer and the
     *     allowed classes
     */
    public static Layer convert(Layer layer, QuantSites sites) {
        if (layer.getClass() == DenseLayer.class) {
            return toQuantDense((DenseLayer) layer, sites);
        }
        if (layer.getClass() == ConvolutionLayer.class) {
            return toQuantConv2D((ConvolutionLayer) layer, sites);
        }
        if (layer.getClass() == DepthwiseConvolution2D.class) {
            return toQuantDepthwiseConv2D((DepthwiseConvolution2D) layer, sites);
        }
        if (layer.getClass() == SeparableConvolution2D.class) {
            return toQuantSeparableConv2D((SeparableConvolution2D) layer, sites);
        }
        if (layer.getClass() == OutputLayer.class) {
            return toQuantOutput((OutputLayer) layer, sites);
        }
        throw new IllegalArgumentException("layer " + layer.getLayerName() + " of class "
                + layer.getClass().getSimpleName() + " has no quantized twin; allowed: DenseLayer, ConvolutionLayer, "
                + "DepthwiseConvolution2D, SeparableConvolution2D, OutputLayer (return null from the rule to keep "
                + "other layers)");
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

    /** {@code SeparableConvolution2D} → {@link QuantSeparableConv2D}, the point-wise weights following the weight site. */
    public static QuantSeparableConv2D toQuantSeparableConv2D(SeparableConvolution2D f, QuantSites sites) {
        QuantSeparableConv2D q = new QuantSeparableConv2D();
        copyConvolution(f, q);
        q.setDepthMultiplier(f.getDepthMultiplier());
        q.setQuantSites(sites);
        q.setPointwiseQuant(null);
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

    /**
     * Why {@code bn} cannot be folded into the layer {@code linear} before it, or null when it can: the linear layer
     * must be a plain {@code ConvolutionLayer} (NCHW, Truncate / Strict / Same mode) or {@code DenseLayer} (no layer
     * normalization) with the identity activation and no weight noise; the normalization must not lock γ and β, and
     * have no dropout or constraints of its own.
     */
    public static String foldBlocker(Layer linear, BatchNormalization bn) {
        if (linear.getClass() != ConvolutionLayer.class && linear.getClass() != DenseLayer.class) {
            return "it follows a " + linear.getClass().getSimpleName() + "; allowed: ConvolutionLayer, DenseLayer";
        }
        BaseLayer b = (BaseLayer) linear;
        if (!(b.getActivationFn() instanceof ActivationIdentity)) {
            return linear.getLayerName() + " has activation " + b.getActivationFn() + " before it; allowed: identity";
        }
        if (b.getWeightNoise() != null) {
            return linear.getLayerName() + " has weight noise";
        }
        if (linear instanceof DenseLayer d && d.hasLayerNorm()) {
            return linear.getLayerName() + " has hasLayerNorm=true";
        }
        if (linear instanceof ConvolutionLayer c) {
            ConvolutionMode m = c.getConvolutionMode();
            if (m != null && m != ConvolutionMode.Truncate && m != ConvolutionMode.Strict && m != ConvolutionMode.Same) {
                return linear.getLayerName() + " has convolution mode " + m + "; allowed: Truncate, Strict, Same";
            }
            if (c.getCnn2dDataFormat() != null && c.getCnn2dDataFormat() != CNN2DFormat.NCHW
                    || bn.getCnn2DFormat() != null && bn.getCnn2DFormat() != CNN2DFormat.NCHW) {
                return "data format NHWC; allowed: NCHW";
            }
        }
        if (bn.isLockGammaBeta()) {
            return "lockGammaBeta=true (the folded layer trains gamma and beta)";
        }
        if (bn.getIDropout() != null) {
            return "it has dropout";
        }
        if (bn.getConstraints() != null && !bn.getConstraints().isEmpty()) {
            return "it has constraints";
        }
        return null;
    }

    /**
     * The layer with folded normalization replacing {@code linear} followed by {@code bn} (see {@link #foldBlocker}):
     * {@code linear}'s fields and sites (the bias site float), {@code bn}'s decay and epsilon, statistics frozen when
     * {@code frozen} (a trained network: the running statistics are what the float network normalizes with).
     */
    public static Layer fuse(Layer linear, BatchNormalization bn, QuantSites sites, boolean frozen) {
        String blocker = foldBlocker(linear, bn);
        if (blocker != null) {
            throw new IllegalArgumentException("BatchNormalization " + bn.getLayerName() + " cannot be folded into "
                    + linear.getLayerName() + ": " + blocker);
        }
        QuantSites s = sites.bias().isFloat() ? sites : sites.withBias(QuantSpec.FLOAT);
        BnSettings settings = new BnSettings(bn.getDecay(), bn.getEps(), 0, frozen);
        if (linear instanceof ConvolutionLayer c) {
            QuantConvBN2D q = new QuantConvBN2D();
            copyConvolution(c, q);
            q.setQuantSites(s);
            q.setBn(settings);
            return q;
        }
        DenseLayer d = (DenseLayer) linear;
        QuantDenseBN q = new QuantDenseBN();
        copyFeedForward(d, q);
        q.setHasBias(d.hasBias());
        q.setQuantSites(s);
        q.setBn(settings);
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

    private static List<LayerConstraint> cloneConstraints(Layer f) {
        List<LayerConstraint> out = new ArrayList<>();
        for (LayerConstraint c : f.getConstraints()) {
            out.add(c.clone());
        }
        return out;
    }
}
