package io.qat4j.layers.quant.quantizers;

import static io.qat4j.layers.TestArrays.assertValues;
import static io.qat4j.layers.TestArrays.f32;
import static io.qat4j.layers.TestArrays.f64;
import static io.qat4j.layers.quant.quantizers.LearnedTestSupport.gradients;
import static io.qat4j.layers.quant.quantizers.LearnedTestSupport.initial;
import static io.qat4j.layers.quant.quantizers.LearnedTestSupport.params;
import static io.qat4j.layers.quant.quantizers.LearnedTestSupport.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qat4j.layers.quant.LearnedQuantizer;
import io.qat4j.layers.quant.LearnedQuantizer.Role;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizers;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class TtqQuantizerTest {
  private static final QuantContext T = QuantContext.perTensor();
  // threshold 0.25: delta = 0.25 max|w| = 0.225; I_p = {0.8, 0.3}, I_n = {-0.5, -0.9}
  private static final double[] W = {0.8, -0.1, 0.3, -0.5, 0.15, -0.9, 0};

  @Test
  void ternarizesWithTwoScales() {
    LearnedQuantizer q = Quantizers.learned(QuantSpec.parse("ttq(threshold=0.25)"));
    Map<String, INDArray> p = params(DataType.FLOAT, "p", new double[] {2}, "n", new double[] {3});
    QuantResult r = q.forward(f32(W), p, T, Role.WEIGHTS);
    assertValues(new double[] {2, 0, 2, -3, 0, -3, 0}, r.output(), 0);
    assertValues(new double[] {1, 0, 1, -1, 0, -1, 0}, r.codes(), 0);
  }

  @Test
  void gradientsOfScalesAndLatentWeights() {
    // dWp = sum over I_p = 1 + 3; dWn = -(sum over I_n) = -(4 + 6); latent: Wp g, g, Wn g
    LearnedQuantizer q = Quantizers.learned(QuantSpec.parse("ttq(threshold=0.25)"));
    Map<String, INDArray> p = params(DataType.DOUBLE, "p", new double[] {2}, "n", new double[] {3});
    Map<String, INDArray> g = gradients(p);
    INDArray dw = q.backward(f64(W), f64(1, 2, 3, 4, 5, 6, 7), p, T, Role.WEIGHTS, g);
    assertValues(new double[] {2, 2, 6, 12, 5, 18, 7}, dw, 0);
    assertEquals(4, value(g, "p"));
    assertEquals(-10, value(g, "n"));
  }

  @Test
  void defaultThresholdIsFivePercentOfTheMaximum() {
    // delta = 0.05 * 2 = 0.1: 0.09 -> 0, 0.11 -> Wp, -0.1 -> 0 (not beyond delta)
    LearnedQuantizer q = Quantizers.learned(QuantSpec.parse("ttq"));
    Map<String, INDArray> p = params(DataType.DOUBLE, "p", new double[] {1}, "n", new double[] {0.5});
    assertValues(new double[] {0, 1, 0, -0.5}, q.forward(f64(0.09, 0.11, -0.1, -2), p, T, Role.WEIGHTS).output(), 0);
  }

  @Test
  void scalesStartFromTheWeights() {
    LearnedQuantizer q = Quantizers.learned(QuantSpec.parse("ttq(threshold=0.25)"));
    Map<String, INDArray> p = initial(q, Role.WEIGHTS, 4, DataType.DOUBLE);
    assertTrue(q.needsInit(p));
    q.init(f64(W), p, T, Role.WEIGHTS);
    assertEquals((0.8 + 0.3) / 2, value(p, "p"), 1e-12);
    assertEquals((0.5 + 0.9) / 2, value(p, "n"), 1e-12);
    assertFalse(q.needsInit(p));
  }

  @Test
  void weightsOnly() {
    LearnedQuantizer q = Quantizers.learned(QuantSpec.parse("ttq"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> q.params(Role.ACTIVATIONS, 1));
    assertTrue(e.getMessage().contains("ttq does not apply to activations; allowed: [weights]"), e.getMessage());
  }
}
