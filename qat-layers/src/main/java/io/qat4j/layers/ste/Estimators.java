package io.qat4j.layers.ste;

import io.qat4j.layers.quant.EstimatorKind;
import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.NdOps;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.executioner.OpExecutioner;
import org.nd4j.linalg.api.ops.impl.broadcast.bool.BroadcastGreaterThanOrEqual;
import org.nd4j.linalg.api.ops.impl.broadcast.bool.BroadcastLessThanOrEqual;
import org.nd4j.linalg.api.ops.impl.scalar.comparison.ScalarGreaterThanOrEqual;
import org.nd4j.linalg.api.ops.impl.scalar.comparison.ScalarLessThanOrEqual;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.SubOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.bool.And;
import org.nd4j.linalg.factory.Nd4j;

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

  /** True when the native mask path applies to x and gradOut (both float32, non-empty). */
  static boolean nativeApplies(INDArray x, INDArray gradOut) {
    return NdOps.applies(x) && NdOps.applies(gradOut);
  }

  /**
   * Natively, gradOut * [lo &lt;= x &lt;= hi] with per-group float bounds (axis -1: one group), the
   * product taken in float32 as {@link #scaled} rounds it (gradOut * 1 or * 0, so -0 for negative
   * gradients). Bounds may be infinite; NaN in x gives factor 0 as in the Java loop.
   */
  static INDArray masked(INDArray x, INDArray gradOut, int axis, float[] lo, float[] hi) {
    OpExecutioner ex = Nd4j.getExecutioner();
    long[] shape = x.shape();
    if (axis < 0 && Float.isFinite(lo[0]) && Float.isFinite(hi[0]) && lo[0] <= hi[0]) {
      // For float x and lo <= hi: [lo <= x <= hi] = [x > nextDown(lo)] - [x > hi] (NaN: 0 - 0).
      INDArray out = NdOps.newArray(gradOut.dataType(), shape);
      INDArray mask = NdOps.newArray(DataType.FLOAT, shape);
      ex.exec(new Step(x, out, hi[0]));
      ex.exec(new Step(x, mask, Math.nextDown(lo[0])));
      ex.exec(new SubOp(mask, out, mask));
      ex.exec(new MulOp(gradOut, mask, out));
      return out;
    }
    INDArray ge = NdOps.newArray(DataType.BOOL, shape);
    INDArray le = NdOps.newArray(DataType.BOOL, shape);
    if (axis < 0) {
      ex.exec(new ScalarGreaterThanOrEqual(x, ge, lo[0]));
      ex.exec(new ScalarLessThanOrEqual(x, le, hi[0]));
    } else {
      ex.exec(new BroadcastGreaterThanOrEqual(x, NdOps.floatVector(lo), ge, axis));
      ex.exec(new BroadcastLessThanOrEqual(x, NdOps.floatVector(hi), le, axis));
    }
    ex.exec(new And(ge, le, ge));
    INDArray mask = ge.castTo(DataType.FLOAT);
    INDArray out = NdOps.newArray(gradOut.dataType(), shape);
    ex.exec(new MulOp(gradOut, mask, out));
    return out;
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
