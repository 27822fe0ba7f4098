package io.qat4j.layers.train;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Objects;

/**
 * An activation function followed by a constant scale: WAGE's constant scaling layer in place of batch
 * normalization, folded into the layer's activation.
 *
 * <p>Forward: {@code y = c · base(z)}; with ReLU and c = 1/α this is {@code ReLU(z/α)}, which equals the
 * reference code's {@code W_q/α} for a layer without bias. Backward: {@code dL/dz = base'(z) · c · dL/dy}.
 * c is a power of two in WAGE, so both directions are exact.
 *
 * <p>Paper: Wu et al. (WAGE), arXiv:1802.04680, section 3.3 (layer-wise scaling factor α).
 *
 * <p>Example: {@code new ScaledActivation(Activation.RELU.getActivationFunction(), 1.0 / 16)}.
 */
public final class ScaledActivation implements IActivation {
    private static final long serialVersionUID = 1L;

    @JsonProperty("base")
    private IActivation base;
    @JsonProperty("scale")
    private double scale = 1;

    /** For JSON deserialization. */
    public ScaledActivation() {
    }

    public ScaledActivation(IActivation base, double scale) {
        if (base == null) {
            throw new IllegalArgumentException("base activation must not be null");
        }
        if (!(scale > 0) || !Double.isFinite(scale)) {
            throw new IllegalArgumentException("scale must be a positive finite number, got " + scale);
        }
        this.base = base;
        this.scale = scale;
    }

    public IActivation base() {
        return base;
    }

    public double scale() {
        return scale;
    }

    @Override
    public INDArray getActivation(INDArray in, boolean training) {
        return base.getActivation(in, training).muli(scale);
    }

    @Override
    public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
        Pair<INDArray, INDArray> p = base.backprop(in, epsilon);
        p.getFirst().muli(scale);
        return p;
    }

    @Override
    public int numParams(int inputSize) {
        return base.numParams(inputSize);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScaledActivation s && s.base.equals(base) && s.scale == scale;
    }

    @Override
    public int hashCode() {
        return Objects.hash(base, scale);
    }

    @Override
    public String toString() {
        return base + "*" + scale;
    }
}
