package io.qat4j.layers.nn;

import io.qat4j.layers.nn.impl.QuantDenseBNImpl;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Fully connected layer with batch normalization folded into its weights during quantization-aware
 * training: {@code DenseLayer} followed by DL4J's {@code BatchNormalization}, as one layer whose
 * weight site quantizes the folded weights. The algebra is that of {@link QuantConvBN2D} with
 * {@code x · W} for the convolution: weights {@code [nIn, nOut]} are folded (and quantized per
 * channel) along axis 1, and the statistics are taken over the batch.
 * <pre>
 *   W_fold = W · diag(g),  g = γ / sqrt(σ² + ε),  b_fold = β + g · (b − μ),  W_q = Q_w(W_fold)
 *   frozen / inference:  y = Q_in(x) · W_q + b_fold
 *   batch statistics:    y = (Q_in(x) · W_q) · s / S_B + β − γ μ_B / S_B,   μ_B, S_B from Q_in(x) · W
 * </pre>
 * {@code hasBias} defaults to false (β is the bias); the activation defaults to identity.
 *
 * <pre>
 * new QuantDenseBN.Builder().nOut(512).weightQuant("int(bits=4, axis=channel, narrow=true)").build()
 * </pre>
 */
public class QuantDenseBN extends FeedForwardLayer implements QuantLayer, FusedBatchNorm {
    private static final long serialVersionUID = 1L;

    @JsonProperty("hasBias")
    private boolean hasBias;
    private QuantSites quantSites = QuantSites.none();
    private BnSettings bn = BnSettings.DEFAULTS;

    /** For JSON deserialization. */
    public QuantDenseBN() {
    }

    private QuantDenseBN(Builder b) {
        super(b);
        this.hasBias = b.hasBias;
        this.quantSites = b.sites;
        this.bn = b.bn;
        initializeConstraints(b);
    }

    @Override
    public QuantSites getQuantSites() {
        return quantSites;
    }

    @Override
    public void setQuantSites(QuantSites quantSites) {
        this.quantSites = FusedBatchNorm.validate("QuantDenseBN", quantSites);
    }

    public boolean hasBias() {
        return hasBias;
    }

    public void setHasBias(boolean hasBias) {
        this.hasBias = hasBias;
    }

    @Override
    public BnSettings getBn() {
        return bn;
    }

    @Override
    public void setBn(BnSettings bn) {
        this.bn = java.util.Objects.requireNonNull(bn, "bn");
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
        return new FusedBnParamInitializer(DenseParams.INSTANCE);
    }

    @Override
    public Layer newImpl(NeuralNetConfiguration conf, DataType dataType) {
        return new QuantDenseBNImpl(conf, dataType);
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
        return new LayerMemoryReport.Builder(layerName, QuantDenseBN.class, inputType, outputType)
                .standardMemory(numParams, updaterStateSize)
                .workingMemory(0, 0, 0, outputType.arrayElementsPerExample() * 4L)
                .cacheMemory(MemoryReport.CACHE_MODE_ALL_ZEROS, MemoryReport.CACHE_MODE_ALL_ZEROS)
                .build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantDenseBN q && super.equals(o) && hasBias == q.hasBias && quantSites.equals(q.quantSites) && bn.equals(q.bn);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), hasBias, quantSites, bn);
    }

    @Override
    public String toString() {
        return QuantLayerSupport.describe(this, bn.toString());
    }

    /** DL4J's dense parameters (W {@code [nIn, nOut]}, then b), honouring {@link #hasBias()}. */
    static final class DenseParams extends DefaultParamInitializer {
        static final DenseParams INSTANCE = new DenseParams();

        @Override
        protected boolean hasBias(org.deeplearning4j.nn.conf.layers.Layer layer) {
            return layer instanceof QuantDenseBN q ? q.hasBias() : super.hasBias(layer);
        }
    }

    /** Builder in DL4J style; see {@link QuantSitesBuilder} for the quantization setters. */
    public static class Builder extends FeedForwardLayer.Builder<Builder> implements QuantSitesBuilder<Builder>,
            FusedBatchNorm.Builder<Builder> {
        private boolean hasBias;
        private QuantSites sites = QuantSites.none();
        private BnSettings bn = BnSettings.DEFAULTS;

        public Builder() {
            this.activationFn = new ActivationIdentity();
        }

        /** Whether the layer has a bias before the normalization (default false: β is the bias). */
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
            this.sites = QuantLayerSupport.requireSites(sites, "QuantDenseBN");
            return this;
        }

        @Override
        public BnSettings bn() {
            return bn;
        }

        @Override
        public Builder bn(BnSettings bn) {
            this.bn = java.util.Objects.requireNonNull(bn, "bn");
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public QuantDenseBN build() {
            FusedBatchNorm.validate("QuantDenseBN", sites);
            return new QuantDenseBN(this);
        }
    }
}
