package io.qat4j.layers.ste;

import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.QuantResult;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Gradient through DoReFa's weight normalization, with quantize_k treated as identity.
 *
 * <p>With t = tanh(w) and M = max_j |t_j|, the forward without rounding is w_k = t / M, so
 * dL/dw_i = g_i (1 - t_i^2) / M - [i attains M] / c * sign(t_i) (1 - t_i^2) / M^2 * sum_j g_j t_j,
 * where c is the number of elements attaining the max (the max's gradient is shared among ties, as
 * TensorFlow's reduce_max does). For an all-zero tensor (M = 0) the gradient is passed unchanged.
 * Computed in double, returned in gradOut's data type.
 *
 * <p>Paper: Zhou et al., "DoReFa-Net", arXiv:1606.06160.
 *
 * <p>Example spec string: {@code dorefa_w(bits=2)} (its default estimator).
 */
public final class DorefaWeightEstimator implements GradientEstimator {

  @Override
  public INDArray backward(INDArray x, INDArray gradOut, QuantResult forward) {
    Estimators.checkShapes(x, gradOut);
    double[] w = NdArrays.read(x);
    double[] g = NdArrays.read(gradOut);
    double[] t = new double[w.length];
    double m = 0;
    for (int i = 0; i < w.length; i++) {
      t[i] = Math.tanh(w[i]);
      m = Math.max(m, Math.abs(t[i]));
    }
    if (m == 0) {
      return gradOut.dup();
    }
    int ties = 0;
    double dot = 0;
    for (int i = 0; i < w.length; i++) {
      if (Math.abs(t[i]) == m) {
        ties++;
      }
      dot += g[i] * t[i];
    }
    double[] out = new double[w.length];
    for (int i = 0; i < w.length; i++) {
      double dt = 1 - t[i] * t[i];
      out[i] = g[i] * dt / m;
      if (Math.abs(t[i]) == m) {
        out[i] -= Math.signum(t[i]) * dt / (m * m) * dot / ties;
      }
    }
    return NdArrays.create(out, gradOut.shape(), gradOut.dataType());
  }
}
