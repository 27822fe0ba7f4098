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
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Collection;
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
    private double decay = DEFAULT_DECAY;
    private double eps = DEFAULT_EPS;
    private int freezeBnAfter;
    private boolean bnFrozen;

    /** For JSON deserialization. */
    public QuantDenseBN() {
    }

    private QuantDenseBN(Builder b) {
        super(b);
        this.hasBias = b.hasBias;
        this.quantSites = b.sites;
        this.decay = b.decay;
        this.eps = b.eps;
        this.freezeBnAfter = b.freezeBnAfter;
        this.bnFrozen = b.bnFrozen;
        initializeConstraints(b);
    }

    @Override
    public QuantSites getQuantSites() {
        return quantSites;
    }

    public void setQuantSites(QuantSites quantSites) {
        FusedBatchNorm.validate("QuantDenseBN", decay, eps, freezeBnAfter, quantSites);
        this.quantSites = quantSites;
    }

    public boolean hasBias() {
        return hasBias;
    }

    public void setHasBias(boolean hasBias) {
        this.hasBias = hasBias;
    }

    @Override
    public double getDecay() {
        return decay;
    }

    public void setDecay(double decay) {
        FusedBatchNorm.validate("QuantDenseBN", decay, eps, freezeBnAfter, quantSites);
        this.decay = decay;
    }

    @Override
    public double getEps() {
        return eps;
    }

    public void setEps(double eps) {
        FusedBatchNorm.validate("QuantDenseBN", decay, eps, freezeBnAfter, quantSites);
        this.eps = eps;
    }

    @Override
    public int getFreezeBnAfter() {
        return freezeBnAfter;
    }

    public void setFreezeBnAfter(int freezeBnAfter) {
        FusedBatchNorm.validate("QuantDenseBN", decay, eps, freezeBnAfter, quantSites);
        this.freezeBnAfter = freezeBnAfter;
    }

    @Override
    public boolean isBnFrozen() {
        return bnFrozen;
    }

    @Override
    public void setBnFrozen(boolean bnFrozen) {
        this.bnFrozen = bnFrozen;
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
                             INDArray paramsView, boolean initializeParams, DataType dataType) {
        return QuantLayerSupport.wire(new QuantDenseBNImpl(conf, dataType), conf, initializer(), listeners, layerIndex,
                paramsView, initializeParams);
    }

    @Override
    public ParamInitializer initializer() {
        return new QuantParamInitializer(new FusedBnParamInitializer(DenseParams.INSTANCE));
    }

    @Override
    public IUpdater getUpdaterByParam(String paramName) {
        return FusedBnParamInitializer.isStatisticsKey(paramName) ? new NoOp()
                : QuantLayerSupport.updaterFor(paramName, super.getUpdaterByParam(paramName));
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
        return o instanceof QuantDenseBN q && super.equals(o) && hasBias == q.hasBias && quantSites.equals(q.quantSites)
                && Double.compare(decay, q.decay) == 0 && Double.compare(eps, q.eps) == 0
                && freezeBnAfter == q.freezeBnAfter && bnFrozen == q.bnFrozen;
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), hasBias, quantSites, decay, eps, freezeBnAfter, bnFrozen);
    }

    @Override
    public String toString() {
        return "QuantDenseBN(" + getLayerName() + ", nIn=" + nIn + ", nOut=" + nOut + ", " + quantSites + ", decay="
                + decay + ", eps=" + eps + ", freezeBnAfter=" + freezeBnAfter + ", bnFrozen=" + bnFrozen + ")";
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
    public static class Builder extends FeedForwardLayer.Builder<Builder> implements QuantSitesBuilder<Builder> {
        private boolean hasBias;
        private QuantSites sites = QuantSites.none();
        private double decay = DEFAULT_DECAY;
        private double eps = DEFAULT_EPS;
        private int freezeBnAfter;
        private boolean bnFrozen;

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
            QuantLayerSupport.requireSites(sites, "QuantDenseBN");
            this.sites = sites;
            return this;
        }

        /** Running-statistics decay, in [0, 1); default 0.9 (DL4J's). */
        public Builder decay(double decay) {
            this.decay = decay;
            return this;
        }

        /** Epsilon added to the variance, &gt; 0; default 1e-5 (DL4J's). */
        public Builder eps(double eps) {
            this.eps = eps;
            return this;
        }

        /** Freeze the statistics from this training iteration on; 0 (default) = never by iteration count. */
        public Builder freezeBnAfter(int iterations) {
            this.freezeBnAfter = iterations;
            return this;
        }

        /** Start with frozen statistics (e.g. to fine-tune a network whose statistics are trained). */
        public Builder bnFrozen(boolean frozen) {
            this.bnFrozen = frozen;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public QuantDenseBN build() {
            FusedBatchNorm.validate("QuantDenseBN", decay, eps, freezeBnAfter, sites);
            return new QuantDenseBN(this);
        }
    }
}
