package io.qat4j.layers.ste;

import io.qat4j.layers.quant.EstimatorKind;
import io.qat4j.layers.quant.NdArrays;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The one switch from an estimator name to the estimator, plus shared element-wise plumbing.
 *
 * <p>Example spec string: {@code int(bits=8, ste=identity)}.
 */
public final class Estimators {
  private Estimators() {
  }

  /** The estimator for a name. */
  public static GradientEstimator of(EstimatorKind kind) {
    return switch (kind) {
      case IDENTITY -> new IdentitySte();
      case CLIPPED -> new ClippedSte();
      case APPROX_SIGN -> new ApproxSignEstimator();
      case HARDTANH -> new HardTanhSte();
      case DOREFA_W -> new DorefaWeightEstimator();
    };
  }

  static void checkShapes(INDArray x, INDArray gradOut) {
    if (x == null || gradOut == null) {
      throw new IllegalArgumentException("x and gradOut must not be null");
    }
    if (!Arrays.equals(x.shape(), gradOut.shape())) {
      throw new IllegalArgumentException("gradOut shape " + Arrays.toString(gradOut.shape()) + " differs from x shape "
          + Arrays.toString(x.shape()));
    }
  }

  /** gradOut times a per-element factor, in gradOut's data type. */
  static INDArray scaled(INDArray gradOut, double[] g, double[] factor) {
    double[] out = new double[g.length];
    for (int i = 0; i < g.length; i++) {
      out[i] = g[i] * factor[i];
    }
    return NdArrays.create(out, gradOut.shape(), gradOut.dataType());
  }
}
