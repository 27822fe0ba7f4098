package io.qat4j.layers.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * How a {@link DeviationBatchNorm} estimates the per-channel standard deviation σ of a batch
 * from the n values {@code x_1..x_n} of one channel (mean μ).
 *
 * <p>Both estimates equal σ for Gaussian data (in expectation, and for large n in the range case)
 * and need no squares or square roots, which is what makes them suited to low-precision arithmetic.
 * Each kind gives the estimate {@link #deviation} and its exact derivative {@link #addDeviationGradient}.
 * Methods work on a {@code [n, C]} matrix: one row per value, one column per channel.
 */
public enum NormKind {

    /**
     * Range batch normalization (RangeBN; Banner, Hubara, Hoffer and Soudry, "Scalable methods for
     * 8-bit training of neural networks", NeurIPS 2018, arXiv:1805.11046):
     * <pre>
     *   σ̂ = C(n) · (max_i x_i − min_i x_i),   C(n) = 1 / sqrt(2 ln n)
     * </pre>
     * Derivative: {@code ∂σ̂/∂x_j = C(n) · ([j = argmax] − [j = argmin])}: the gradient flows only
     * to the arg-max and arg-min elements. Where several values tie for the maximum (or minimum),
     * max has no derivative; the gradient goes to the first of them, as PyTorch's {@code max(dim)}
     * does. Needs n ≥ 2.
     */
    RANGE("range") {
        @Override
        public INDArray deviation(INDArray rows, INDArray mean) {
            long n = requireRows(rows, 2);
            return rows.max(0).subi(rows.min(0)).muli(rangeFactor(n));
        }

        @Override
        public void addDeviationGradient(INDArray rows, INDArray mean, INDArray coeff, INDArray target) {
            long n = requireRows(rows, 2);
            double cn = rangeFactor(n);
            long[] argMax = rows.argMax(0).toLongVector();
            long[] argMin = Nd4j.argMin(rows, 0).toLongVector();
            for (int c = 0; c < argMax.length; c++) {
                double g = cn * coeff.getDouble(c);
                target.putScalar(argMax[c], c, target.getDouble(argMax[c], c) + g);
                target.putScalar(argMin[c], c, target.getDouble(argMin[c], c) - g);
            }
        }
    },

    /**
     * L1 batch normalization (L1BN; Wu et al., "L1-norm batch normalization for efficient training
     * of deep neural networks", arXiv:1802.09769):
     * <pre>
     *   σ̂ = sqrt(π/2) · (1/n) Σ_i |x_i − μ|
     * </pre>
     * Derivative (μ depends on x too): {@code ∂σ̂/∂x_j = sqrt(π/2)/n · (sign(x_j − μ) − (1/n) Σ_i
     * sign(x_i − μ))}, with sign(0) = 0.
     */
    L1("l1") {
        @Override
        public INDArray deviation(INDArray rows, INDArray mean) {
            requireRows(rows, 1);
            return Transforms.abs(rows.subRowVector(mean), false).mean(0).muli(L1_FACTOR);
        }

        @Override
        public void addDeviationGradient(INDArray rows, INDArray mean, INDArray coeff, INDArray target) {
            long n = requireRows(rows, 1);
            INDArray sign = Transforms.sign(rows.subRowVector(mean), false);
            INDArray scale = coeff.mul(L1_FACTOR / n);
            INDArray shift = sign.mean(0).muli(scale);
            target.addi(sign.muliRowVector(scale)).subiRowVector(shift);
        }
    };

    /** sqrt(π/2): E|x − μ| = σ · sqrt(2/π) for Gaussian x. */
    public static final double L1_FACTOR = Math.sqrt(Math.PI / 2);

    private final String configName;

    NormKind(String configName) {
        this.configName = configName;
    }

    /**
     * The estimate σ̂ of every column of {@code rows} ({@code [n, C]}), as a vector of length C.
     *
     * @param mean the column means ({@code [C]})
     */
    public abstract INDArray deviation(INDArray rows, INDArray mean);

    /**
     * Adds {@code coeff[c] · ∂σ̂_c / ∂rows[j, c]} to {@code target[j, c]}, in place: the backward pass
     * of {@link #deviation} for an upstream gradient {@code coeff} ({@code [C]}); {@code target} is
     * an {@code [n, C]} c-order matrix.
     */
    public abstract void addDeviationGradient(INDArray rows, INDArray mean, INDArray coeff, INDArray target);

    /** C(n) = 1 / sqrt(2 ln n), the RangeBN factor for n values per channel (n ≥ 2). */
    public static double rangeFactor(long n) {
        if (n < 2) {
            throw new IllegalArgumentException("RangeBN needs at least 2 values per channel to estimate a range, got " + n);
        }
        return 1.0 / Math.sqrt(2.0 * Math.log(n));
    }

    /** Lower-case name used in configuration files: {@code range} or {@code l1}. */
    public String configName() {
        return configName;
    }

    /** Parses {@code range} or {@code l1}; the error names the allowed values. */
    public static NormKind fromConfigName(String name) {
        for (NormKind k : values()) {
            if (k.configName.equals(name)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown normalization kind '" + name + "'; allowed: "
                + Arrays.stream(values()).map(NormKind::configName).collect(Collectors.joining(", ")));
    }

    private static long requireRows(INDArray rows, long min) {
        if (rows.rank() != 2 || rows.size(0) < min) {
            throw new IllegalArgumentException("expected a [n, C] matrix with n >= " + min + ", got shape "
                    + Arrays.toString(rows.shape()));
        }
        return rows.size(0);
    }

}
