package io.qat4j.layers.observe.observers;

import io.qat4j.layers.observe.Observer;
import io.qat4j.layers.quant.GroupLayout;
import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.NdOps;
import io.qat4j.layers.quant.ObserverSpec;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/** State layout and bookkeeping shared by the observers: [updates, min[C], max[C]]. */
abstract class RangeObserver implements Observer {
  protected final ObserverSpec spec;

  RangeObserver(ObserverSpec spec, ObserverSpec.Kind expected) {
    if (spec == null || spec.kind() != expected) {
      throw new IllegalArgumentException(getClass().getSimpleName() + " needs a '" + expected.specName()
          + "' observer spec, got " + spec);
    }
    this.spec = spec;
  }

  @Override
  public ObserverSpec spec() {
    return spec;
  }

  @Override
  public int stateSize(int channels) {
    if (channels < 1) {
      throw new IllegalArgumentException("channels must be >= 1, got " + channels);
    }
    return 1 + 2 * channels;
  }

  @Override
  public void update(INDArray state, INDArray x, int axis) {
    if (state == null || x == null) {
      throw new IllegalArgumentException("state and x must not be null");
    }
    if (axis < -1 || axis >= x.rank()) {
      throw new IllegalArgumentException("axis " + axis + " out of range for a rank-" + x.rank()
          + " tensor; allowed: -1 (per tensor) or 0.." + (x.rank() - 1));
    }
    int channels = axis < 0 ? 1 : (int) x.size(axis);
    if (state.length() != stateSize(channels)) {
      throw new IllegalArgumentException("observer state has " + state.length() + " values but " + channels
          + " channel(s) need " + stateSize(channels));
    }
    long n = updates(state);
    if (spec.freeze() > 0 && n >= spec.freeze()) {
      return;
    }
    double[][] batch;
    if (usesMinMax() && NdOps.applies(x)) {
      NdOps.requireFinite(x, "observed tensor");
      batch = NdOps.minMax(x, axis, true);
    } else {
      double[] d = NdArrays.readFinite(x, "observed tensor");
      if (d.length == 0) {
        return;
      }
      GroupLayout layout = axis < 0 ? GroupLayout.tensor(x.shape()) : GroupLayout.perAxis(x.shape(), axis);
      batch = batchRange(d, layout);
    }
    boolean single = NdArrays.isSinglePrecision(state.dataType());
    for (int c = 0; c < channels; c++) {
      double bmin = NdArrays.r(batch[0][c], single);
      double bmax = NdArrays.r(batch[1][c], single);
      if (n == 0) {
        state.putScalar(1 + c, bmin);
        state.putScalar(1 + channels + c, bmax);
      } else {
        state.putScalar(1 + c, combine(state.getDouble(1 + c), bmin, true, single));
        state.putScalar(1 + channels + c, combine(state.getDouble(1 + channels + c), bmax, false, single));
      }
    }
    state.putScalar(0, n + 1);
  }

  /**
   * True when {@link #batchRange} is the plain per-group minimum and maximum ({@link GroupLayout#minMax}),
   * the default; observers that override {@link #batchRange} return false.
   */
  boolean usesMinMax() {
    return true;
  }

  /** Per-channel [min, max] of one batch: by default the plain minimum and maximum. */
  double[][] batchRange(double[] x, GroupLayout layout) {
    return layout.minMax(x);
  }

  /** Folds a batch value into the running one. */
  abstract double combine(double running, double batch, boolean isMin, boolean single);

  /** PyTorch's EMA step in the state's precision: running + c * (batch - running). */
  static double ema(double running, double batch, double c, boolean single) {
    double cc = NdArrays.r(c, single);
    double diff = NdArrays.r(batch - running, single);
    return NdArrays.r(running + NdArrays.r(cc * diff, single), single);
  }

  @Override
  public INDArray min(INDArray state) {
    int c = channels(state);
    return state.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 1 + c)).dup().reshape(c);
  }

  @Override
  public INDArray max(INDArray state) {
    int c = channels(state);
    return state.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1 + c, 1 + 2 * c)).dup().reshape(c);
  }

  @Override
  public long updates(INDArray state) {
    return (long) state.getDouble(0);
  }

  static int channels(INDArray state) {
    long n = state.length();
    if (n < 3 || n % 2 == 0) {
      throw new IllegalArgumentException("observer state must have 1 + 2C values, got " + n);
    }
    return (int) ((n - 1) / 2);
  }

  /** Per-group values of C-order data, for percentiles. */
  static double[][] split(double[] x, GroupLayout layout) {
    int[] counts = new int[layout.count()];
    for (int i = 0; i < x.length; i++) {
      counts[layout.groupOf(i)]++;
    }
    double[][] out = new double[layout.count()][];
    for (int g = 0; g < out.length; g++) {
      out[g] = new double[counts[g]];
    }
    Arrays.fill(counts, 0);
    for (int i = 0; i < x.length; i++) {
      int g = layout.groupOf(i);
      out[g][counts[g]++] = x[i];
    }
    return out;
  }

}
