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
 * Trained ternary quantization: weights in {-Wn, 0, +Wp} with two learned scales per layer.
 *
 * <p>Forward: delta = t max|w| (t = {@code threshold}, 0.05 as in the paper), recomputed from the
 * latent weights on every pass (no gradient through it); w_t = Wp for w &gt; delta, -Wn for
 * w &lt; -delta, 0 otherwise. Codes are +1, -1 and 0; there is no single scale (Wp and Wn differ), so
 * the result carries none.
 *
 * <p>Gradients: dL/dWp = sum of dL/dw_t over I_p = {w &gt; delta}; dL/dWn = -sum of dL/dw_t over
 * I_n = {w &lt; -delta} (w_t = -Wn there; the paper's Eq. 7 writes the sum without the sign, its
 * released code differentiates -Wn as here). The latent weights get dL/dw = Wp dL/dw_t on I_p,
 * dL/dw_t on the zero region and Wn dL/dw_t on I_n (Eq. 8).
 *
 * <p>Initialization: the paper starts from a trained float network whose weights it rescales, with
 * Wp = Wn = 1. Here the latent weights keep their scale, so while Wp and Wn are both 0 (their value
 * when the layer is created) the first forward pass sets them from the weights: Wp = mean of w over
 * I_p, Wn = mean of |w| over I_n (the TWN scale of each side).
 *
 * <p>Learned parameters: {@code p} (Wp) and {@code n} (Wn), one value each. Weights only.
 *
 * <p>Paper: Zhu, Han, Mao and Dally, "Trained Ternary Quantization", arXiv:1612.01064.
 *
 * <p>Example spec strings: {@code ttq}, {@code ttq(threshold=0.1)}.
 */
public final class TtqQuantizer extends BaseLearnedQuantizer {
  /** Name of the positive scale Wp. */
  public static final String WP = "p";
  /** Name of the negative scale Wn (the negative level is -Wn). */
  public static final String WN = "n";

  public TtqQuantizer(QuantSpec spec) {
    super(spec, QuantKind.TTQ);
  }

  @Override
  public List<Param> params(Role role, long channels) {
    requireRole(role, Role.WEIGHTS);
    return List.of(new Param(WP, 1, 0), new Param(WN, 1, 0));
  }

  @Override
  public boolean needsInit(Map<String, INDArray> params) {
    INDArray p = params.get(WP);
    INDArray n = params.get(WN);
    return p != null && n != null && p.getDouble(0) == 0 && n.getDouble(0) == 0;
  }

  /** delta = t max|w|, in the weights' precision. */
  private double delta(double[] w, boolean single) {
    double m = 0;
    for (double v : w) {
      m = Math.max(m, Math.abs(v));
    }
    return NdArrays.r(spec.threshold() * m, single);
  }

  @Override
  public void init(INDArray x, Map<String, INDArray> params, QuantContext ctx, Role role) {
    requireRole(role, Role.WEIGHTS);
    if (!needsInit(params)) {
      return;
    }
    double[] w = NdArrays.readFinite(x, "input of " + spec);
    boolean single = NdArrays.isSinglePrecision(x.dataType());
    double delta = delta(w, single);
    double sp = 0;
    double sn = 0;
    long np = 0;
    long nn = 0;
    for (double v : w) {
      if (v > delta) {
        sp += v;
        np++;
      } else if (v < -delta) {
        sn -= v;
        nn++;
      }
    }
    assign(params, WP, new double[] {np == 0 ? 0 : NdArrays.r(sp / np, single)});
    assign(params, WN, new double[] {nn == 0 ? 0 : NdArrays.r(sn / nn, single)});
  }

  @Override
  public QuantResult forward(INDArray x, Map<String, INDArray> params, QuantContext ctx, Role role) {
    requireRole(role, Role.WEIGHTS);
    double[] w = NdArrays.readFinite(x, "input of " + spec);
    DataType type = x.dataType();
    boolean single = NdArrays.isSinglePrecision(type);
    double wp = NdArrays.r(values(params, WP, 1)[0], single);
    double wn = NdArrays.r(values(params, WN, 1)[0], single);
    double delta = delta(w, single);
    double[] out = new double[w.length];
    double[] codes = new double[w.length];
    for (int i = 0; i < w.length; i++) {
      if (w[i] > delta) {
        codes[i] = 1;
        out[i] = wp;
      } else if (w[i] < -delta) {
        codes[i] = -1;
        out[i] = -wn;
      }
    }
    long[] shape = x.shape();
    return new QuantResult(NdArrays.create(out, shape, type), NdArrays.create(codes, shape, type), null, null,
        GroupLayout.tensor(shape), new double[] {-wn}, new double[] {wp});
  }

  @Override
  public INDArray backward(INDArray x, INDArray gradOut, Map<String, INDArray> params, QuantContext ctx, Role role,
      Map<String, INDArray> gradParams) {
    requireRole(role, Role.WEIGHTS);
    double[] w = NdArrays.read(x);
    double[] go = NdArrays.read(gradOut);
    if (go.length != w.length) {
      throw new IllegalArgumentException("gradOut has " + go.length + " values, x has " + w.length);
    }
    boolean single = NdArrays.isSinglePrecision(x.dataType());
    double wp = NdArrays.r(values(params, WP, 1)[0], single);
    double wn = NdArrays.r(values(params, WN, 1)[0], single);
    double delta = delta(w, single);
    double[] dw = new double[w.length];
    double dp = 0;
    double dn = 0;
    for (int i = 0; i < w.length; i++) {
      if (w[i] > delta) {
        dp += go[i];
        dw[i] = wp * go[i];
      } else if (w[i] < -delta) {
        dn -= go[i];
        dw[i] = wn * go[i];
      } else {
        dw[i] = go[i];
      }
    }
    assign(gradParams, WP, new double[] {dp});
    assign(gradParams, WN, new double[] {dn});
    return NdArrays.create(dw, gradOut.shape(), gradOut.dataType());
  }
}
