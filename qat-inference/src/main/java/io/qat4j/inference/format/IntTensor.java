package io.qat4j.inference.format;

import java.util.Arrays;
import java.util.List;

/** An integer tensor in C (row-major) order: a shape and one int per element. */
public final class IntTensor {
  private final int[] shape;
  private final int[] data;

  /** Wraps (does not copy) the arrays; the data length must equal the product of the shape. */
  public IntTensor(int[] shape, int[] data) {
    long n = 1;
    for (int d : shape) {
      if (d < 1) {
        throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " not allowed; allowed: dims >= 1");
      }
      n *= d;
    }
    if (n != data.length) {
      throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has " + n + " elements but data has "
          + data.length);
    }
    this.shape = shape;
    this.data = data;
  }

  /** A tensor of the given shape (list form). */
  public static IntTensor of(List<Integer> shape, int... data) {
    return new IntTensor(shape.stream().mapToInt(Integer::intValue).toArray(), data);
  }

  /** The shape (not a copy). */
  public int[] shape() {
    return shape;
  }

  /** The shape as a list. */
  public List<Integer> shapeList() {
    return Arrays.stream(shape).boxed().toList();
  }

  /** The elements in C order (not a copy). */
  public int[] data() {
    return data;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof IntTensor t && Arrays.equals(shape, t.shape) && Arrays.equals(data, t.data);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "IntTensor" + Arrays.toString(shape) + (data.length <= 16 ? Arrays.toString(data) : "");
  }
}
