package io.qat4j.layers.nn;

import io.qat4j.layers.nn.impl.QuantDepthwiseConv2DImpl;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.params.DepthwiseConvolutionParamInitializer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;

import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Depth-wise 2-D convolution with quantized input, weights, bias and output: the quantized twin of
 * DL4J's {@code DepthwiseConvolution2D} (as used by MobileNet). Weights have DL4J's depth-wise
 * layout {@code [kH, kW, nIn, depthMultiplier]}; per-channel weight scales are taken along axis 2
 * (the input channel, which each filter belongs to).
 *
 * <p>Forward and backward as in {@link QuantConv2D}. Because DL4J's depth-wise builder fixes its
 * own type, call the quantization setters first:
 * <pre>
 * new QuantDepthwiseConv2D.Builder(3, 3).weightQuant("int(bits=8, axis=channel)").depthMultiplier(1).build()
 * </pre>
 */
public class QuantDepthwiseConv2D extends DepthwiseConvolution2D implements QuantLayer {
    private static final long serialVersionUID = 1L;

    /** Axis of the input channel in DL4J's depth-wise weight layout {@code [kH, kW, nIn, multiplier]}. */
    public static final int WEIGHT_CHANNEL_AXIS = 2;

    private QuantSites quantSites = QuantSites.none();

    /** For JSON deserialization. */
    public QuantDepthwiseConv2D() {
    }

    private QuantDepthwiseConv2D(Builder b) {
        super(b);
        this.quantSites = b.sites;
    }

    @Override
    public QuantSites getQuantSites() {
        return quantSites;
    }

    @Override
    public void setQuantSites(QuantSites quantSites) {
        this.quantSites = QuantLayerSupport.requireSites(quantSites, "QuantDepthwiseConv2D");
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
        return DepthwiseConvolutionParamInitializer.getInstance();
    }

    @Override
    public Layer newImpl(NeuralNetConfiguration conf, DataType dataType) {
        return new QuantDepthwiseConv2DImpl(conf, dataType);
    }

    @Override
    public IUpdater getUpdaterByParam(String paramName) {
        return QuantLayerSupport.updaterFor(this, paramName, super.getUpdaterByParam(paramName));
    }

    @Override
    public List<Regularization> getRegularizationByParam(String paramName) {
        return QuantLayerSupport.regularizationFor(this, paramName, super.getRegularizationByParam(paramName));
    }

    /** Depth-wise weights {@code [kH, kW, nIn, multiplier]} have one channel per input channel. */
    @Override
    public long weightChannels() {
        return getNIn();
    }

    @Override
    public QuantDepthwiseConv2D clone() {
        return (QuantDepthwiseConv2D) super.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantDepthwiseConv2D q && super.equals(o) && quantSites.equals(q.quantSites);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), quantSites);
    }

    @Override
    public String toString() {
        return QuantLayerSupport.describe(this, null);
    }

    /** DL4J's depth-wise builder plus the quantization setters (call those first). */
    public static class Builder extends DepthwiseConvolution2D.Builder implements QuantSitesBuilder<Builder> {
        private QuantSites sites = QuantSites.none();

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
            this.sites = QuantLayerSupport.requireSites(sites, "QuantDepthwiseConv2D");
            return this;
        }

        @Override
        public QuantDepthwiseConv2D build() {
            org.deeplearning4j.util.ConvolutionUtils.validateConvolutionModePadding(convolutionMode, padding);
            org.deeplearning4j.util.ConvolutionUtils.validateCnnKernelStridePadding(kernelSize, stride, padding);
            return new QuantDepthwiseConv2D(this);
        }
    }
}
