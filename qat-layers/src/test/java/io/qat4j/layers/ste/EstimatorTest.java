package io.qat4j.layers.ste;

import static io.qat4j.layers.TestArrays.assertValues;
import static io.qat4j.layers.TestArrays.f32;
import static io.qat4j.layers.TestArrays.f64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.Quantizer;
import io.qat4j.layers.quant.Quantizers;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class EstimatorTest {
  private static final double[] X = {-1.5, -1, -0.5, 0, 0.5, 1, 1.5};
  private static final double[] G = {1, 2, 3, 4, 5, 6, 7};

  private static INDArray grad(String spec) {
    Quantizer q = Quantizers.of(spec);
    INDArray x = f32(X);
    QuantResult r = q.forward(x, QuantContext.perTensor());
    return q.backward(x, f32(G), r);
  }

  @Test
  void identity() {
    assertValues(G, grad("int(bits=8, ste=identity)"), 0);
    assertValues(G, grad("ternary"), 0);
  }

  @Test
  void hardTanh() {
    assertValues(new double[] {0, 2, 3, 4, 5, 6, 0}, grad("binary"), 0);
  }

  @Test
  void approxSign() {
    // 2 - 2|x| for |x| < 1
    assertValues(new double[] {0, 0, 3, 8, 5, 0, 0}, grad("binary(ste=approx_sign)"), 0);
  }

  @Test
  void clippedUsesRepresentableRange() {
    // fixed(m=0, n=1): step 0.5, codes [-2, 1] -> range [-1, 0.5]
    assertValues(new double[] {0, 2, 3, 4, 5, 0, 0}, grad("fixed(m=0, n=1)"), 0);
    // dorefa_a: [0, 1]
    assertValues(new double[] {0, 0, 0, 4, 5, 6, 0}, grad("dorefa_a"), 0);
    // int8 symmetric from x itself: max|x| = 1.5, range [-128 s, 127 s] with s = 1.5/127.5
    // lower = -128 s = -1.506 (x = -1.5 inside), upper = 127 s = 1.494 (x = 1.5 outside)
    assertValues(new double[] {1, 2, 3, 4, 5, 6, 0}, grad("int8"), 0);
  }

  @Test
  void clippedPerChannelBounds() {
    Quantizer q = Quantizers.of("fixed(bits=4, dynamic=true, axis=channel)");
    INDArray x = f32(new long[] {2, 2}, 0.5, 6, 0.9, -8);
    QuantResult r = q.forward(x, QuantContext.of(1));
    // column 0: max 0.9 -> m 0, n 3, range [-1, 0.875]; column 1: max 8 -> m 3, n 0, range [-8, 7]
    INDArray g = q.backward(x, f32(new long[] {2, 2}, 1, 1, 1, 1), r);
    assertValues(new double[] {1, 1, 0, 1}, g, 0);
  }

  @Test
  void dorefaWeightMatchesFiniteDifferences() {
    double[] w = {0.3, -1.2, 0.05, 0.8, -0.4};
    double[] g = {0.7, -0.2, 1.1, 0.4, -0.9};
    INDArray analytic = new DorefaWeightEstimator().backward(f64(w), f64(g), null);
    assertEquals(DataType.DOUBLE, analytic.dataType());
    double[] a = NdArrays.read(analytic);
    double h = 1e-6;
    for (int i = 0; i < w.length; i++) {
      double[] wp = w.clone();
      double[] wm = w.clone();
      wp[i] += h;
      wm[i] -= h;
      double num = (loss(wp, g) - loss(wm, g)) / (2 * h);
      assertEquals(num, a[i], 1e-6, "element " + i);
    }
  }

  /** L = sum g_i * tanh(w_i) / max|tanh(w)|: DoReFa's weight transform with quantize_k = identity. */
  private static double loss(double[] w, double[] g) {
    double m = 0;
    for (double v : w) {
      m = Math.max(m, Math.abs(Math.tanh(v)));
    }
    double l = 0;
    for (int i = 0; i < w.length; i++) {
      l += g[i] * Math.tanh(w[i]) / m;
    }
    return l;
  }

  @Test
  void dorefaWeightHandComputedWithoutMaxPath() {
    // gradient zero on the max element's "dot" term when sum g t = 0
    double t = Math.tanh(1);
    INDArray gr = new DorefaWeightEstimator().backward(f64(1, -1), f64(1, 1), null);
    // dot = t - t = 0, M = t, both attain the max: grad = (1 - t^2) / t
    assertValues(new double[] {(1 - t * t) / t, (1 - t * t) / t}, gr, 1e-12);
  }

  @Test
  void shapeMismatchIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> new IdentitySte().backward(f32(1, 2), f32(1), null));
  }
}
