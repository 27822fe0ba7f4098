package io.qat4j.layers.train;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Objects;

/**
 * A loss function whose gradient, the error entering the output layer (dL/dz), is scaled by the loss
 * scale and quantized: the first error of the backward pass (WAGE's Q_E on the last layer). The score
 * is the base loss's, unscaled.
 *
 * <p>Backward: {@code δ = Q_E(S · ∂L/∂z)} with S the loss scale (a power of two; the updater divides
 * every gradient by S again, see {@link QuantizedUpdater}) and Q_E the output layer's errors spec.
 * Stochastic rounding here is seeded by a call counter (the loss function does not see the iteration).
 *
 * <p>Papers: Wu et al. (WAGE), arXiv:1802.04680 (error of the last layer); Micikevicius et al.,
 * arXiv:1710.03740 (loss scaling); Wang et al., arXiv:1812.08011 (FP8 errors).
 *
 * <p>Example: {@code new QuantizedLoss(new LossL2(), GradientSpec.parse("shift(bits=8)"), 1, 3)}.
 */
public final class QuantizedLoss implements ILossFunction {
    private static final long serialVersionUID = 1L;

    @JsonProperty("base")
    private ILossFunction base;
    @JsonProperty("errors")
    private GradientSpec errors = GradientSpec.FLOAT;
    @JsonProperty("lossScale")
    private double lossScale = 1;
    @JsonProperty("layer")
    private int layer;

    private transient GradientQuantizer quantizer;
    private transient long calls;

    /** For JSON deserialization. */
    public QuantizedLoss() {
    }

    /**
     * @param base      the loss
     * @param errors    format of the error entering the output layer
     * @param lossScale a power of two (1: none)
     * @param layer     index of the output layer (diagnostics)
     */
    public QuantizedLoss(ILossFunction base, GradientSpec errors, double lossScale, int layer) {
        if (base == null || base instanceof QuantizedLoss) {
            throw new IllegalArgumentException("QuantizedLoss needs a plain DL4J loss function to wrap, got " + base);
        }
        this.base = base;
        this.errors = Objects.requireNonNull(errors, "errors").requireAllowedFor("errors");
        QuantizedUpdater.checkLossScale(lossScale);
        this.lossScale = lossScale;
        this.layer = layer;
    }

    public ILossFunction base() {
        return base;
    }

    public GradientSpec errors() {
        return errors;
    }

    public double lossScale() {
        return lossScale;
    }

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
                               boolean average) {
        return base.computeScore(labels, preOutput, activationFn, mask, average);
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        return base.computeScoreArray(labels, preOutput, activationFn, mask);
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        return scaleAndQuantize(base.computeGradient(labels, preOutput, activationFn, mask));
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput, IActivation activationFn,
                                                          INDArray mask, boolean average) {
        Pair<Double, INDArray> p = base.computeGradientAndScore(labels, preOutput, activationFn, mask, average);
        return new Pair<>(p.getFirst(), scaleAndQuantize(p.getSecond()));
    }

    private INDArray scaleAndQuantize(INDArray g) {
        if (lossScale != 1) {
            g.muli(lossScale);
        }
        if (errors.isFloat()) {
            return g;
        }
        if (quantizer == null) {
            quantizer = GradientQuantizer.of(errors, 1);
        }
        return TrainingMonitor.quantize(quantizer, g, Seeds.of(layer, calls++, Seeds.LOSS), 0, layer,
                TrainingMonitor.Path.ERRORS);
    }

    @Override
    public String name() {
        return "QuantizedLoss(" + base.name() + ", " + errors + (lossScale != 1 ? ", scale " + lossScale : "") + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantizedLoss q && q.base.equals(base) && q.errors.equals(errors)
                && q.lossScale == lossScale && q.layer == layer;
    }

    @Override
    public int hashCode() {
        return Objects.hash(base, errors, lossScale, layer);
    }

    @Override
    public String toString() {
        return name();
    }
}
