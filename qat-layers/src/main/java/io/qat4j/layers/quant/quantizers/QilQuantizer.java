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
 * QIL: a learned quantization interval [c - d, c + d] (center c, distance d), per layer.
 *
 * <p>Forward, transformer then discretizer. Weights: with alpha = 0.5/d and beta = -0.5 c/d + 0.5,
 * w_hat = 0 for |w| &lt; c - d (pruned), sign(w) for |w| &gt; c + d (clipped), and
 * sign(w) (alpha |w| + beta)^gamma inside, gamma learned; then w_q = round(q_D w_hat) / q_D with
 * q_D = 2^(N-1) - 1, so w_q lies in [-1, 1]. Activations: x_hat = 0 below c - d, 1 above c + d,
 * alpha x + beta inside (gamma = 1); x_q = round(q_D x_hat) / q_D with q_D = 2^N - 1, in [0, 1]. As in
 * the paper the outputs are in these normalized units, not in the input's (the next layer's weights
 * absorb the scale). Rounding is half to even. With {@code bits=32} the discretizer is skipped. d is
 * used as max(d, {@value #MIN_D}) and gamma as max(gamma, {@value #MIN_GAMMA}).
 *
 * <p>Gradients: the discretizer is straight-through (dw_q/dw_hat = 1); inside the interval, with
 * u = alpha |w| + beta and s = sign(w): dw_hat/dw = gamma u^(gamma-1) alpha,
 * dw_hat/dc = -s gamma u^(gamma-1) alpha, dw_hat/dd = -s gamma u^(gamma-1) (|w| - c) / (2 d^2),
 * dw_hat/dgamma = s u^gamma ln u; for activations the same with gamma = 1 and s = 1. Outside the
 * interval every derivative is 0 (w_hat is constant there). Parameter gradients are summed over the
 * tensor.
 *
 * <p>Initialization (the paper starts from a trained network and does not say): while d is 0 (its value
 * when the layer is created), the first forward pass sets the interval to [0, r], c = d = r/2, with
 * r = min(2 sqrt(q_D) mean|x|, max|x|): LSQ's initial range (Esser et al.: step 2 mean|x| / sqrt(Qp),
 * Qp = q_D steps), which is robust to the outliers that set the maximum, and nothing pruned; with
 * {@code bits=32}, r = max|x|. gamma starts at 1.
 *
 * <p>Learned parameters: weights {@code c}, {@code d}, {@code gamma}; activations {@code c}, {@code d}.
 *
 * <p>Paper: Jung et al., "Learning to Quantize Deep Networks by Optimizing Quantization Intervals with
 * Task Loss", arXiv:1808.05779.
 *
 * <p>Example spec strings: {@code qil(bits=3)}, {@code qil(bits=32)} (the transformer alone).
 */
public final class QilQuantizer extends BaseLearnedQuantizer {
  /** Name of the interval center. */
  public static final String C = "c";
  /** Name of the interval half-width. */
  public static final String D = "d";
  /** Name of the weight transformer's exponent. */
  public static final String GAMMA = "gamma";
  /** Smallest distance used. */
  public static final double MIN_D = 1e-8;
  /** Smallest exponent used. */
  public static final double MIN_GAMMA = 0.01;

  public QilQuantizer(QuantSpec spec) {
    super(spec, QuantKind.QIL);
  }

  @Override
  public List<Param> params(Role role, long channels) {
    if (role == Role.WEIGHTS) {
      return List.of(new Param(C, 1, 0), new Param(D, 1, 0), new Param(GAMMA, 1, 1));
    }
    return List.of(new Param(C, 1, 0), new Param(D, 1, 0));
  }

  @Override
  public boolean needsInit(Map<String, INDArray> params) {
    INDArray d = params.get(D);
    return d != null && d.length() == 1 && d.getDouble(0) == 0;
  }

  @Override
  public void init(INDArray x, Map<String, INDArray> params, QuantContext ctx, Role role) {
    if (!needsInit(params)) {
      return;
    }
    double[] v = NdArrays.readFinite(x, "input of " + spec);
    double m = 0;
    double sumAbs = 0;
    for (double e : v) {
      m = Math.max(m, role == Role.WEIGHTS ? Math.abs(e) : e);
      sumAbs += Math.abs(e);
    }
    if (spec.bits() != 32 && v.length > 0) {
      m = Math.min(m, 2 * Math.sqrt(levels(role)) * sumAbs / v.length);
    }
    if (m > 0) {
      double half = NdArrays.r(m / 2, NdArrays.isSinglePrecision(x.dataType()));
      assign(params, C, new double[] {half});
      assign(params, D, new double[] {half});
    }
  }

  /** The effective c, d, gamma, alpha = 0.5/d, beta = -0.5 c/d + 0.5. */
  private record Interval(double c, double d, double gamma, double alpha, double beta) {
  }

  private Interval interval(Map<String, INDArray> params, Role role, boolean single) {
    double c = NdArrays.r(values(params, C, 1)[0], single);
    double d = NdArrays.r(Math.max(values(params, D, 1)[0], MIN_D), single);
    double gamma = role == Role.WEIGHTS ? NdArrays.r(Math.max(values(params, GAMMA, 1)[0], MIN_GAMMA), single) : 1;
    double alpha = NdArrays.r(0.5 / d, single);
    double beta = NdArrays.r(NdArrays.r(-0.5 * NdArrays.r(c / d, single), single) + 0.5, single);
    return new Interval(c, d, gamma, alpha, beta);
  }

  private double levels(Role role) {
    return role == Role.WEIGHTS ? (1 << (spec.bits() - 1)) - 1 : (1 << spec.bits()) - 1;
  }

  @Override
  public QuantResult forward(INDArray x, Map<String, INDArray> params, QuantContext ctx, Role role) {
    double[] v = NdArrays.readFinite(x, "input of " + spec);
    DataType type = x.dataType();
    boolean single = NdArrays.isSinglePrecision(type);
    Interval in = interval(params, role, single);
    double lo = NdArrays.r(in.c - in.d, single);
    double hi = NdArrays.r(in.c + in.d, single);
    boolean weights = role == Role.WEIGHTS;
    boolean discrete = spec.bits() != 32;
    double qd = discrete ? levels(role) : 0;
    double[] out = new double[v.length];
    double[] codes = discrete ? new double[v.length] : null;
    for (int i = 0; i < v.length; i++) {
      double a = weights ? Math.abs(v[i]) : v[i];
      double t;
      if (a < lo) {
        t = 0;
      } else if (a > hi) {
        t = 1;
      } else {
        double u = Math.max(NdArrays.r(NdArrays.r(in.alpha * a, single) + in.beta, single), 0);
        t = in.gamma == 1 ? u : NdArrays.r(Math.pow(u, in.gamma), single);
      }
      if (weights) {
        t = Math.signum(v[i]) * t;
      }
      if (discrete) {
        double q = rint(NdArrays.r(t * qd, single));
        codes[i] = q;
        out[i] = NdArrays.r(q / qd, single);
      } else {
        out[i] = t;
      }
    }
    long[] shape = x.shape();
    GroupLayout layout = GroupLayout.tensor(shape);
    long[] ps = layout.paramShape();
    return new QuantResult(NdArrays.create(out, shape, type), discrete ? NdArrays.create(codes, shape, type) : null,
        discrete ? NdArrays.create(new double[] {1 / qd}, ps, type) : null,
        discrete ? NdArrays.create(new double[] {0}, ps, type) : null, layout, new double[] {weights ? -1 : 0},
        new double[] {1});
  }

  @Override
  public INDArray backward(INDArray x, INDArray gradOut, Map<String, INDArray> params, QuantContext ctx, Role role,
      Map<String, INDArray> gradParams) {
    double[] v = NdArrays.read(x);
    double[] go = NdArrays.read(gradOut);
    if (go.length != v.length) {
      throw new IllegalArgumentException("gradOut has " + go.length + " values, x has " + v.length);
    }
    boolean single = NdArrays.isSinglePrecision(x.dataType());
    Interval in = interval(params, role, single);
    double lo = NdArrays.r(in.c - in.d, single);
    double hi = NdArrays.r(in.c + in.d, single);
    boolean weights = role == Role.WEIGHTS;
    double dd2 = 2 * in.d * in.d;
    double[] dx = new double[v.length];
    double dc = 0;
    double dd = 0;
    double dgamma = 0;
    for (int i = 0; i < v.length; i++) {
      double a = weights ? Math.abs(v[i]) : v[i];
      if (a < lo || a > hi) {
        continue;
      }
      double u = NdArrays.r(NdArrays.r(in.alpha * a, single) + in.beta, single);
      if (u <= 0) {
        continue; // at the pruning edge: w_hat = 0 and u^(gamma-1) is unbounded
      }
      double s = weights ? Math.signum(v[i]) : 1;
      double k = in.gamma == 1 ? 1 : in.gamma * Math.pow(u, in.gamma - 1);
      double g = go[i];
      dx[i] = g * k * in.alpha;
      dc += g * s * k * -in.alpha;
      dd += g * s * k * -(a - in.c) / dd2;
      if (weights) {
        dgamma += g * s * Math.pow(u, in.gamma) * Math.log(u);
      }
    }
    assign(gradParams, C, new double[] {dc});
    assign(gradParams, D, new double[] {dd});
    if (weights) {
      assign(gradParams, GAMMA, new double[] {dgamma});
    }
    return NdArrays.create(dx, gradOut.shape(), gradOut.dataType());
  }
}
