package io.qat4j.layers.observe.observers;

import io.qat4j.layers.quant.GroupLayout;
import io.qat4j.layers.quant.ObserverSpec;
import java.util.Arrays;

/**
 * EMA of a per-batch percentile: clips rare outliers instead of stretching the range to them.
 *
 * <p>Update: per channel, with {@code abs=true} (default) hi = the p-th percentile of |x| and the
 * batch range is [-hi, hi]; with {@code abs=false} the batch range is [P_(100-p)(x), P_p(x)].
 * Percentiles interpolate linearly between order statistics (numpy's and torch.quantile's default).
 * The first batch sets the range, then min/max follow min + c * (batch_min - min). No gradient.
 * Paper: McKinstry et al., "Discovering Low-Precision Networks Close to Full-Precision Networks
 * for Efficient Embedded Inference", arXiv:1809.04191; Wu et al., arXiv:2004.09602.
 *
 * <p>Example spec string: {@code int(bits=8, observer=percentile(99.99, c=0.01))}.
 */
public final class PercentileObserver extends RangeObserver {

  public PercentileObserver(ObserverSpec spec) {
    super(spec, ObserverSpec.Kind.PERCENTILE);
  }

  @Override
  boolean usesMinMax() {
    return false;
  }

  @Override
  double[][] batchRange(double[] x, GroupLayout layout) {
    double[][] groups = split(x, layout);
    double[] min = new double[groups.length];
    double[] max = new double[groups.length];
    for (int g = 0; g < groups.length; g++) {
      double[] v = groups[g];
      if (spec.abs()) {
        for (int i = 0; i < v.length; i++) {
          v[i] = Math.abs(v[i]);
        }
        Arrays.sort(v);
        max[g] = percentile(v, spec.p());
        min[g] = -max[g];
      } else {
        Arrays.sort(v);
        max[g] = percentile(v, spec.p());
        min[g] = percentile(v, 100 - spec.p());
      }
    }
    return new double[][] {min, max};
  }

  /** Linear-interpolation percentile of sorted values (numpy's default method). */
  public static double percentile(double[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    double pos = p / 100.0 * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, sorted.length - 1);
    double frac = pos - lo;
    return sorted[lo] + frac * (sorted[hi] - sorted[lo]);
  }

  @Override
  double combine(double running, double batch, boolean isMin, boolean single) {
    return ema(running, batch, spec.c(), single);
  }
}
