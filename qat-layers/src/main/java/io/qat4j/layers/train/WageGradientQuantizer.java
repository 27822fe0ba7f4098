package io.qat4j.layers.train;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.SplittableRandom;

/**
 * WAGE's gradient operator {@code wage(bits=k, r=16)}: the weight update of one SGD step, with the
 * learning rate folded in and stochastic rounding to k bits.
 *
 * <p>Forward: {@code x' = η · x / Shift(max|x|)} (η the learning rate, Shift as in
 * {@link GradientQuantizer#shift(double)}); {@code x'' = round(x' · 2^(r-1)) / 2^(r-1)} (the random
 * numbers have r bits); {@code n = sign(x'') (floor|x''| + [frac|x''| > u])}, u uniform in [0, 1);
 * {@code y = n / 2^(k-1)}. y is the update ΔW itself, a multiple of 2^-(k-1): with a power-of-two η
 * every step is exact in float32. {@link GradientQuantization} divides y by η so that DL4J's
 * {@code Sgd(η)} multiplies it back exactly. E[n] = x'' (stochastic rounding is unbiased).
 *
 * <p>Paper: Wu et al., "Training and Inference with Integers in Deep Neural Networks" (WAGE),
 * arXiv:1802.04680, eq. (11)-(12); reference code {@code boluoweifenda/WAGE source/Quantize.py}, {@code G}.
 *
 * <p>Example spec strings: {@code wage(bits=8)}, {@code wage(bits=8, r=12)}.
 */
final class WageGradientQuantizer extends GradientQuantizer {

    WageGradientQuantizer(GradientSpec spec) {
        super(spec);
    }

    @Override
    public Quantized quantize(INDArray x, long seed, double lr) {
        if (!(lr > 0) || !Double.isFinite(lr)) {
            throw new IllegalArgumentException("wage gradients need a positive learning rate, got " + lr);
        }
        float[] v = floats(x);
        double max = maxAbs(v);
        float[] out = new float[v.length];
        if (max == 0) {
            return new Quantized(create(out, x), Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, null);
        }
        float s = (float) shift(max);
        float eta = (float) lr;
        double r = Math.scalb(1.0, spec.randomBits() - 1);
        double g = Math.scalb(1.0, spec.bits() - 1);
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = 0; i < v.length; i++) {
            float scaled = eta * (v[i] / s);
            float rounded = (float) (Math.rint(scaled * r) / r);
            double a = Math.abs(rounded);
            double whole = Math.floor(a);
            double n = whole + ((a - whole) > rng.nextDouble() ? 1 : 0);
            out[i] = (float) (Math.copySign(n, rounded) / g);
        }
        return new Quantized(create(out, x), Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, null);
    }
}
