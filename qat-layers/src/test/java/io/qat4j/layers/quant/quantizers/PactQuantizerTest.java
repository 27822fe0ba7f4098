package io.qat4j.layers.quant.quantizers;

import static io.qat4j.layers.TestArrays.assertValues;
import static io.qat4j.layers.TestArrays.f32;
import static io.qat4j.layers.TestArrays.f64;
import static io.qat4j.layers.quant.quantizers.LearnedTestSupport.gradients;
import static io.qat4j.layers.quant.quantizers.LearnedTestSupport.initial;
import static io.qat4j.layers.quant.quantizers.LearnedTestSupport.params;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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

class PactQuantizerTest {
  private static final QuantContext T = QuantContext.perTensor();
  private static final double[] X = {-1, 0, 0.4, 0.5, 1.5, 2.6, 3, 7};
  private static final double[] G = {1, 2, 3, 4, 5, 6, 7, 8};

  @Test
  void forwardClipsAndRoundsOnTheAlphaGrid() {
    // 2 bits, alpha 3: step 1, levels 0..3; clip, then round half to even (0.5 -> 0, 1.5 -> 2)
    LearnedQuantizer q = Quantizers.learned(QuantSpec.parse("pact(bits=2)"));
    Map<String, INDArray> p = params(DataType.FLOAT, "alpha", new double[] {3});
    QuantResult r = q.forward(f32(X), p, T, Role.ACTIVATIONS);
    assertValues(new double[] {0, 0, 0, 0, 2, 3, 3, 3}, r.output(), 0);
    assertValues(new double[] {0, 0, 0, 0, 2, 3, 3, 3}, r.codes(), 0);
    assertValues(new double[] {1}, r.scale(), 0);
    assertEquals(3, r.upperBound(0));
    assertEquals(DataType.FLOAT, r.output().dataType());
  }

  @Test
  void fourBitsUseFifteenSteps() {
    // alpha 1.5: step 0.1; 0.26 -> code 3 (2.6 rounds to 3), 0.04 -> 0, 2 -> clipped to 15
    LearnedQuantizer q = Quantizers.learned(QuantSpec.parse("pact(bits=4)"));
    QuantResult r = q.forward(f64(0.26, 0.04, 2, 0.75), params(DataType.DOUBLE, "alpha", new double[] {1.5}), T,
        Role.ACTIVATIONS);
    assertValues(new double[] {3, 0, 15, 8}, r.codes(), 0);
    assertValues(new double[] {0.3, 0, 1.5, 0.8}, r.output(), 1e-12);
  }

  @Test
  void gradientsPassInsideAndSumIntoAlphaWhereClipped() {
    // dx = g for 0 <= x < alpha, else 0; dalpha = sum of g where x >= alpha (x = 3 and 7: 7 + 8)
    LearnedQuantizer q = Quantizers.learned(QuantSpec.parse("pact(bits=2)"));
    Map<String, INDArray> p = params(DataType.FLOAT, "alpha", new double[] {3});
    Map<String, INDArray> g = gradients(p);
    INDArray dx = q.backward(f32(X), f32(G), p, T, Role.ACTIVATIONS, g);
    assertValues(new double[] {0, 2, 3, 4, 5, 6, 0, 0}, dx, 0);
    assertValues(new double[] {15}, g.get("alpha"), 0);
  }

  @Test
  void perChannelAlphaAlongAxisOne() {
    // [2 examples, 2 channels], 1 bit: alpha 1 (step 1) and 2 (step 2)
    LearnedQuantizer q = Quantizers.learned(QuantSpec.parse("pact(bits=1, axis=channel)"));
    Map<String, INDArray> p = params(DataType.FLOAT, "alpha", new double[] {1, 2});
    INDArray x = f32(new long[] {2, 2}, 0.4, 0.9, 1.2, 3);
    QuantContext ctx = QuantContext.of(1);
    assertValues(new double[] {0, 0, 1, 2}, q.forward(x, p, ctx, Role.ACTIVATIONS).output(), 0);
    Map<String, INDArray> g = gradients(p);
    INDArray dx = q.backward(x, f32(new long[] {2, 2}, 1, 2, 3, 4), p, ctx, Role.ACTIVATIONS, g);
    assertValues(new double[] {1, 2, 0, 0}, dx, 0);
    assertValues(new double[] {3, 4}, g.get("alpha"), 0);
  }

  @Test
  void bits32IsTheLearnedClipAlone() {
    LearnedQuantizer q = Quantizers.learned(QuantSpec.parse("pact(bits=32)"));
    QuantResult r = q.forward(f64(-1, 0.123, 2.5, 4), params(DataType.DOUBLE, "alpha", new double[] {2.5}), T,
        Role.ACTIVATIONS);
    assertValues(new double[] {0, 0.123, 2.5, 2.5}, r.output(), 0);
    assertNull(r.codes());
  }

  @Test
  void declaresAlphaAtItsInitValueForActivationsOnly() {
    LearnedQuantizer q = Quantizers.learned(QuantSpec.parse("pact(bits=4, axis=channel, init=2.5)"));
    Map<String, INDArray> p = initial(q, Role.ACTIVATIONS, 3, DataType.FLOAT);
    assertValues(new double[] {2.5, 2.5, 2.5}, p.get("alpha"), 0);
    assertFalse(q.needsInit(p));
    assertEquals(6, QuantSpec.parse("pact(bits=4)").init());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> q.params(Role.WEIGHTS, 3));
    assertTrue(e.getMessage().contains("does not apply to weights; allowed: [activations]"), e.getMessage());
  }

  @Test
  void nonPositiveAlphaIsClampedNotDividedBy() {
    LearnedQuantizer q = Quantizers.learned(QuantSpec.parse("pact(bits=2)"));
    QuantResult r = q.forward(f32(1, 0), params(DataType.FLOAT, "alpha", new double[] {-0.5}), T, Role.ACTIVATIONS);
    assertValues(new double[] {PactQuantizer.MIN_ALPHA, 0}, r.output(), 1e-9);
  }

  @Test
  void rejectsNaNInputs() {
    LearnedQuantizer q = Quantizers.learned(QuantSpec.parse("pact(bits=2)"));
    assertThrows(IllegalArgumentException.class,
        () -> q.forward(f32(1, Double.NaN), params(DataType.FLOAT, "alpha", new double[] {1}), T, Role.ACTIVATIONS));
  }
}
