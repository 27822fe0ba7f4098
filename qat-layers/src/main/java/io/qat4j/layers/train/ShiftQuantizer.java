package io.qat4j.layers.train;

import io.qat4j.layers.quant.RoundingMode;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.SplittableRandom;

/**
 * WAGE's error quantizer {@code shift(bits=k)}: scale by the power of two nearest to the maximum,
 * saturate, round to k bits.
 *
 * <p>Forward: {@code s = Shift(max|x|) = 2^round(log2 max|x|)}, {@code S = 2^(k-1)},
 * {@code y = s · clip(round(x/s · S), -(S-1), S-1) / S} (all products by powers of two, so exact in
 * float32). Values above {@code s (1 - 1/S)} saturate, which happens when the maximum lies above
 * {@code s}: round(log2) may pick the power of two below it. An all-zero tensor stays zero. The
 * reference code returns {@code y / s}; multiplying back by {@code s} keeps the error at its own scale
 * and changes no WAGE update (every gradient is normalized by its power-of-two maximum again).
 *
 * <p>Gradient: none (it quantizes a gradient).
 *
 * <p>Paper: Wu et al., "Training and Inference with Integers in Deep Neural Networks" (WAGE),
 * arXiv:1802.04680, eq. (10); reference code {@code boluoweifenda/WAGE source/Quantize.py}, {@code E}.
 *
 * <p>Example spec strings: {@code shift(bits=8)}, {@code shift(bits=8, rounding=stochastic)}.
 */
final class ShiftQuantizer extends GradientQuantizer {

    ShiftQuantizer(GradientSpec spec) {
        super(spec);
    }

    @Override
    public Quantized quantize(INDArray x, long seed, double lr) {
        float[] v = floats(x);
        double max = maxAbs(v);
        double big = Math.scalb(1.0, spec.bits() - 1);
        double lim = big - 1;
        if (max == 0) {
            return new Quantized(create(new float[v.length], x), 0, 0, null);
        }
        double s = shift(max);
        SplittableRandom rng = spec.rounding() == RoundingMode.STOCHASTIC ? new SplittableRandom(seed) : null;
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            double q = spec.rounding().round((float) ((float) (v[i] / s) * big), rng);
            q = Math.max(-lim, Math.min(lim, q));
            out[i] = (float) (q * s / big);
        }
        double bound = lim * s / big;
        return new Quantized(create(out, x), -bound, bound, null);
    }
}
