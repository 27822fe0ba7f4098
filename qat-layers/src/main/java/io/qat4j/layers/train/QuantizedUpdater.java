package io.qat4j.layers.train;

import io.qat4j.layers.quant.QuantSpec;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Map;
import java.util.Objects;

/**
 * Any DL4J updater with its optimizer state (momentum, Adam's moments) kept in a low-precision format,
 * and optionally the loss scale taken out of the gradient first. Serialized in the network's JSON like
 * any {@link IUpdater} (the base updater nested under {@code base}), so it survives
 * {@code ModelSerializer} round trips together with its state.
 *
 * <p>Step: {@code G <- G / lossScale} (exact for a power of two); the base updater's step (which turns
 * G into the update and advances its state); then every state array {@code s <- Q_S(s)} with the
 * {@code state} spec, per tensor (one scale per DL4J updater block and state array for scaled formats;
 * a fixed-point or minifloat format is the same everywhere), stochastic rounding seeded per iteration.
 * Learning rate and schedule are the base updater's.
 *
 * <p>Papers: Dettmers et al., "8-bit Optimizers via Block-wise Quantization", arXiv:2110.02861
 * (low-precision optimizer state); Micikevicius et al., "Mixed Precision Training", arXiv:1710.03740
 * (loss scaling).
 *
 * <p>Example: {@code new QuantizedUpdater(new Adam(1e-3), QuantSpec.parse("bf16"), 1)}.
 */
public final class QuantizedUpdater implements IUpdater {
    private static final long serialVersionUID = 1L;

    @JsonProperty("base")
    private IUpdater base;
    @JsonProperty("state")
    private QuantSpec state = QuantSpec.FLOAT;
    @JsonProperty("lossScale")
    private double lossScale = 1;

    /** For JSON deserialization. */
    public QuantizedUpdater() {
    }

    /**
     * @param base      the updater doing the maths
     * @param state     format of its state arrays ({@code float}: untouched)
     * @param lossScale the loss scale to divide gradients by (1: none); a power of two
     */
    public QuantizedUpdater(IUpdater base, QuantSpec state, double lossScale) {
        if (base == null || base instanceof QuantizedUpdater) {
            throw new IllegalArgumentException("QuantizedUpdater needs a plain DL4J updater to wrap, got " + base);
        }
        GradientSpec.of(Objects.requireNonNull(state, "state"));
        if (!state.isFloat() && state.granularity() != io.qat4j.layers.quant.Granularity.TENSOR) {
            throw new IllegalArgumentException("optimizer state format '" + state + "' must be per tensor");
        }
        checkLossScale(lossScale);
        this.base = base;
        this.state = state;
        this.lossScale = lossScale;
    }

    /** Rejects loss scales that are not powers of two in [1, 2^24]. */
    static void checkLossScale(double s) {
        if (!(s >= 1 && s <= (1 << 24)) || Math.scalb(1.0, Math.getExponent(s)) != s) {
            throw new IllegalArgumentException("loss scale must be a power of two in [1, 16777216] (so that scaling is "
                    + "exact), got " + s);
        }
    }

    public IUpdater base() {
        return base;
    }

    public QuantSpec state() {
        return state;
    }

    public double lossScale() {
        return lossScale;
    }

    @Override
    public long stateSize(long numParams) {
        return base.stateSize(numParams);
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        return new QuantizedGradientUpdater(this, base.instantiate(viewArray, initializeViewArray));
    }

    @Override
    public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        return new QuantizedGradientUpdater(this, base.instantiate(updaterState, initializeStateArrays));
    }

    @Override
    public QuantizedUpdater clone() {
        return new QuantizedUpdater(base.clone(), state, lossScale);
    }

    @Override
    public double getLearningRate(int iteration, int epoch) {
        return base.getLearningRate(iteration, epoch);
    }

    @Override
    public boolean hasLearningRate() {
        return base.hasLearningRate();
    }

    @Override
    public void setLrAndSchedule(double lr, ISchedule lrSchedule) {
        base.setLrAndSchedule(lr, lrSchedule);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantizedUpdater u && Objects.equals(u.base, base) && u.state.equals(state)
                && u.lossScale == lossScale;
    }

    @Override
    public int hashCode() {
        return Objects.hash(base, state, lossScale);
    }

    @Override
    public String toString() {
        return "QuantizedUpdater(" + base + ", state " + state + ", loss scale " + lossScale + ")";
    }
}
