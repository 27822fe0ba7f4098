package io.qat4j.layers.nn;

import io.qat4j.layers.nn.impl.DeviationBatchNormImpl;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.regularization.Regularization;

import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Batch normalization with the standard deviation replaced by a cheaper estimate σ̂ of it: the
 * scaled range (RangeBN, Banner et al., arXiv:1805.11046) or the scaled mean absolute deviation
 * (L1BN, Wu et al., arXiv:1802.09769); see {@link NormKind}. A drop-in replacement for DL4J's
 * {@code BatchNormalization} on dense {@code [N, C]} and convolutional NCHW {@code [N, C, H, W]}
 * activations; statistics are per channel C over the n = N (dense) or n = N·H·W (conv) values.
 *
 * <p>Forward, training mode (batch statistics):
 * <pre>
 *   μ = (1/n) Σ x,   σ̂ = kind.deviation(x),   x̂ = (x − μ) / (σ̂ + ε),   y = act(γ · x̂ + β)
 * </pre>
 * Inference mode uses the running estimates instead of μ and σ̂, updated after each training step
 * with DL4J's decay d (default 0.9): {@code mean ← d·mean + (1−d)·μ}, {@code std ← d·std + (1−d)·σ̂}.
 *
 * <p>Backward (training mode), with h = γ · dL/dy (after the activation's derivative) and
 * A = Σ h·x̂ over the channel's n values:
 * <pre>
 *   dL/dx_j = (h_j − mean(h) − A · ∂σ̂/∂x_j) / (σ̂ + ε),   dL/dγ = Σ dL/dy · x̂,   dL/dβ = Σ dL/dy
 * </pre>
 * the exact derivative of the forward formula ({@link NormKind#deviationGradient}). In inference
 * mode μ and σ̂ are constants and dL/dx = h / (σ̂ + ε).
 *
 * <p>Parameters ({@link DeviationBatchNormParamInitializer}): {@code gamma}, {@code beta} (trained;
 * absent with {@code lockGammaBeta}, which uses the fixed values of the configuration), {@code mean}
 * and {@code std} (the running μ and σ̂ — σ̂ itself, not a variance or a logarithm — with a no-op
 * updater, so they are saved in model zips). Folding into a preceding layer uses the per-channel
 * factor {@code γ / (std + ε)} (see {@code io.qat4j.layers.fold.BatchNormFold}). No regularization
 * applies to these parameters, as in DL4J's layer.
 *
 * <p>Unlike DL4J's {@code BatchNormalization} (1.0.0-M2.1), which ignores its activation function,
 * this layer applies it; the builder sets the identity, so a network-wide activation does not leak
 * in. As in DL4J's layer, input dropout is not applied.
 *
 * <pre>
 * new DeviationBatchNorm.Builder(NormKind.RANGE).build()      // RangeBN
 * new DeviationBatchNorm.Builder(NormKind.L1).decay(0.99).build()
 * </pre>
 */
public class DeviationBatchNorm extends FeedForwardLayer {
    private static final long serialVersionUID = 1L;

    private NormKind kind = NormKind.RANGE;
    private double decay = 0.9;
    private double eps = 1e-5;
    private double gamma = 1.0;
    private double beta = 0.0;
    private boolean lockGammaBeta = false;

    /** For JSON deserialization. */
    public DeviationBatchNorm() {
    }

    private DeviationBatchNorm(Builder b) {
        super(b);
        this.kind = b.kind;
        this.decay = b.decay;
        this.eps = b.eps;
        this.gamma = b.gamma;
        this.beta = b.beta;
        this.lockGammaBeta = b.lockGammaBeta;
        initializeConstraints(b);
    }

    /** How σ is estimated. */
    public NormKind getKind() {
        return kind;
    }

    public void setKind(NormKind kind) {
        this.kind = requireKind(kind);
    }

    /** Decay d of the running estimates: {@code running ← d·running + (1−d)·batch}. */
    public double getDecay() {
        return decay;
    }

    public void setDecay(double decay) {
        this.decay = requireDecay(decay);
    }

    /** ε added to σ̂ (not to a variance): x̂ = (x − μ) / (σ̂ + ε). */
    public double getEps() {
        return eps;
    }

    public void setEps(double eps) {
        this.eps = requireEps(eps);
    }

    /** γ used for every channel when {@link #isLockGammaBeta()}; otherwise the initial value of the parameter. */
    public double getGamma() {
        return gamma;
    }

    public void setGamma(double gamma) {
        this.gamma = gamma;
    }

    /** β used for every channel when {@link #isLockGammaBeta()}; otherwise the initial value of the parameter. */
    public double getBeta() {
        return beta;
    }

    public void setBeta(double beta) {
        this.beta = beta;
    }

    /** Whether γ and β are fixed to {@link #getGamma()} / {@link #getBeta()} instead of learned. */
    public boolean isLockGammaBeta() {
        return lockGammaBeta;
    }

    public void setLockGammaBeta(boolean lockGammaBeta) {
        this.lockGammaBeta = lockGammaBeta;
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
                             INDArray paramsView, boolean initializeParams, DataType dataType) {
        if (getNOut() <= 0) {
            throw new IllegalArgumentException("DeviationBatchNorm " + getLayerName() + " (layer " + layerIndex
                    + "): nOut (the channel count) is not set; give it or set the network's input type");
        }
        return QuantLayerSupport.wire(new DeviationBatchNormImpl(conf, dataType), conf, initializer(), listeners,
                layerIndex, paramsView, initializeParams);
    }

    @Override
    public ParamInitializer initializer() {
        return DeviationBatchNormParamInitializer.getInstance();
    }

    @Override
    public IUpdater getUpdaterByParam(String paramName) {
        return switch (paramName) {
            case DeviationBatchNormParamInitializer.GAMMA, DeviationBatchNormParamInitializer.BETA -> iUpdater;
            case DeviationBatchNormParamInitializer.MEAN, DeviationBatchNormParamInitializer.STD -> new NoOp();
            default -> throw new IllegalArgumentException("unknown parameter '" + paramName + "' of DeviationBatchNorm "
                    + getLayerName() + "; allowed: " + String.join(", ", DeviationBatchNormParamInitializer.KEYS));
        };
    }

    @Override
    public List<Regularization> getRegularizationByParam(String paramName) {
        return null; // like DL4J's batch normalization: γ, β and the running statistics are not regularized
    }

    @Override
    public boolean isPretrainParam(String paramName) {
        return false;
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        requireSupported(inputType);
        return inputType;
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        requireSupported(inputType);
        if (nIn <= 0 || override) {
            nIn = switch (inputType.getType()) {
                case FF -> ((InputType.InputTypeFeedForward) inputType).getSize();
                case CNN -> ((InputType.InputTypeConvolutional) inputType).getChannels();
                case CNNFlat -> ((InputType.InputTypeConvolutionalFlat) inputType).getDepth();
                default -> throw new IllegalStateException("unreachable: " + inputType);
            };
            nOut = nIn;
        }
    }

    private void requireSupported(InputType inputType) {
        if (inputType == null) {
            throw new IllegalArgumentException("DeviationBatchNorm " + getLayerName() + ": input type is null");
        }
        switch (inputType.getType()) {
            case FF, CNNFlat -> {
            }
            case CNN -> {
                CNN2DFormat f = ((InputType.InputTypeConvolutional) inputType).getFormat();
                if (f != CNN2DFormat.NCHW) {
                    throw new IllegalArgumentException("DeviationBatchNorm " + getLayerName() + ": convolutional data "
                            + "format " + f + " not supported; allowed: NCHW");
                }
            }
            default -> throw new IllegalArgumentException("DeviationBatchNorm " + getLayerName() + ": input type "
                    + inputType + " not supported; allowed: feed-forward [N, C] or convolutional NCHW [N, C, H, W]");
        }
    }

    @Override
    public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
        if (inputType.getType() == InputType.Type.CNNFlat) {
            InputType.InputTypeConvolutionalFlat i = (InputType.InputTypeConvolutionalFlat) inputType;
            return new FeedForwardToCnnPreProcessor(i.getHeight(), i.getWidth(), i.getDepth());
        }
        return null;
    }

    @Override
    public LayerMemoryReport getMemoryReport(InputType inputType) {
        long numParams = initializer().numParams(this);
        long updaterState = lockGammaBeta ? 0 : 2L * (long) getIUpdater().stateSize(nOut);
        long perExample = inputType.arrayElementsPerExample();
        return new LayerMemoryReport.Builder(layerName, DeviationBatchNorm.class, inputType, inputType)
                .standardMemory(numParams, updaterState)
                .workingMemory(0, perExample, 2 * nOut, 3 * perExample)
                .cacheMemory(MemoryReport.CACHE_MODE_ALL_ZEROS, MemoryReport.CACHE_MODE_ALL_ZEROS)
                .build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DeviationBatchNorm d && super.equals(o) && kind == d.kind
                && Double.compare(decay, d.decay) == 0 && Double.compare(eps, d.eps) == 0
                && Double.compare(gamma, d.gamma) == 0 && Double.compare(beta, d.beta) == 0
                && lockGammaBeta == d.lockGammaBeta;
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), kind, decay, eps, gamma, beta, lockGammaBeta);
    }

    @Override
    public String toString() {
        return "DeviationBatchNorm(" + getLayerName() + ", kind=" + kind + ", nOut=" + nOut + ", decay=" + decay
                + ", eps=" + eps + (lockGammaBeta ? ", locked gamma=" + gamma + " beta=" + beta : "") + ")";
    }

    private static NormKind requireKind(NormKind kind) {
        if (kind == null) {
            throw new IllegalArgumentException("DeviationBatchNorm needs a kind; allowed: range, l1");
        }
        return kind;
    }

    private static double requireDecay(double decay) {
        if (!(decay >= 0 && decay <= 1)) {
            throw new IllegalArgumentException("decay must be in [0, 1], got " + decay);
        }
        return decay;
    }

    private static double requireEps(double eps) {
        if (!(eps >= 0 && Double.isFinite(eps))) {
            throw new IllegalArgumentException("eps must be a finite number >= 0, got " + eps);
        }
        return eps;
    }

    /** Builder in DL4J style; the kind is required, everything else has DL4J's defaults. */
    public static class Builder extends FeedForwardLayer.Builder<Builder> {
        private NormKind kind;
        private double decay = 0.9;
        private double eps = 1e-5;
        private double gamma = 1.0;
        private double beta = 0.0;
        private boolean lockGammaBeta = false;

        public Builder(NormKind kind) {
            this.kind = requireKind(kind);
            this.activationFn = new ActivationIdentity();
        }

        /** How σ is estimated: {@link NormKind#RANGE} or {@link NormKind#L1}. */
        public Builder kind(NormKind kind) {
            this.kind = requireKind(kind);
            return this;
        }

        /** Decay of the running estimates, in [0, 1]; default 0.9. */
        public Builder decay(double decay) {
            this.decay = requireDecay(decay);
            return this;
        }

        /** ε added to σ̂, ≥ 0; default 1e-5. */
        public Builder eps(double eps) {
            this.eps = requireEps(eps);
            return this;
        }

        /** Fixed γ (with {@link #lockGammaBeta}) or initial γ; default 1. */
        public Builder gamma(double gamma) {
            this.gamma = gamma;
            return this;
        }

        /** Fixed β (with {@link #lockGammaBeta}) or initial β; default 0. */
        public Builder beta(double beta) {
            this.beta = beta;
            return this;
        }

        /** Fix γ and β to {@link #gamma} / {@link #beta} instead of learning them; default false. */
        public Builder lockGammaBeta(boolean lockGammaBeta) {
            this.lockGammaBeta = lockGammaBeta;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public DeviationBatchNorm build() {
            return new DeviationBatchNorm(this);
        }
    }
}
