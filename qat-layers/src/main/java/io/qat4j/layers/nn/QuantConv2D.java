package io.qat4j.layers.nn;

import io.qat4j.layers.nn.impl.QuantConv2DImpl;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;

import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * 2-D convolution with quantized input, weights, bias and output: the quantized twin of DL4J's
 * {@code ConvolutionLayer} (same stride, padding, dilation and convolution modes). With every site
 * {@code float} it computes exactly what {@code ConvolutionLayer} computes.
 *
 * <p>Forward: {@code y = Q_out(act(conv(Q_in(x), Q_w(W)) + Q_b(b)))}; backward: DL4J's convolution
 * gradients at the quantized values, passed through each site's estimator. Weights
 * {@code [nOut, nIn, kH, kW]} are quantized per output channel along axis 0 when the spec says
 * {@code axis=channel}; activations per channel along axis 1 (NCHW).
 *
 * <pre>
 * new QuantConv2D.Builder(5, 5).nOut(20).activation(Activation.RELU)
 *     .weightQuant("int(bits=4, axis=channel)").outputQuant("uint(bits=4, observer=ema)").build()
 * </pre>
 */
public class QuantConv2D extends ConvolutionLayer implements QuantLayer {
    private static final long serialVersionUID = 1L;

    private QuantSites quantSites = QuantSites.none();

    /** For JSON deserialization. */
    public QuantConv2D() {
    }

    private QuantConv2D(Builder b) {
        super(b);
        this.quantSites = b.sites;
    }

    @Override
    public QuantSites getQuantSites() {
        return quantSites;
    }

    @Override
    public void setQuantSites(QuantSites quantSites) {
        this.quantSites = QuantLayerSupport.requireSites(quantSites, "QuantConv2D");
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
        return ConvolutionParamInitializer.getInstance();
    }

    @Override
    public Layer newImpl(NeuralNetConfiguration conf, DataType dataType) {
        return new QuantConv2DImpl(conf, dataType);
    }

    @Override
    public IUpdater getUpdaterByParam(String paramName) {
        return QuantLayerSupport.updaterFor(this, paramName, super.getUpdaterByParam(paramName));
    }

    @Override
    public List<Regularization> getRegularizationByParam(String paramName) {
        return QuantLayerSupport.regularizationFor(this, paramName, super.getRegularizationByParam(paramName));
    }

    @Override
    public QuantConv2D clone() {
        return (QuantConv2D) super.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantConv2D q && super.equals(o) && quantSites.equals(q.quantSites);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), quantSites);
    }

    @Override
    public String toString() {
        return QuantLayerSupport.describe(this, null);
    }

    /** Builder in DL4J style; see {@link QuantSitesBuilder} for the quantization setters. */
    public static class Builder extends ConvolutionLayer.BaseConvBuilder<Builder> implements QuantSitesBuilder<Builder> {
        private QuantSites sites = QuantSites.none();

        public Builder(int... kernelSize) {
            super(kernelSize);
        }

        public Builder() {
            super();
        }

        @Override
        protected boolean allowCausal() {
            return false;
        }

        @Override
        public QuantSites currentSites() {
            return sites;
        }

        @Override
        public Builder quant(QuantSites sites) {
            this.sites = QuantLayerSupport.requireSites(sites, "QuantConv2D");
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public QuantConv2D build() {
            org.deeplearning4j.util.ConvolutionUtils.validateConvolutionModePadding(convolutionMode, padding);
            org.deeplearning4j.util.ConvolutionUtils.validateCnnKernelStridePadding(kernelSize, stride, padding);
            return new QuantConv2D(this);
        }
    }
}
