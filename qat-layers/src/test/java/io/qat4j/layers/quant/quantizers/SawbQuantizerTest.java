package io.qat4j.layers.quant.quantizers;

import static io.qat4j.layers.TestArrays.assertValues;
import static io.qat4j.layers.TestArrays.f32;
import static io.qat4j.layers.TestArrays.f64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizer;
import io.qat4j.layers.quant.Quantizers;
import io.qat4j.layers.quant.SawbCoefficients;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

class SawbQuantizerTest {
  private static final QuantContext T = QuantContext.perTensor();

  @Test
  void twoBitsGivesFourLevelsWithoutZero() {
    // E[w^2] = 12.5/8 -> rms 1.25; E|w| = 9/8; alpha = 3.212 * 1.25 - 2.178 * 1.125 = 1.56475
    // levels -alpha, -alpha/3, alpha/3, alpha (step 2 alpha / 3)
    double a = 3.212 * 1.25 - 2.178 * 1.125;
    QuantResult r = Quantizers.of("sawb(bits=2)").forward(f64(1, -1, 1, -1, 2, -2, 0.5, -0.5), T);
    double l = a / 3;
    assertValues(new double[] {l, -l, l, -l, a, -a, l, -l}, r.output(), 1e-12);
    assertValues(new double[] {2, 1, 2, 1, 3, 0, 2, 1}, r.codes(), 0);
    assertValues(new double[] {2 * a / 3}, r.scale(), 1e-12);
    assertValues(new double[] {1.5}, r.zeroPoint(), 0);
    assertEquals(a, r.upperBound(0), 1e-12);
  }

  @Test
  void clippedEstimatorPassesInsideAlphaOnly() {
    Quantizer q = Quantizers.of("sawb(bits=2)");
    INDArray w = f64(1, -1, 1, -1, 2, -2, 0.5, -0.5);
    QuantResult r = q.forward(w, T);
    assertValues(new double[] {1, 1, 1, 1, 0, 0, 1, 1}, q.backward(w, f64(1, 1, 1, 1, 1, 1, 1, 1), r), 0);
    Quantizer id = Quantizers.of("sawb(bits=2, ste=identity)");
    assertValues(new double[] {1, 1, 1, 1, 1, 1, 1, 1}, id.backward(w, f64(1, 1, 1, 1, 1, 1, 1, 1), r), 0);
  }

  @Test
  void allZeroWeightsStayZeroAndNonPositiveAlphaFallsBackToTheMaximum() {
    QuantResult z = Quantizers.of("sawb(bits=4)").forward(f32(0, 0, 0), T);
    assertValues(new double[] {0, 0, 0}, z.output(), 0);
    assertNull(z.codes());
    // two-valued weights at 5 bits: 17.74 - 18.64 < 0, so alpha = max|w| = 0.5
    QuantResult r = Quantizers.of("sawb(bits=5)").forward(f64(0.5, -0.5, 0.5, -0.5), T);
    assertEquals(0.5, r.upperBound(0));
    assertValues(new double[] {0.5, -0.5, 0.5, -0.5}, r.output(), 1e-12);
  }

  // ------------------------------------------------------------ the coefficients against the MSE optimum

  private static final int N = 20_000;

  /** Seeded samples of the distributions of the paper's fit (von Mises left out), scale 1. */
  private static Map<String, double[]> samples() {
    Map<String, DoubleUnaryOperator> inverse = new LinkedHashMap<>();
    inverse.put("uniform", u -> 2 * u - 1);
    inverse.put("laplace", u -> u < 0.5 ? Math.log(2 * u) : -Math.log(2 - 2 * u));
    inverse.put("logistic", u -> Math.log(u / (1 - u)));
    inverse.put("triangular", u -> u < 0.5 ? Math.sqrt(2 * u) - 1 : 1 - Math.sqrt(2 - 2 * u));
    Map<String, double[]> out = new LinkedHashMap<>();
    Random rng = new Random(17);
    double[] gauss = new double[N];
    for (int i = 0; i < N; i++) {
      gauss[i] = rng.nextGaussian();
    }
    out.put("gaussian", gauss);
    for (Map.Entry<String, DoubleUnaryOperator> e : inverse.entrySet()) {
      double[] w = new double[N];
      for (int i = 0; i < N; i++) {
        w[i] = e.getValue().applyAsDouble((i + 0.5) / N);
      }
      out.put(e.getKey(), w);
    }
    return out;
  }

  /** Quantization MSE of SAWB's grid (2^bits levels over [-alpha, alpha], no zero) at this alpha. */
  private static double mse(double[] w, double alpha, int bits) {
    double n = (1 << bits) - 1;
    double step = 2 * alpha / n;
    double sum = 0;
    for (double v : w) {
      double q = Math.rint((Math.min(Math.max(v, -alpha), alpha) + alpha) / step) * step - alpha;
      sum += (q - v) * (q - v);
    }
    return sum / w.length;
  }

  /** The smallest MSE over alpha: a grid from 0.2 to 6 rms, refined around its best point. */
  private static double bestMse(double[] w, int bits, double rms) {
    double best = Double.POSITIVE_INFINITY;
    double bestAlpha = 0;
    for (int i = 0; i <= 290; i++) {
      double a = rms * (0.2 + 0.02 * i);
      double m = mse(w, a, bits);
      if (m < best) {
        best = m;
        bestAlpha = a;
      }
    }
    for (int i = -50; i <= 50; i++) {
      best = Math.min(best, mse(w, bestAlpha + rms * 0.0004 * i, bits));
    }
    return best;
  }

  /**
   * The table's alpha is close to MSE-optimal: within 10% of the best MSE for every distribution of
   * the fit at 2, 3 and 4 bits, and for the bell-shaped ones (Gaussian, Laplace, logistic) at 5 and 8
   * bits. (At 5 and 8 bits the fit line clips bounded distributions too early.)
   */
  @ParameterizedTest(name = "{0} bits")
  @ValueSource(ints = {2, 3, 4, 5, 8})
  void tableAlphaIsNearlyMseOptimal(int bits) {
    SawbCoefficients c = SawbCoefficients.of(bits);
    for (Map.Entry<String, double[]> e : samples().entrySet()) {
      if (bits > 4 && !(e.getKey().equals("gaussian") || e.getKey().equals("laplace")
          || e.getKey().equals("logistic") && bits == 5)) {
        continue;
      }
      double[] w = e.getValue();
      double sq = 0;
      double abs = 0;
      for (double v : w) {
        sq += v * v;
        abs += Math.abs(v);
      }
      double rms = Math.sqrt(sq / N);
      double alpha = c.alpha(rms, abs / N);
      double ratio = mse(w, alpha, bits) / bestMse(w, bits, rms);
      assertTrue(ratio < 1.1, bits + " bits, " + e.getKey() + ": MSE at the table's alpha is " + ratio
          + " times the best");
    }
  }

  @Test
  void quantizerUsesTheTableAlpha() {
    SawbQuantizer q = new SawbQuantizer(QuantSpec.parse("sawb(bits=3)"));
    double[] w = samples().get("gaussian");
    double sq = 0;
    double abs = 0;
    for (double v : w) {
      sq += v * v;
      abs += Math.abs(v);
    }
    assertEquals(7.509 * Math.sqrt(sq / N) - 6.892 * abs / N, q.alpha(w, false), 1e-12);
  }
}
