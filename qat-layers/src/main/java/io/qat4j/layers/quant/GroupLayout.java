package io.qat4j.layers.quant;

import java.util.Arrays;

/**
 * Which scale each element of a tensor uses: the partition of the C-order elements into groups.
 *
 * <p>Per tensor: one group. Per axis a: group = index along a. Grouped with axis a and size G: each
 * slice along a (the elements with one index on a, read in C order) is cut into runs of G
 * consecutive elements (the last run may be shorter); group = index * groupsPerSlice + run. Grouped
 * without an axis: runs of G consecutive elements of the whole C-order tensor. For dense weights
 * {@code [nIn, nOut]} with axis 1 the runs go along nIn inside each output column; for conv weights
 * {@code [nOut, nIn, kH, kW]} with axis 0 they go along the flattened (nIn, kH, kW) of each output
 * channel.
 *
 * <p>Example spec string: {@code int(bits=4, group=32)} (axis defaults to the layer's channel axis).
 */
public final class GroupLayout {
  private final long[] shape;
  private final int axis;
  private final long group;
  private final long length;
  private final long stride;
  private final long dim;
  private final long groupsPerSlice;
  private final int count;

  private GroupLayout(long[] shape, int axis, long group) {
    this.shape = shape.clone();
    this.axis = axis;
    this.group = group;
    long n = 1;
    for (long s : shape) {
      n *= s;
    }
    this.length = n;
    if (axis >= 0) {
      if (axis >= shape.length) {
        throw new IllegalArgumentException("axis " + axis + " out of range for shape " + Arrays.toString(shape)
            + "; allowed: 0.." + (shape.length - 1));
      }
      long st = 1;
      for (int i = axis + 1; i < shape.length; i++) {
        st *= shape[i];
      }
      stride = st;
      dim = shape[axis];
    } else {
      stride = n;
      dim = 1;
    }
    long slice = dim == 0 ? 0 : n / dim;
    groupsPerSlice = group > 0 ? (slice + group - 1) / group : 1;
    long c = dim * groupsPerSlice;
    if (c > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("too many groups: " + c);
    }
    count = (int) Math.max(c, 1);
  }

  /** One group for the whole tensor. */
  public static GroupLayout tensor(long[] shape) {
    return new GroupLayout(shape, -1, 0);
  }

  /** One group per index along {@code axis}. */
  public static GroupLayout perAxis(long[] shape, int axis) {
    if (axis < 0) {
      throw new IllegalArgumentException("axis must be >= 0, got " + axis);
    }
    return new GroupLayout(shape, axis, 0);
  }

  /** Runs of {@code group} consecutive elements within each slice along {@code axis} (-1: whole tensor). */
  public static GroupLayout grouped(long[] shape, int axis, long group) {
    if (group < 1) {
      throw new IllegalArgumentException("group must be >= 1, got " + group);
    }
    return new GroupLayout(shape, axis, group);
  }

  /** The layout a spec asks for on a tensor of this shape in this context. */
  public static GroupLayout of(QuantSpec spec, long[] shape, QuantContext ctx) {
    int a = resolveAxis(spec.axis(), ctx, shape.length);
    if (spec.group() > 0) {
      return grouped(shape, a, spec.group());
    }
    return a < 0 ? tensor(shape) : perAxis(shape, a);
  }

  /** Resolves {@link QuantSpec#AXIS_TENSOR} to -1 and {@link QuantSpec#AXIS_CHANNEL} to the context's axis. */
  public static int resolveAxis(int specAxis, QuantContext ctx, int rank) {
    int a = specAxis;
    if (specAxis == QuantSpec.AXIS_TENSOR) {
      return -1;
    }
    if (specAxis == QuantSpec.AXIS_CHANNEL) {
      a = ctx.channelAxis();
      if (a < 0) {
        throw new IllegalArgumentException("spec asks for axis=channel but the QuantContext has no channel axis"
            + " (channelAxis=" + a + "); the layer must supply it, e.g. 1 for dense weights [nIn,nOut]");
      }
    }
    if (a >= rank) {
      throw new IllegalArgumentException("axis " + a + " out of range for a rank-" + rank + " tensor; allowed: 0.."
          + (rank - 1));
    }
    return a;
  }

  /** Number of groups (scales). */
  public int count() {
    return count;
  }

  /** Group of the element at this C-order flat index. */
  public int groupOf(long i) {
    if (group == 0) {
      return axis < 0 ? 0 : (int) ((i / stride) % dim);
    }
    if (axis < 0) {
      return (int) (i / group);
    }
    long c = (i / stride) % dim;
    long p = (i / (stride * dim)) * stride + i % stride;
    return (int) (c * groupsPerSlice + p / group);
  }

  /** Shape of per-group parameter arrays: [1], [dim] or [dim, groupsPerSlice] ([groups] without axis). */
  public long[] paramShape() {
    if (group == 0) {
      return axis < 0 ? new long[] {1} : new long[] {dim};
    }
    return axis < 0 ? new long[] {groupsPerSlice} : new long[] {dim, groupsPerSlice};
  }

  /** Resolved axis, -1 for none. */
  public int axis() {
    return axis;
  }

  /** Group size, 0 when not grouped. */
  public long group() {
    return group;
  }

  /** Shape of the tensor. */
  public long[] shape() {
    return shape.clone();
  }

  /** Number of elements of the tensor. */
  public long length() {
    return length;
  }

  /** Per-group minimum and maximum of C-order data; groups without elements get 0. */
  public double[][] minMax(double[] data) {
    double[] min = new double[count];
    double[] max = new double[count];
    Arrays.fill(min, Double.POSITIVE_INFINITY);
    Arrays.fill(max, Double.NEGATIVE_INFINITY);
    for (int i = 0; i < data.length; i++) {
      int g = groupOf(i);
      if (data[i] < min[g]) {
        min[g] = data[i];
      }
      if (data[i] > max[g]) {
        max[g] = data[i];
      }
    }
    for (int g = 0; g < count; g++) {
      if (min[g] > max[g]) {
        min[g] = 0;
        max[g] = 0;
      }
    }
    return new double[][] {min, max};
  }
}
