package io.qat4j.layers.train;

import io.qat4j.layers.quant.QuantResult;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The maths of one {@link GradientSpec}: turns a finite tensor of the backward half of a training step
 * (an error, a weight gradient, a weight update, optimizer state) into its quantized version.
 * {@link #of(GradientSpec, int)} builds the implementation; each class documents its formula and paper.
 *
 * <p>Example spec string: {@code shift(bits=8)}.
 */
public abstract class GradientQuantizer {
    protected final GradientSpec spec;

    GradientQuantizer(GradientSpec spec) {
        this.spec = spec;
    }

    /**
     * The quantizer of a spec, or null for {@code float}.
     *
     * @param channelAxis the tensor's channel axis for {@code axis=channel} quantizer specs (-1 for none)
     */
    public static GradientQuantizer of(GradientSpec spec, int channelAxis) {
        return switch (spec.kind()) {
            case FLOAT -> null;
            case QUANT -> new SpecGradientQuantizer(spec, channelAxis);
            case SHIFT -> new ShiftQuantizer(spec);
            case WAGE -> new WageGradientQuantizer(spec);
            case TERNGRAD -> new TernGradQuantizer(spec);
        };
    }

    public GradientSpec spec() {
        return spec;
    }

    /**
     * Quantizes a finite tensor into a new array of the same shape and data type (x is only read).
     *
     * @param seed seed of stochastic rounding
     * @param lr   the learning rate of the step (read by {@code wage} only)
     */
    public abstract Quantized quantize(INDArray x, long seed, double lr);

    /**
     * A quantized tensor and the representable range it was clipped to: per tensor {@code [lower, upper]}, or per
     * group from {@code result} when that has several groups. Infinite bounds mean nothing saturates.
     */
    public record Quantized(INDArray output, double lower, double upper, QuantResult result) {

        /** True when the input value x at C-order flat index i lay beyond the representable range. */
        public boolean saturated(long i, double x) {
            if (result != null && result.layout().count() > 1) {
                int g = result.layout().groupOf(i);
                return x < result.lowerBound(g) || x > result.upperBound(g);
            }
            return x < lower || x > upper;
        }
    }

    /** The C-order values of x as floats (a copy). */
    static float[] floats(INDArray x) {
        if (x.isEmpty()) {
            return new float[0];
        }
        INDArray c = x.dataType() == DataType.FLOAT && x.ordering() == 'c' && x.isView() ? x.dup('c')
                : x.castTo(DataType.FLOAT).dup('c');
        float[] f = c.data().asFloat();
        return f.length == x.length() ? f : java.util.Arrays.copyOf(f, (int) x.length());
    }

    /** A new array of x's shape and data type holding these C-order values. */
    static INDArray create(float[] values, INDArray like) {
        INDArray out = Nd4j.create(values, like.shape(), 'c');
        return like.dataType() == DataType.FLOAT ? out : out.castTo(like.dataType());
    }

    /** Largest magnitude. */
    static double maxAbs(float[] v) {
        double m = 0;
        for (float f : v) {
            m = Math.max(m, Math.abs(f));
        }
        return m;
    }

    /**
     * WAGE's {@code Shift(x) = 2^round(log2 x)} for x &gt; 0, computed exactly: the exponent of x, plus one when
     * the mantissa is at least sqrt(2).
     */
    public static double shift(double x) {
        if (!(x > 0) || !Double.isFinite(x)) {
            throw new IllegalArgumentException("Shift needs a positive finite value, got " + x);
        }
        int e = Math.getExponent(x);
        double mantissa = x / Math.scalb(1.0, e);
        return Math.scalb(1.0, mantissa >= Math.sqrt(2.0) ? e + 1 : e);
    }
}
