package io.qat4j.layers.quant.quantizers;

import io.qat4j.layers.quant.GroupLayout;
import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.NdOps;
import io.qat4j.layers.quant.QParams;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantKind;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Uniform integer quantization with a scale and zero point, per tensor, per channel or per group.
 *
 * <p>Forward (PyTorch's {@code fake_quantize_per_tensor_affine} / {@code _per_channel_affine}, same
 * float32 operation order, bit-identical for round-half-even): inv = 1f / s;
 * q = clamp(round(x * inv) + zp, qmin, qmax); y = (q - zp) * s. Codes: signed
 * [-2^(b-1), 2^(b-1)-1] (narrow: from -(2^(b-1)-1)), unsigned [0, 2^b-1]; overflow may instead clamp
 * to [-qmax, qmax] or wrap modulo 2^b. Scale and zero point come from the per-group range (observed,
 * or the tensor's own min/max) through {@link QParams#fromRange}.
 *
 * <p>Gradient: the spec's estimator, by default {@code clipped} (1 inside
 * [(qmin - zp) s, (qmax - zp) s], 0 outside).
 *
 * <p>Paper: Jacob et al., "Quantization and Training of Neural Networks for Efficient
 * Integer-Arithmetic-Only Inference", arXiv:1712.05877.
 *
 * <p>Example spec string: {@code int(bits=4, axis=channel, narrow=true)}.
 */
public final class UniformQuantizer extends BaseQuantizer {

  public UniformQuantizer(QuantSpec spec) {
    super(spec, QuantKind.INT);
  }

  @Override
  public QuantResult forward(INDArray x, QuantContext ctx) {
    boolean fast = UniformKernel.nativeApplies(x, spec.bits(), spec.rounding(), spec.overflow(), spec.group());
    double[] d = null;
    if (fast) {
      NdOps.requireFinite(x, "input of " + spec);
    } else {
      d = NdArrays.readFinite(x, "input of " + spec);
    }
    GroupLayout layout = GroupLayout.of(spec, x.shape(), ctx);
    double[][] mm = fast ? ranges(ctx, layout, x) : ranges(ctx, layout, d);
    int qmin = spec.qmin();
    int qmax = spec.qmax();
    float[] scale = new float[layout.count()];
    int[] zp = new int[layout.count()];
    for (int g = 0; g < layout.count(); g++) {
      QParams p = QParams.fromRange((float) mm[0][g], (float) mm[1][g], qmin, qmax, spec.symmetric(),
          spec.signed());
      scale[g] = p.scale();
      zp[g] = p.zeroPoint();
    }
    if (fast) {
      return UniformKernel.runNative(x, layout, scale, zp, qmin, qmax, spec.overflow());
    }
    return UniformKernel.run(x, d, layout, scale, zp, spec.bits(), spec.signed(), qmin, qmax, spec.rounding(),
        spec.overflow(), ctx.seed());
  }

  /**
   * Fake-quantizes with given per-group scales and zero points (no range derivation), e.g. to
   * reproduce {@code torch.fake_quantize_per_channel_affine(x, scale, zp, axis, qmin, qmax)}.
   */
  public QuantResult forward(INDArray x, GroupLayout layout, float[] scale, int[] zeroPoint, long seed) {
    if (scale.length != layout.count() || zeroPoint.length != layout.count()) {
      throw new IllegalArgumentException("need " + layout.count() + " scales and zero points, got " + scale.length
          + " and " + zeroPoint.length);
    }
    for (float s : scale) {
      if (!(s > 0) || !Float.isFinite(s)) {
        throw new IllegalArgumentException("scale must be positive and finite, got " + s);
      }
    }
    if (UniformKernel.nativeApplies(x, spec.bits(), spec.rounding(), spec.overflow(), layout.group())) {
      NdOps.requireFinite(x, "input of " + spec);
      return UniformKernel.runNative(x, layout, scale, zeroPoint, spec.qmin(), spec.qmax(), spec.overflow());
    }
    double[] d = NdArrays.readFinite(x, "input of " + spec);
    return UniformKernel.run(x, d, layout, scale, zeroPoint, spec.bits(), spec.signed(), spec.qmin(), spec.qmax(),
        spec.rounding(), spec.overflow(), seed);
  }
}
