package io.qat4j.layers.nn;

import io.qat4j.layers.nn.impl.QuantConvBN2DImpl;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;

import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * 2-D convolution with batch normalization folded into its weights during quantization-aware
 * training, so the network trains with the weights the hardware will use: the convolution followed
 * by DL4J's {@code BatchNormalization}, as one layer whose weight site quantizes the folded weights
 * (Jacob et al., 1712.05877, §3.2; Krishnamoorthi, 1806.08342, §3.2 and figures 6–8; PyTorch's
 * {@code torch/ao/nn/intrinsic/qat/modules/conv_fused.py}).
 *
 * <p>Parameters: weights W {@code [nOut, nIn, kH, kW]}, optional convolution bias b, and per output
 * channel c the normalization's γ, β and running μ, σ² ({@link FusedBnParamInitializer}). With
 * {@code s = sqrt(σ² + ε)} and {@code g = γ / s} (one factor per output channel, axis 0 of W):
 * <pre>
 *   W_fold = g · W                                  folded weights (what the hardware multiplies by)
 *   b_fold = β + g · (b − μ)                        folded bias (b = 0 without a convolution bias)
 *   W_q    = Q_w(W_fold)                            the weight site quantizes the folded weights
 * </pre>
 * <b>Running statistics (frozen, and always at inference):</b>
 * <pre>
 *   y = conv(Q_in(x), W_q) + b_fold
 * </pre>
 * which is exactly the post-training fold of {@code io.qat4j.layers.fold.BatchNormFold}; the running
 * statistics are not updated.
 *
 * <p><b>Batch statistics (training, until the statistics are frozen):</b> a float convolution
 * {@code z = conv(Q_in(x), W)} gives the batch mean μ_B and biased variance σ_B² of each channel
 * (over batch and positions); the running statistics are updated as DL4J's normalization updates them
 * ({@code μ ← d·μ + (1−d)·(μ_B + b)}, {@code σ² ← d·σ² + (1−d)·σ_B²}, decay d). The weights are
 * still folded with the running deviation s (taken before the update), and a per-channel correction
 * factor {@code s / S_B} ({@code S_B = sqrt(σ_B² + ε)}) restores batch normalization:
 * <pre>
 *   y = conv(Q_in(x), W_q) · s / S_B + β − γ μ_B / S_B
 * </pre>
 * Without weight quantization {@code conv(x, g·W) · s / S_B = γ z / S_B}, so y is exactly training-mode
 * batch normalization of z; the convolution bias cancels (its gradient is zero in this phase).
 *
 * <p><b>Backward:</b> the exact gradient of these formulas, with the weight site's estimator (STE)
 * for {@code ∂W_q/∂W_fold}. Through the fold: {@code dW = g · dW_fold},
 * {@code dγ = Σ(dW_fold · W) / s} (summed over each output channel's weights) plus the direct terms
 * ({@code dγ += Σ dy · (b − μ) / s} frozen, {@code −Σ dy · μ_B / S_B} with batch statistics),
 * {@code dβ = Σ dy}, {@code db = g · Σ dy} (frozen). With batch statistics the gradient also flows
 * through μ_B and S_B into the float convolution z (the normalization backward composed with the
 * convolution backward). The running statistics are constants: in batch-statistics mode y does not
 * depend on them without quantization (s cancels against the correction), and they are not trained.
 *
 * <p>The activation (default identity) is applied after the normalization, then the output site.
 * Input and output sites are those of every quantized layer; the bias site must be {@code float}.
 * Only NCHW data and the {@code Truncate}, {@code Strict} and {@code Same} convolution modes are
 * supported. {@code hasBias} defaults to false: β is the bias.
 *
 * <pre>
 * new QuantConvBN2D.Builder(5, 5).nOut(32).weightQuant("int(bits=4, axis=channel, narrow=true)")
 *     .freezeBnAfter(2000).build()
 * </pre>
 */
public class QuantConvBN2D extends ConvolutionLayer implements QuantLayer, FusedBatchNorm {
    private static final long serialVersionUID = 1L;

    private QuantSites quantSites = QuantSites.none();
    private BnSettings bn = BnSettings.DEFAULTS;

    /** For JSON deserialization. */
    public QuantConvBN2D() {
    }

    private QuantConvBN2D(Builder b) {
        super(b);
        this.quantSites = b.sites;
        this.bn = b.bn;
    }

    @Override
    public QuantSites getQuantSites() {
        return quantSites;
    }

    @Override
    public void setQuantSites(QuantSites quantSites) {
        this.quantSites = FusedBatchNorm.validate("QuantConvBN2D", quantSites);
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
        return new FusedBnParamInitializer(ConvolutionParamInitializer.getInstance());
    }

    @Override
    public Layer newImpl(NeuralNetConfiguration conf, DataType dataType) {
        return new QuantConvBN2DImpl(conf, dataType);
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
    public QuantConvBN2D clone() {
        return (QuantConvBN2D) super.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantConvBN2D q && super.equals(o) && quantSites.equals(q.quantSites) && bn.equals(q.bn);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), quantSites, bn);
    }

    @Override
    public String toString() {
        return QuantLayerSupport.describe(this, bn.toString());
    }

    /** Builder in DL4J style; see {@link QuantSitesBuilder} for the quantization setters. */
    public static class Builder extends ConvolutionLayer.BaseConvBuilder<Builder> implements QuantSitesBuilder<Builder>,
            FusedBatchNorm.Builder<Builder> {
        private QuantSites sites = QuantSites.none();
        private BnSettings bn = BnSettings.DEFAULTS;

        public Builder(int... kernelSize) {
            super(kernelSize);
            defaults();
        }

        public Builder() {
            super();
            defaults();
        }

        private void defaults() {
            this.hasBias = false;
            this.activationFn = new ActivationIdentity();
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
            this.sites = QuantLayerSupport.requireSites(sites, "QuantConvBN2D");
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
        public QuantConvBN2D build() {
            org.deeplearning4j.util.ConvolutionUtils.validateConvolutionModePadding(convolutionMode, padding);
            org.deeplearning4j.util.ConvolutionUtils.validateCnnKernelStridePadding(kernelSize, stride, padding);
            FusedBatchNorm.validate("QuantConvBN2D", sites);
            return new QuantConvBN2D(this);
        }
    }
}
