package io.qat4j.layers.quant.quantizers;

import io.qat4j.layers.quant.GroupLayout;
import io.qat4j.layers.quant.LearnedQuantizer;
import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantKind;
import io.qat4j.layers.quant.QuantSpec;
import java.util.Arrays;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Shared plumbing of the learned quantizers: spec check, layouts, reading and writing parameters. */
abstract class BaseLearnedQuantizer implements LearnedQuantizer {
  protected final QuantSpec spec;

  BaseLearnedQuantizer(QuantSpec spec, QuantKind expected) {
    if (spec == null || spec.kind() != expected) {
      throw new IllegalArgumentException(getClass().getSimpleName() + " needs a '" + expected.specName()
          + "' spec, got " + spec);
    }
    this.spec = spec;
  }

  @Override
  public QuantSpec spec() {
    return spec;
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + spec + "]";
  }

  /** Throws unless the role is one this quantizer supports. */
  void requireRole(Role role, Role... allowed) {
    for (Role r : allowed) {
      if (r == role) {
        return;
      }
    }
    throw new IllegalArgumentException(spec + " does not apply to " + role.name().toLowerCase() + "; allowed: "
        + Arrays.toString(allowed).toLowerCase());
  }

  /** Number of parameter values per name for a site with this many channels: 1, or one per channel. */
  long groups(long channels) {
    if (spec.axis() == QuantSpec.AXIS_TENSOR) {
      return 1;
    }
    if (channels < 1) {
      throw new IllegalArgumentException(spec + " is per channel but the site has " + channels + " channels");
    }
    return channels;
  }

  /** Per-tensor or per-channel (the context's channel axis) partition of x. */
  GroupLayout layout(INDArray x, QuantContext ctx) {
    int a = GroupLayout.resolveAxis(spec.axis(), ctx, x.rank());
    return a < 0 ? GroupLayout.tensor(x.shape()) : GroupLayout.perAxis(x.shape(), a);
  }

  /** The values of one parameter, checked against the layout's group count. */
  double[] values(Map<String, INDArray> params, String name, int groups) {
    INDArray p = params == null ? null : params.get(name);
    if (p == null) {
      throw new IllegalArgumentException(spec + " needs its learned parameter '" + name + "'; got "
          + (params == null ? "no parameters" : params.keySet()));
    }
    if (p.length() != groups) {
      throw new IllegalArgumentException(spec + ": parameter '" + name + "' has " + p.length()
          + " values but the tensor has " + groups + " group(s)");
    }
    return NdArrays.readFinite(p, "parameter '" + name + "' of " + spec);
  }

  /** Assigns v to the array {@code name} of {@code arrays} (a parameter or a gradient). */
  static void assign(Map<String, INDArray> arrays, String name, double[] v) {
    INDArray a = arrays == null ? null : arrays.get(name);
    if (a == null) {
      throw new IllegalArgumentException("no array for '" + name + "'; got " + (arrays == null ? "none" : arrays.keySet()));
    }
    if (a.length() != v.length) {
      throw new IllegalArgumentException("array '" + name + "' has " + a.length() + " values, expected " + v.length);
    }
    a.assign(NdArrays.create(v, a.shape(), a.dataType()));
  }

  /** Round half to even, as {@code Math.rint}. */
  static double rint(double v) {
    return Math.rint(v);
  }
}
