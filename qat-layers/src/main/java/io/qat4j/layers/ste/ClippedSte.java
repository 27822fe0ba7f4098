package io.qat4j.layers.ste;

import io.qat4j.layers.quant.GroupLayout;
import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.NdOps;
import io.qat4j.layers.quant.QuantResult;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Clipped straight-through estimator: gradient passes only inside the representable range.
 *
 * <p>Gradient: gradIn = gradOut where lower &lt;= x &lt;= upper, 0 elsewhere, with per-group bounds
 * from the forward result: [(qmin - zp) s, (qmax - zp) s] for integer formats, [0, 1] for DoReFa
 * activations, [-max, max] for minifloat. (PyTorch's fake-quant mask instead tests the rounded code,
 * which passes gradient up to half a step beyond the bounds.)
 *
 * <p>Paper: Hubara et al., "Quantized Neural Networks", arXiv:1609.07061; Jacob et al., arXiv:1712.05877.
 *
 * <p>Example spec string: {@code int(bits=4, ste=clipped)}.
 */
public final class ClippedSte implements GradientEstimator {

  @Override
  public INDArray backward(INDArray x, INDArray gradOut, QuantResult forward) {
    Estimators.checkShapes(x, gradOut);
    if (forward == null) {
      throw new IllegalArgumentException("clipped estimator needs the forward result (its bounds)");
    }
    GroupLayout layout = forward.layout();
    if (layout.length() == x.length() && Estimators.nativeApplies(x, gradOut) && layout.group() == 0) {
      int groups = layout.count();
      float[] lo = new float[groups];
      float[] hi = new float[groups];
      for (int grp = 0; grp < groups; grp++) {
        lo[grp] = NdOps.floatAtLeast(forward.lowerBound(grp));
        hi[grp] = NdOps.floatAtMost(forward.upperBound(grp));
      }
      return Estimators.masked(x, gradOut, layout.axis(), lo, hi);
    }
    double[] xs = NdArrays.read(x);
    double[] g = NdArrays.read(gradOut);
    if (layout.length() != xs.length) {
      throw new IllegalArgumentException("forward result is for " + layout.length() + " elements, x has " + xs.length);
    }
    double[] f = new double[xs.length];
    for (int i = 0; i < xs.length; i++) {
      int grp = layout.groupOf(i);
      f[i] = xs[i] >= forward.lowerBound(grp) && xs[i] <= forward.upperBound(grp) ? 1 : 0;
    }
    return Estimators.scaled(gradOut, g, f);
  }
}
