package io.qat4j.layers.quant;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Moves tensors between ND4J and plain Java arrays in C order, and emulates the tensor's float
 * precision. The quantizers compute element by element in Java so that every float32 operation
 * and its rounding is explicit (bit-exact with PyTorch's CPU kernels); a double product of two
 * floats rounded once to float equals the float32 product, and likewise for +, -, /.
 *
 * <p>Example spec string: any, e.g. {@code int8}.
 */
public final class NdArrays {
  private NdArrays() {
  }

  /** C-order values of x as doubles; throws if any is NaN or infinite. */
  public static double[] readFinite(INDArray x, String what) {
    double[] d = read(x);
    for (int i = 0; i < d.length; i++) {
      if (!Double.isFinite(d[i])) {
        throw new IllegalArgumentException(what + " contains " + d[i] + " at flat index " + i
            + "; quantizers accept finite values only (NaN/infinity usually means training diverged)");
      }
    }
    return d;
  }

  /** C-order values of x as doubles. */
  public static double[] read(INDArray x) {
    if (x == null) {
      throw new IllegalArgumentException("array is null");
    }
    if (x.length() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("array too large: " + x.length());
    }
    if (x.isEmpty()) {
      return new double[0];
    }
    INDArray c = x.dup('c');
    double[] d = c.data().asDouble();
    if (d.length != x.length()) {
      d = java.util.Arrays.copyOf(d, (int) x.length());
    }
    return d;
  }

  /** A new array of this shape and data type holding the C-order values. */
  public static INDArray create(double[] data, long[] shape, DataType type) {
    if (data.length == 0) {
      return Nd4j.create(type, shape);
    }
    return Nd4j.create(data, shape, DataType.DOUBLE).castTo(type);
  }

  /** True when values of this type must be rounded to float32 after each operation. */
  public static boolean isSinglePrecision(DataType type) {
    return type != DataType.DOUBLE;
  }

  /** Rounds to float32 when {@code single}, else returns v. */
  public static double r(double v, boolean single) {
    return single ? (double) (float) v : v;
  }
}
