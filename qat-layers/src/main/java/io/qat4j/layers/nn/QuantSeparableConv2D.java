package io.qat4j.layers.nn;

import io.qat4j.layers.nn.impl.QuantSeparableConv2DImpl;
import io.qat4j.layers.quant.QuantSpec;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.params.SeparableConvolutionParamInitializer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Depth-wise separable 2-D convolution with quantized input, depth-wise weights, point-wise weights,
 * bias and output: the quantized twin of DL4J's {@code SeparableConvolution2D} (Xception, MobileNet's
 * building block as one layer). With every site {@code float} it computes exactly what
 * {@code SeparableConvolution2D} computes.
 *
 * <p>Forward: {@code y = Q_out(act(pw(dw(Q_in(x), Q_w(W_dw)), Q_pw(W_pw)) + Q_b(b)))}, with DL4J's layouts:
 * depth-wise weights {@code W} {@code [depthMultiplier, nIn, kH, kW]}, quantized per input channel (axis 1)
 * with {@code axis=channel}; point-wise weights {@code pW} {@code [nOut, nIn·depthMultiplier, 1, 1]},
 * quantized per output channel (axis 0). The point-wise weights use their own spec
 * ({@link #getPointwiseQuant()}) when one is set, the weight site's spec otherwise. The intermediate
 * depth-wise result is not quantized (DL4J computes both products in one op); export the two stages
 * as separate {@code DepthwiseConvolution2D} and 1x1 {@code ConvolutionLayer} twins when the hardware
 * requantizes between them. Backward: DL4J's gradients at the quantized values, through each site's
 * estimator (straight-through by default). Learned weight quantizers are not allowed here (two weight
 * tensors); learned activation quantizers are.
 *
 * <pre>
 * new QuantSeparableConv2D.Builder(3, 3).nOut(64).weightQuant("int(bits=8, axis=channel, narrow=true)").build()
 * </pre>
 */
public class QuantSeparableConv2D extends SeparableConvolution2D implements QuantLayer {
    private static final long serialVersionUID = 1L;

    /** Per-channel axis of the depth-wise weights {@code [depthMultiplier, nIn, kH, kW]}. */
    public static final int DEPTHWISE_CHANNEL_AXIS = 1;

    private QuantSites quantSites = QuantSites.none();
    @JsonProperty("pointwiseQuant")
    private QuantSpec pointwiseQuant;

    /** For JSON deserialization. */
    public QuantSeparableConv2D() {
    }

    private QuantSeparableConv2D(Builder b) {
        super(b);
        setQuantSites(b.sites);
        setPointwiseQuant(b.pointwise);
    }

    @Override
    public QuantSites getQuantSites() {
        return quantSites;
    }

    @Override
    public void setQuantSites(QuantSites quantSites) {
        QuantLayerSupport.requireSites(quantSites, "QuantSeparableConv2D");
        requireNotLearned(quantSites.weights());
        this.quantSites = quantSites;
    }

    /** The spec set for the point-wise weights, or null when they follow the weight site. */
    public QuantSpec getPointwiseQuant() {
        return pointwiseQuant;
    }

    /** Sets the point-wise weights' own spec; null: the weight site's spec. */
    public void setPointwiseQuant(QuantSpec spec) {
        if (spec != null) {
            requireNotLearned(spec);
        }
        this.pointwiseQuant = spec;
    }

    /** The spec the point-wise weights are quantized with. */
    public QuantSpec pointwiseSpec() {
        return pointwiseQuant != null ? pointwiseQuant : quantSites.weights();
    }

    private void requireNotLearned(QuantSpec spec) {
        if (spec.isLearned()) {
            throw new IllegalArgumentException("QuantSeparableConv2D " + getLayerName() + ": learned weight quantizer '"
                    + spec + "' is not allowed (two weight tensors); allowed: int, fixed, binary, ternary, pow2, "
                    + "minifloat, dorefa, sawb weights (learned quantizers work at the input and output sites)");
        }
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
                             INDArray paramsView, boolean initializeParams, DataType dataType) {
        return QuantLayerSupport.instantiate(this, conf, listeners, layerIndex, paramsView, initializeParams, dataType);
    }

    @Override
    public ParamInitializer initializer() {
        return QuantLayerSupport.initializer(this);
    }

    @Override
    public ParamInitializer floatInitializer() {
        return SeparableConvolutionParamInitializer.getInstance();
    }

    @Override
    public Layer newImpl(NeuralNetConfiguration conf, DataType dataType) {
        return new QuantSeparableConv2DImpl(conf, dataType);
    }

    @Override
    public IUpdater getUpdaterByParam(String paramName) {
        return QuantLayerSupport.updaterFor(this, paramName, super.getUpdaterByParam(paramName));
    }

    @Override
    public List<Regularization> getRegularizationByParam(String paramName) {
        return QuantLayerSupport.regularizationFor(this, paramName, super.getRegularizationByParam(paramName));
    }

    /** The depth-wise weights have one channel per input channel. */
    @Override
    public long weightChannels() {
        return getNIn();
    }

    @Override
    public QuantSeparableConv2D clone() {
        return (QuantSeparableConv2D) super.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantSeparableConv2D q && super.equals(o) && quantSites.equals(q.quantSites)
                && Objects.equals(pointwiseQuant, q.pointwiseQuant);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), quantSites, pointwiseQuant);
    }

    @Override
    public String toString() {
        return QuantLayerSupport.describe(this, "pointwise=" + pointwiseSpec());
    }

    /** DL4J's separable builder plus the quantization setters (call those first). */
    public static class Builder extends SeparableConvolution2D.Builder implements QuantSitesBuilder<Builder> {
        private QuantSites sites = QuantSites.none();
        private QuantSpec pointwise;

        public Builder(int... kernelSize) {
            super(kernelSize);
        }

        public Builder() {
            super();
        }

        @Override
        public QuantSites currentSites() {
            return sites;
        }

        @Override
        public Builder quant(QuantSites sites) {
            this.sites = QuantLayerSupport.requireSites(sites, "QuantSeparableConv2D");
            return this;
        }

        /** Spec of the point-wise weights when they differ from the weight site's, e.g. {@code int8}. */
        public Builder pointwiseQuant(String spec) {
            this.pointwise = QuantSpec.parse(spec);
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public QuantSeparableConv2D build() {
            org.deeplearning4j.util.ConvolutionUtils.validateConvolutionModePadding(convolutionMode, padding);
            org.deeplearning4j.util.ConvolutionUtils.validateCnnKernelStridePadding(kernelSize, stride, padding);
            return new QuantSeparableConv2D(this);
        }
    }
}
