package io.qat4j.layers.quant.quantizers;

import io.qat4j.layers.quant.GroupLayout;
import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.NdOps;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantKind;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizer;
import io.qat4j.layers.ste.Estimators;
import io.qat4j.layers.ste.GradientEstimator;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Shared plumbing: spec check, estimator lookup, observed-range reading. */
abstract class BaseQuantizer implements Quantizer {
  protected final QuantSpec spec;
  private final GradientEstimator estimator;

  BaseQuantizer(QuantSpec spec, QuantKind expected) {
    if (spec == null || spec.kind() != expected) {
      throw new IllegalArgumentException(getClass().getSimpleName() + " needs a '" + expected.specName()
          + "' spec, got " + spec);
    }
    this.spec = spec;
    this.estimator = Estimators.of(spec.ste());
  }

  @Override
  public QuantSpec spec() {
    return spec;
  }

  @Override
  public INDArray backward(INDArray x, INDArray gradOut, QuantResult forward) {
    return estimator.backward(x, gradOut, forward);
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + spec + "]";
  }

  /** Per-group [min, max]: the context's observed range when given, else the tensor's own. */
  static double[][] ranges(QuantContext ctx, GroupLayout layout, double[] x) {
    if (ctx.hasRange()) {
      if (ctx.rangeMin().length() != layout.count()) {
        throw new IllegalArgumentException("observed range has " + ctx.rangeMin().length() + " values but the spec"
            + " needs one per group: " + layout.count());
      }
      double[] min = NdArrays.readFinite(ctx.rangeMin(), "rangeMin");
      double[] max = NdArrays.readFinite(ctx.rangeMax(), "rangeMax");
      return new double[][] {min, max};
    }
    return layout.minMax(x);
  }

  /**
   * {@link #ranges(QuantContext, GroupLayout, double[])} read natively from a finite float array with
   * a per-tensor or per-axis layout (sign of zero aside, which {@link io.qat4j.layers.quant.QParams}
   * ignores: the same scale and zero point).
   */
  static double[][] ranges(QuantContext ctx, GroupLayout layout, INDArray x) {
    if (ctx.hasRange()) {
      return ranges(ctx, layout, (double[]) null);
    }
    return NdOps.minMax(x, layout.axis(), false);
  }
}
