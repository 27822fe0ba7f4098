package io.qat4j.layers.train;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.SplittableRandom;

/**
 * TernGrad {@code terngrad(clip=2.5)}: a stochastic ternary gradient with one scale per tensor (per
 * layer parameter).
 *
 * <p>Forward: with σ the standard deviation of x and c the clip factor, {@code x_c = clip(x, -cσ, cσ)}
 * (no clipping when c = 0); {@code s = max|x_c|}; {@code y_i = s · sign(x_c,i) · b_i} with
 * {@code b_i ~ Bernoulli(|x_c,i| / s)}. Unbiased: E[y] = x_c. Values beyond cσ count as saturated.
 *
 * <p>Paper: Wen et al., "TernGrad: Ternary Gradients to Reduce Communication in Distributed Deep
 * Learning", arXiv:1705.07878 (eq. 4-5, scaler per layer, gradient clipping at 2.5σ, section 3.3).
 *
 * <p>Example spec strings: {@code terngrad}, {@code terngrad(clip=0)}.
 */
final class TernGradQuantizer extends GradientQuantizer {

    TernGradQuantizer(GradientSpec spec) {
        super(spec);
    }

    @Override
    public Quantized quantize(INDArray x, long seed, double lr) {
        float[] v = floats(x);
        double bound = Double.POSITIVE_INFINITY;
        if (spec.clip() > 0 && v.length > 0) {
            double mean = 0;
            for (float f : v) {
                mean += f;
            }
            mean /= v.length;
            double var = 0;
            for (float f : v) {
                var += (f - mean) * (f - mean);
            }
            bound = spec.clip() * Math.sqrt(var / v.length);
        }
        float[] c = new float[v.length];
        double s = 0;
        for (int i = 0; i < v.length; i++) {
            c[i] = (float) Math.max(-bound, Math.min(bound, v[i]));
            s = Math.max(s, Math.abs(c[i]));
        }
        float[] out = new float[v.length];
        if (s > 0) {
            float sf = (float) s;
            SplittableRandom rng = new SplittableRandom(seed);
            for (int i = 0; i < v.length; i++) {
                if (c[i] != 0 && rng.nextDouble() < Math.abs(c[i]) / s) {
                    out[i] = Math.copySign(sf, c[i]);
                }
            }
        }
        return new Quantized(create(out, x), -bound, bound, null);
    }
}
