package io.qat4j.layers.train;

import io.qat4j.layers.quant.Granularity;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.Quantizer;
import io.qat4j.layers.quant.Quantizers;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A forward-style quantizer spec applied to a backward tensor: {@code y = Q(x)}, fake-quantized at the
 * tensor's own scale (int: per-tensor or per-channel range of the tensor itself; fixed: Qm.n or dynamic;
 * minifloat: the format's values). Stochastic rounding is seeded per call.
 *
 * <p>Papers: Gupta et al., "Deep Learning with Limited Numerical Precision" (stochastic rounding of
 * fixed-point gradients), arXiv:1502.02551; Banner et al., "Scalable Methods for 8-bit Training of
 * Neural Networks" (per-tensor 8-bit errors and gradients), arXiv:1805.11046.
 *
 * <p>Example spec strings: {@code int(bits=8, rounding=stochastic)}, {@code fp8_e5m2}.
 */
final class SpecGradientQuantizer extends GradientQuantizer {
    private final Quantizer quantizer;
    private final int channelAxis;

    SpecGradientQuantizer(GradientSpec spec, int channelAxis) {
        super(spec);
        this.quantizer = Quantizers.of(spec.quant());
        this.channelAxis = channelAxis;
    }

    @Override
    public Quantized quantize(INDArray x, long seed, double lr) {
        int axis = spec.quant().granularity() == Granularity.TENSOR ? -1 : channelAxis;
        if (axis < 0 && spec.quant().granularity() != Granularity.TENSOR) {
            throw new IllegalArgumentException("'" + spec + "' is per channel, but this tensor has no channel axis; use a"
                    + " per-tensor spec");
        }
        QuantResult r = quantizer.forward(x, new QuantContext(axis, null, null, seed, true));
        double lo = Double.NEGATIVE_INFINITY;
        double hi = Double.POSITIVE_INFINITY;
        if (r.layout().count() == 1) {
            lo = r.lowerBound(0);
            hi = r.upperBound(0);
        }
        return new Quantized(r.output(), lo, hi, r);
    }
}
