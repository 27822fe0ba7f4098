package io.qat4j.layers.nn;

import io.qat4j.layers.nn.impl.QuantDenseImpl;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.shade.jackson.annotation.JsonProperty;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;

import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Fully connected layer with quantized input, weights, bias and output: the quantized twin of
 * DL4J's {@code DenseLayer}. With every site {@code float} it computes exactly what
 * {@code DenseLayer} computes.
 *
 * <p>Forward: {@code y = Q_out(act(Q_in(x) · Q_w(W) + Q_b(b)))}; backward: DL4J's dense gradients
 * evaluated at the quantized values, passed through each site's gradient estimator (the
 * straight-through estimator of Bengio et al., 1308.3432, unless the spec names another).
 * Weights {@code [nIn, nOut]} are quantized per output channel along axis 1 when the spec says
 * {@code axis=channel}.
 *
 * <pre>
 * new QuantDense.Builder().nIn(800).nOut(500).activation(Activation.RELU)
 *     .weightQuant("int(bits=4, axis=channel, narrow=true)").outputQuant("uint(bits=4, observer=ema)").build()
 * </pre>
 */
public class QuantDense extends FeedForwardLayer implements QuantLayer {
    private static final long serialVersionUID = 1L;

    @JsonProperty("hasBias")
    private boolean hasBias = true;
    private QuantSites quantSites = QuantSites.none();

    /** For JSON deserialization. */
    public QuantDense() {
    }

    private QuantDense(Builder b) {
        super(b);
        this.hasBias = b.hasBias;
        this.quantSites = b.sites;
        initializeConstraints(b);
    }

    @Override
    public QuantSites getQuantSites() {
        return quantSites;
    }

    @Override
    public void setQuantSites(QuantSites quantSites) {
        this.quantSites = QuantLayerSupport.requireSites(quantSites, "QuantDense");
    }

    public boolean hasBias() {
        return hasBias;
    }

    public void setHasBias(boolean hasBias) {
        this.hasBias = hasBias;
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
        return DenseParams.INSTANCE;
    }

    @Override
    public Layer newImpl(NeuralNetConfiguration conf, DataType dataType) {
        return new QuantDenseImpl(conf, dataType);
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
    public LayerMemoryReport getMemoryReport(InputType inputType) {
        InputType outputType = getOutputType(-1, inputType);
        long numParams = initializer().numParams(this);
        long updaterStateSize = (long) getIUpdater().stateSize(numParams);
        return new LayerMemoryReport.Builder(layerName, QuantDense.class, inputType, outputType)
                .standardMemory(numParams, updaterStateSize)
                .workingMemory(0, 0, 0, outputType.arrayElementsPerExample() * 2L)
                .cacheMemory(MemoryReport.CACHE_MODE_ALL_ZEROS, MemoryReport.CACHE_MODE_ALL_ZEROS)
                .build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantDense q && super.equals(o) && hasBias == q.hasBias && quantSites.equals(q.quantSites);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), hasBias, quantSites);
    }

    @Override
    public String toString() {
        return QuantLayerSupport.describe(this, null);
    }

    /** DL4J's dense parameters (W {@code [nIn, nOut]}, then b), honouring {@link #hasBias()}. */
    static final class DenseParams extends DefaultParamInitializer {
        static final DenseParams INSTANCE = new DenseParams();

        @Override
        protected boolean hasBias(org.deeplearning4j.nn.conf.layers.Layer layer) {
            return layer instanceof QuantDense q ? q.hasBias() : super.hasBias(layer);
        }
    }

    /** Builder in DL4J style; see {@link QuantSitesBuilder} for the quantization setters. */
    public static class Builder extends FeedForwardLayer.Builder<Builder> implements QuantSitesBuilder<Builder> {
        private boolean hasBias = true;
        private QuantSites sites = QuantSites.none();

        public Builder hasBias(boolean hasBias) {
            this.hasBias = hasBias;
            return this;
        }

        @Override
        public QuantSites currentSites() {
            return sites;
        }

        @Override
        public Builder quant(QuantSites sites) {
            this.sites = QuantLayerSupport.requireSites(sites, "QuantDense");
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public QuantDense build() {
            return new QuantDense(this);
        }
    }
}
