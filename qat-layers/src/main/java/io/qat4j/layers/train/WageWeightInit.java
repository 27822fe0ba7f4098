package io.qat4j.layers.train;

import org.deeplearning4j.nn.weights.IWeightInit;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Rint;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * WAGE's weight initialization: {@code W ~ U(-L, L)} with {@code L = max(1.5 / 2^(k-1), sqrt(3 / fan_in))},
 * then rounded to the k-bit weight grid, {@code W <- round(W · 2^(k-1)) / 2^(k-1)} (half to even, as
 * TensorFlow's {@code round}). See {@link Wage}.
 *
 * <p>Paper: Wu et al. (WAGE), arXiv:1802.04680, eq. (7); reference code {@code myInitializer.py}
 * ({@code scaleLimit}) and {@code Top.py} (the initial {@code W_q_op}).
 *
 * <p>Example: {@code new ConvolutionLayer.Builder(5, 5).weightInit(new WageWeightInit(2))}.
 */
public final class WageWeightInit implements IWeightInit {
    private static final long serialVersionUID = 1L;

    @JsonProperty("bits")
    private int bits = 2;

    /** For JSON deserialization (2-bit weights). */
    public WageWeightInit() {
    }

    /** @param bits weight bits k_W, 2..16 */
    public WageWeightInit(int bits) {
        Wage.wm(bits);
        this.bits = bits;
    }

    public int bits() {
        return bits;
    }

    @Override
    public INDArray init(double fanIn, double fanOut, long[] shape, char order, INDArray paramView) {
        double limit = Wage.initLimit(bits, fanIn);
        Nd4j.rand(paramView, Nd4j.getDistributions().createUniform(-limit, limit));
        double s = Math.scalb(1.0, bits - 1);
        INDArray scaled = paramView.mul(s);
        Nd4j.getExecutioner().exec(new Rint(scaled, scaled));
        paramView.assign(scaled.divi(s));
        return paramView.reshape(order, shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WageWeightInit w && w.bits == bits;
    }

    @Override
    public int hashCode() {
        return Integer.hashCode(bits);
    }
}
