package io.qat4j.layers.quant.quantizers;

import io.qat4j.layers.quant.GroupLayout;
import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantKind;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * LSQ: a uniform grid whose step size s is learned.
 *
 * <p>Forward, per tensor or per channel: v_bar = round(clip(v / s, -Qn, Qp)) (round half to even),
 * v_hat = v_bar s, with Qn = 2^(b-1), Qp = 2^(b-1) - 1 for {@code signed=true} (the default, for
 * weights) and Qn = 0, Qp = 2^b - 1 for {@code signed=false} (activations after ReLU). Codes are
 * v_bar, scale s, zero point 0. s is used as max(s, {@value #MIN_STEP}).
 *
 * <p>Gradients: dv_hat/dv = 1 for -Qn &lt; v/s &lt; Qp, else 0 (straight-through inside the range);
 * dv_hat/ds = -v/s + round(v/s) inside, -Qn for v/s &lt;= -Qn, Qp for v/s &gt;= Qp. dL/ds is the sum of
 * dL/dv_hat dv_hat/ds over the tensor (or channel), times the gradient scale g = 1/sqrt(N Qp) with N
 * the number of elements of the weight tensor (of the channel, per channel), or for activations the
 * number of features per example (of the channel per example, per channel).
 *
 * <p>Initialization: a step that is still 0 (its value when the layer is created) is set on the
 * first forward pass from that batch (or the weights): s = 2 mean(|v|) / sqrt(Qp).
 *
 * <p>Learned parameter: {@code step} (one value, or one per channel with {@code axis=channel}).
 *
 * <p>Paper: Esser et al., "Learned Step Size Quantization", arXiv:1902.08153.
 *
 * <p>Example spec strings: {@code lsq(bits=2)} (weights), {@code lsq(bits=2, signed=false)}
 * (activations after ReLU), {@code lsq(bits=4, axis=channel)}.
 */
public final class LsqQuantizer extends BaseLearnedQuantizer {
  /** Name of the step size. */
  public static final String STEP = "step";
  /** Smallest step used: a trained step at or below zero would divide by zero. */
  public static final double MIN_STEP = 1e-8;

  private final double qn;
  private final double qp;

  public LsqQuantizer(QuantSpec spec) {
    super(spec, QuantKind.LSQ);
    int b = spec.bits();
    qn = spec.signed() ? (1 << (b - 1)) : 0;
    qp = spec.signed() ? (1 << (b - 1)) - 1 : (1 << b) - 1;
  }

  /** Qn: the most negative code is -Qn. */
  public double qn() {
    return qn;
  }

  /** Qp: the largest code. */
  public double qp() {
    return qp;
  }

  @Override
  public List<Param> params(Role role, long channels) {
    return List.of(new Param(STEP, groups(channels), 0));
  }

  @Override
  public boolean needsInit(Map<String, INDArray> params) {
    INDArray s = params.get(STEP);
    if (s == null) {
      return false;
    }
    for (double v : NdArrays.read(s)) {
      if (v == 0) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void init(INDArray x, Map<String, INDArray> params, QuantContext ctx, Role role) {
    double[] d = NdArrays.readFinite(x, "input of " + spec);
    GroupLayout layout = layout(x, ctx);
    double[] s = values(params, STEP, layout.count());
    double[] sum = new double[s.length];
    long[] count = new long[s.length];
    for (int i = 0; i < d.length; i++) {
      int g = layout.groupOf(i);
      sum[g] += Math.abs(d[i]);
      count[g]++;
    }
    boolean single = NdArrays.isSinglePrecision(x.dataType());
    for (int g = 0; g < s.length; g++) {
      if (s[g] == 0 && count[g] > 0) {
        s[g] = NdArrays.r(2 * (sum[g] / count[g]) / Math.sqrt(qp), single);
      }
    }
    assign(params, STEP, s);
  }

  private double[] steps(Map<String, INDArray> params, GroupLayout layout, boolean single) {
    double[] s = values(params, STEP, layout.count());
    for (int g = 0; g < s.length; g++) {
      s[g] = NdArrays.r(Math.max(s[g], MIN_STEP), single);
    }
    return s;
  }

  @Override
  public QuantResult forward(INDArray x, Map<String, INDArray> params, QuantContext ctx, Role role) {
    double[] d = NdArrays.readFinite(x, "input of " + spec);
    DataType type = x.dataType();
    boolean single = NdArrays.isSinglePrecision(type);
    GroupLayout layout = layout(x, ctx);
    double[] s = steps(params, layout, single);
    double[] out = new double[d.length];
    double[] codes = new double[d.length];
    for (int i = 0; i < d.length; i++) {
      int g = layout.groupOf(i);
      double t = NdArrays.r(d[i] / s[g], single);
      double q = rint(Math.min(Math.max(t, -qn), qp));
      codes[i] = q;
      out[i] = NdArrays.r(q * s[g], single);
    }
    double[] lower = new double[s.length];
    double[] upper = new double[s.length];
    for (int g = 0; g < s.length; g++) {
      lower[g] = -qn * s[g];
      upper[g] = qp * s[g];
    }
    long[] shape = x.shape();
    long[] ps = layout.paramShape();
    return new QuantResult(NdArrays.create(out, shape, type), NdArrays.create(codes, shape, type),
        NdArrays.create(s, ps, type), NdArrays.create(new double[s.length], ps, type), layout, lower, upper);
  }

  /** The gradient scale g = 1/sqrt(N Qp) of one group. */
  double gradScale(INDArray x, GroupLayout layout, Role role) {
    double perGroup = (double) layout.length() / layout.count();
    double n = role == Role.ACTIVATIONS ? perGroup / x.size(0) : perGroup;
    return 1 / Math.sqrt(n * qp);
  }

  @Override
  public INDArray backward(INDArray x, INDArray gradOut, Map<String, INDArray> params, QuantContext ctx, Role role,
      Map<String, INDArray> gradParams) {
    double[] d = NdArrays.read(x);
    double[] go = NdArrays.read(gradOut);
    if (go.length != d.length) {
      throw new IllegalArgumentException("gradOut has " + go.length + " values, x has " + d.length);
    }
    boolean single = NdArrays.isSinglePrecision(x.dataType());
    GroupLayout layout = layout(x, ctx);
    double[] s = steps(params, layout, single);
    double[] dx = new double[d.length];
    double[] ds = new double[s.length];
    for (int i = 0; i < d.length; i++) {
      int g = layout.groupOf(i);
      double t = NdArrays.r(d[i] / s[g], single);
      if (t <= -qn) {
        ds[g] += go[i] * -qn;
      } else if (t >= qp) {
        ds[g] += go[i] * qp;
      } else {
        dx[i] = go[i];
        ds[g] += go[i] * (rint(t) - t);
      }
    }
    double scale = gradScale(x, layout, role);
    for (int g = 0; g < ds.length; g++) {
      ds[g] *= scale;
    }
    assign(gradParams, STEP, ds);
    return NdArrays.create(dx, gradOut.shape(), gradOut.dataType());
  }
}
