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
 * PACT: activations clipped at a learned level alpha, then quantized uniformly on [0, alpha].
 *
 * <p>Forward, per tensor or per channel (axis 1): y = clip(x, 0, alpha), n = 2^k - 1, s = alpha / n,
 * y_q = round(y / s) s (round half to even). Codes are round(y / s) in [0, n], scale s, zero point 0.
 * With {@code bits=32} there is no discretization: y_q = y (PACT as a learned clipping activation).
 * alpha is used as max(alpha, {@value #MIN_ALPHA}).
 *
 * <p>Gradients (the rounding is passed straight through): dy_q/dx = 1 for 0 &lt;= x &lt; alpha, else 0;
 * dy_q/dalpha = 1 for x &gt;= alpha, else 0, so dL/dalpha = sum of dL/dy_q over the clipped elements
 * (of the channel). The L2 penalty (lambda/2) alpha^2 of {@code l2=lambda} is DL4J's
 * {@code L2Regularization} on the parameter, added by the layer's updater; alpha starts at
 * {@code init} (default {@value io.qat4j.layers.quant.QuantSpec#PACT_INIT}: the paper starts at 10 on
 * ImageNet-scale activations; 6 makes PACT start out as ReLU6).
 *
 * <p>Learned parameter: {@code alpha} (one value, or one per channel with {@code axis=channel}).
 * Activations only.
 *
 * <p>Paper: Choi et al., "PACT: Parameterized Clipping Activation for Quantized Neural Networks",
 * arXiv:1805.06085.
 *
 * <p>Example spec strings: {@code pact(bits=4)}, {@code pact(bits=2, init=4, l2=0.0001, lr_scale=10)}.
 */
public final class PactQuantizer extends BaseLearnedQuantizer {
  /** Name of the clipping level. */
  public static final String ALPHA = "alpha";
  /** Smallest clipping level used: a trained alpha at or below zero would divide by zero. */
  public static final double MIN_ALPHA = 1e-6;

  public PactQuantizer(QuantSpec spec) {
    super(spec, QuantKind.PACT);
  }

  @Override
  public List<Param> params(Role role, long channels) {
    requireRole(role, Role.ACTIVATIONS);
    return List.of(new Param(ALPHA, groups(channels), spec.init()));
  }

  @Override
  public boolean needsInit(Map<String, INDArray> params) {
    return false;
  }

  @Override
  public void init(INDArray x, Map<String, INDArray> params, QuantContext ctx, Role role) {
    // alpha starts at the spec's init value, set when the layer creates its parameters.
  }

  private double[] alpha(Map<String, INDArray> params, GroupLayout layout, boolean single) {
    double[] a = values(params, ALPHA, layout.count());
    for (int g = 0; g < a.length; g++) {
      a[g] = NdArrays.r(Math.max(a[g], MIN_ALPHA), single);
    }
    return a;
  }

  @Override
  public QuantResult forward(INDArray x, Map<String, INDArray> params, QuantContext ctx, Role role) {
    requireRole(role, Role.ACTIVATIONS);
    double[] d = NdArrays.readFinite(x, "input of " + spec);
    DataType type = x.dataType();
    boolean single = NdArrays.isSinglePrecision(type);
    GroupLayout layout = layout(x, ctx);
    double[] a = alpha(params, layout, single);
    boolean discrete = spec.bits() != 32;
    double n = discrete ? (1 << spec.bits()) - 1 : 0;
    double[] s = new double[a.length];
    for (int g = 0; g < a.length; g++) {
      s[g] = discrete ? NdArrays.r(a[g] / n, single) : 0;
    }
    double[] out = new double[d.length];
    double[] codes = discrete ? new double[d.length] : null;
    for (int i = 0; i < d.length; i++) {
      int g = layout.groupOf(i);
      double y = Math.min(Math.max(d[i], 0), a[g]);
      if (discrete) {
        double q = Math.min(rint(NdArrays.r(y / s[g], single)), n);
        codes[i] = q;
        out[i] = NdArrays.r(q * s[g], single);
      } else {
        out[i] = y;
      }
    }
    long[] shape = x.shape();
    long[] ps = layout.paramShape();
    return new QuantResult(NdArrays.create(out, shape, type), discrete ? NdArrays.create(codes, shape, type) : null,
        discrete ? NdArrays.create(s, ps, type) : null, discrete ? NdArrays.create(new double[a.length], ps, type) : null,
        layout, new double[a.length], a);
  }

  @Override
  public INDArray backward(INDArray x, INDArray gradOut, Map<String, INDArray> params, QuantContext ctx, Role role,
      Map<String, INDArray> gradParams) {
    requireRole(role, Role.ACTIVATIONS);
    double[] d = NdArrays.read(x);
    double[] go = NdArrays.read(gradOut);
    if (go.length != d.length) {
      throw new IllegalArgumentException("gradOut has " + go.length + " values, x has " + d.length);
    }
    GroupLayout layout = layout(x, ctx);
    double[] a = alpha(params, layout, NdArrays.isSinglePrecision(x.dataType()));
    double[] dx = new double[d.length];
    double[] dAlpha = new double[a.length];
    for (int i = 0; i < d.length; i++) {
      int g = layout.groupOf(i);
      if (d[i] >= a[g]) {
        dAlpha[g] += go[i];
      } else if (d[i] >= 0) {
        dx[i] = go[i];
      }
    }
    assign(gradParams, ALPHA, dAlpha);
    return NdArrays.create(dx, gradOut.shape(), gradOut.dataType());
  }
}
