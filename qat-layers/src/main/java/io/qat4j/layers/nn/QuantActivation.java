package io.qat4j.layers.nn;

import io.qat4j.layers.nn.impl.QuantActivationImpl;
import io.qat4j.layers.quant.QuantSpec;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.params.EmptyParamInitializer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;

import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Fake-quantization of activations at any point of a network: {@code y = Q(act(x))} with any DL4J
 * activation (identity, ReLU, ReLU6, hard tanh, ...). Works on dense and convolutional activations
 * and keeps their shape. The spec's observer (e.g. {@code observer=ema}) keeps the activation range
 * in the layer's {@code qout} parameter; per-channel specs use axis 1.
 *
 * <p>Backward: {@code dL/dx = act'(x) · STE(dL/dy)}, with the spec's estimator.
 *
 * <pre>
 * new QuantActivation.Builder().activation(Activation.RELU).quant("int(bits=4, signed=false, observer=ema)").build()
 * </pre>
 */
public class QuantActivation extends FeedForwardLayer implements QuantLayer {
    private static final long serialVersionUID = 1L;

    private QuantSites quantSites = QuantSites.none();

    /** For JSON deserialization. */
    public QuantActivation() {
    }

    private QuantActivation(Builder b) {
        super(b);
        this.quantSites = b.sites;
    }

    /** The spec applied to the activations. */
    public QuantSpec spec() {
        return quantSites.output();
    }

    @Override
    public QuantSites getQuantSites() {
        return quantSites;
    }

    @Override
    public void setQuantSites(QuantSites quantSites) {
        this.quantSites = QuantLayerSupport.requireSites(quantSites, "QuantActivation");
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
        return EmptyParamInitializer.getInstance();
    }

    @Override
    public Layer newImpl(NeuralNetConfiguration conf, DataType dataType) {
        return new QuantActivationImpl(conf, dataType);
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
    public InputType getOutputType(int layerIndex, InputType inputType) {
        return inputType;
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        long channels = inputType instanceof InputType.InputTypeConvolutional c ? c.getChannels()
                : inputType.arrayElementsPerExample();
        if (nIn <= 0 || override) {
            nIn = channels;
            nOut = channels;
        }
    }

    @Override
    public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
        return null;
    }

    @Override
    public LayerMemoryReport getMemoryReport(InputType inputType) {
        return new LayerMemoryReport.Builder(layerName, QuantActivation.class, inputType, inputType)
                .standardMemory(0, 0).workingMemory(0, 0, 0, inputType.arrayElementsPerExample())
                .cacheMemory(MemoryReport.CACHE_MODE_ALL_ZEROS, MemoryReport.CACHE_MODE_ALL_ZEROS).build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantActivation q && super.equals(o) && quantSites.equals(q.quantSites);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), quantSites);
    }

    @Override
    public String toString() {
        return QuantLayerSupport.describe(this, null);
    }

    /** Builder in DL4J style; {@link #quant(String)} sets the activation spec. */
    public static class Builder extends FeedForwardLayer.Builder<Builder> {
        private QuantSites sites = QuantSites.none();

        /** The spec of the activations, e.g. {@code uint4}. */
        public Builder quant(String spec) {
            return quant(QuantSpec.parse(spec));
        }

        public Builder quant(QuantSpec spec) {
            this.sites = QuantSites.none().withOutput(spec);
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public QuantActivation build() {
            return new QuantActivation(this);
        }
    }
}
