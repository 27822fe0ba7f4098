package io.qat4j.layers.quant;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Native (ND4J) versions of the element loops of {@link NdArrays}, for float32 arrays, producing
 * the same bits as the Java loops: they only use operations whose float32 result is exactly the
 * one the Java code rounds to float (single multiplications, additions of integers, round half to
 * even, comparisons, min/max selections).
 *
 * <p>The vectorized paths can be switched off (system property {@code qat4j.vectorized=false}, or
 * {@link #setVectorized}) to run the element-by-element Java reference code, which tests use to
 * check that both agree bit for bit.
 *
 * <p>Example spec string: {@code int(bits=4, signed=false, observer=ema)} (per-tensor, vectorized).
 */
public final class NdOps {
  private static volatile boolean vectorized = !"false".equalsIgnoreCase(System.getProperty("qat4j.vectorized"));

  private NdOps() {
  }

  /** Whether the native paths are used (default true). */
  public static boolean vectorized() {
    return vectorized;
  }

  /** Switches the native paths on or off (off: the Java reference loops everywhere). */
  public static void setVectorized(boolean on) {
    vectorized = on;
  }

  /** True when x may take a native path: switched on, FLOAT, non-empty, at most 2^31-1 elements. */
  public static boolean applies(INDArray x) {
    return vectorized && x != null && x.dataType() == DataType.FLOAT && !x.isEmpty() && x.length() > 0
        && x.length() <= Integer.MAX_VALUE;
  }

  /** Throws exactly as {@link NdArrays#readFinite} does when x holds NaN or infinity. */
  public static void requireFinite(INDArray x, String what) {
    // NaN and infinities propagate through a sum, so a finite sum proves every element finite; a
    // non-finite one (or an overflow of large finite values) gets the element-by-element check.
    if (!Double.isFinite(x.sumNumber().doubleValue())) {
      NdArrays.readFinite(x, what);
    }
  }

  /** The dimensions of a rank-{@code rank} array other than {@code axis}. */
  public static int[] otherDims(int rank, int axis) {
    int[] dims = new int[rank - 1];
    for (int i = 0, j = 0; i < rank; i++) {
      if (i != axis) {
        dims[j++] = i;
      }
    }
    return dims;
  }

  /**
   * Per-group minimum and maximum for a per-tensor (axis -1) or per-axis layout, the values
   * {@link GroupLayout#minMax} gives; with {@code exactZeroSign} also the same sign of a zero result
   * (the sign of the group's first zero in C order, as the Java loop keeps the first of equal values).
   * x must be finite and {@link #applies} must hold.
   */
  public static double[][] minMax(INDArray x, int axis, boolean exactZeroSign) {
    double[] min;
    double[] max;
    if (axis < 0) {
      min = new double[] {x.minNumber().doubleValue()};
      max = new double[] {x.maxNumber().doubleValue()};
    } else {
      int[] dims = otherDims(x.rank(), axis);
      int channels = (int) x.size(axis);
      if (dims.length == 0) {
        min = x.dup('c').data().asDouble();
        max = min.clone();
      } else {
        min = x.min(dims).reshape(channels).toDoubleVector();
        max = x.max(dims).reshape(channels).toDoubleVector();
      }
    }
    if (exactZeroSign && (hasZero(min) || hasZero(max))) {
      fixZeroSigns(x, axis, min, max);
    }
    return new double[][] {min, max};
  }

  private static boolean hasZero(double[] v) {
    for (double d : v) {
      if (d == 0) {
        return true;
      }
    }
    return false;
  }

  /**
   * Replaces each zero min or max by the group's first zero in C order (the Java loop keeps the
   * first of equal values, so its sign is that one's).
   */
  private static void fixZeroSigns(INDArray x, int axis, double[] min, double[] max) {
    INDArray c = !x.isView() && x.ordering() == 'c' && x.offset() == 0 ? x : x.dup('c');
    FloatBuffer b = c.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
    int n = (int) c.length();
    long stride = n;
    long dim = 1;
    if (axis >= 0) {
      stride = 1;
      for (int i = axis + 1; i < c.rank(); i++) {
        stride *= c.size(i);
      }
      dim = c.size(axis);
    }
    boolean[] need = new boolean[min.length];
    int remaining = 0;
    for (int g = 0; g < min.length; g++) {
      need[g] = min[g] == 0 || max[g] == 0;
      remaining += need[g] ? 1 : 0;
    }
    for (int i = 0; i < n && remaining > 0; i++) {
      float v = b.get(i);
      if (v == 0) {
        int g = (int) ((i / stride) % dim);
        if (need[g]) {
          need[g] = false;
          remaining--;
          min[g] = min[g] == 0 ? v : min[g];
          max[g] = max[g] == 0 ? v : max[g];
        }
      }
    }
  }

  /** The smallest float f with f &gt;= v (so that, for float x, x &gt;= v exactly when x &gt;= f). */
  public static float floatAtLeast(double v) {
    float f = (float) v;
    if (f < v) {
      f = Math.nextUp(f);
    }
    return f;
  }

  /** The largest float f with f &lt;= v (so that, for float x, x &lt;= v exactly when x &lt;= f). */
  public static float floatAtMost(double v) {
    float f = (float) v;
    if (f > v) {
      f = Math.nextDown(f);
    }
    return f;
  }

  /** A C-order float vector of these values. */
  public static INDArray floatVector(float[] v) {
    return Nd4j.create(v, new long[] {v.length}, 'c');
  }

  /** A new, uninitialized C-order array of this shape and type. */
  public static INDArray newArray(DataType type, long[] shape) {
    return Nd4j.createUninitialized(type, shape, 'c');
  }
}
