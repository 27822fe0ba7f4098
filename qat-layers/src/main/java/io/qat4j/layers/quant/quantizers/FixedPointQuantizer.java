package io.qat4j.layers.quant.quantizers;

import io.qat4j.layers.quant.GroupLayout;
import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.NdOps;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantKind;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Qm.n fixed point: a power-of-two scale 2^-n and zero point 0, as an FPGA or microcontroller stores it.
 *
 * <p>Forward: q = overflow(round(x * 2^n)), y = q * 2^-n, with codes in [-2^(m+n), 2^(m+n)-1]
 * (signed, total bits 1+m+n; m counts integer bits NOT including the sign bit) or [0, 2^(m+n)-1]
 * (unsigned, m+n bits). {@code rounding=floor} is what a hardware right shift does;
 * {@code overflow=wrap} is what an unchecked register does. Dynamic fixed point
 * ({@code dynamic=true}): per group, m = the smallest integer with 2^m &gt;= max|x| (0 for an
 * all-zero group) and n = bits - 1 - m (signed) or bits - m (unsigned), so n may be negative or
 * exceed bits; the range is the observed one when the context gives it.
 *
 * <p>Gradient: the spec's estimator, by default {@code clipped} (1 inside [qmin 2^-n, qmax 2^-n]).
 *
 * <p>Papers: Courbariaux et al., "Training deep neural networks with low precision multiplications"
 * (dynamic fixed point), arXiv:1412.7024; Gupta et al., "Deep Learning with Limited Numerical
 * Precision" (stochastic rounding), arXiv:1502.02551.
 *
 * <p>Example spec strings: {@code fixed(m=3, n=4)}, {@code fixed(bits=8, dynamic=true)}.
 */
public final class FixedPointQuantizer extends BaseQuantizer {

  public FixedPointQuantizer(QuantSpec spec) {
    super(spec, QuantKind.FIXED);
  }

  @Override
  public QuantResult forward(INDArray x, QuantContext ctx) {
    long group = spec.dynamic() ? spec.group() : 0;
    boolean fast = UniformKernel.nativeApplies(x, spec.bits(), spec.rounding(), spec.overflow(), group);
    double[] d = null;
    if (fast) {
      NdOps.requireFinite(x, "input of " + spec);
    } else {
      d = NdArrays.readFinite(x, "input of " + spec);
    }
    GroupLayout layout = spec.dynamic() ? GroupLayout.of(spec, x.shape(), ctx) : GroupLayout.tensor(x.shape());
    float[] scale = new float[layout.count()];
    int[] zp = new int[layout.count()];
    if (spec.dynamic()) {
      double[][] mm = fast ? ranges(ctx, layout, x) : ranges(ctx, layout, d);
      for (int g = 0; g < layout.count(); g++) {
        int n = fracBitsFor(Math.max(Math.abs(mm[0][g]), Math.abs(mm[1][g])), spec.bits(), spec.signed());
        scale[g] = (float) Math.scalb(1.0, -n);
      }
    } else {
      scale[0] = (float) Math.scalb(1.0, -spec.fracBits());
    }
    if (fast) {
      return UniformKernel.runNative(x, layout, scale, zp, spec.qmin(), spec.qmax(), spec.overflow());
    }
    return UniformKernel.run(x, d, layout, scale, zp, spec.bits(), spec.signed(), spec.qmin(), spec.qmax(),
        spec.rounding(), spec.overflow(), ctx.seed());
  }

  /** Dynamic fixed point: fractional bits n for a group whose largest magnitude is maxAbs. */
  public static int fracBitsFor(double maxAbs, int bits, boolean signed) {
    int m = 0;
    if (maxAbs > 0) {
      m = Math.getExponent(maxAbs);
      if (Math.scalb(1.0, m) < maxAbs) {
        m++;
      }
    }
    int n = bits - (signed ? 1 : 0) - m;
    return Math.max(-100, Math.min(100, n));
  }
}
