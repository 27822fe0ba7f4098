package io.qat4j.layers.quant.quantizers;

import static io.qat4j.layers.TestArrays.assertValues;
import static io.qat4j.layers.TestArrays.f32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.QParams;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.Quantizer;
import io.qat4j.layers.quant.Quantizers;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class QuantizerGoldenTest {
  private static final QuantContext T = QuantContext.perTensor();

  private static double[] parse(String s) {
    return Arrays.stream(s.trim().split("\\s+")).mapToDouble(Double::parseDouble).toArray();
  }

  private static void golden(String spec, String in, String expected, QuantContext ctx) {
    Quantizer q = Quantizers.of(spec);
    INDArray x = f32(parse(in));
    INDArray before = x.dup();
    QuantResult r = q.forward(x, ctx);
    assertValues(parse(expected), r.output(), 1e-6);
    assertEquals(DataType.FLOAT, r.output().dataType());
    assertArrayEquals(x.shape(), r.output().shape());
    assertEquals(before, x, "input must be untouched");
  }

  /** Rounding of ties (scale 1, zero point 0). */
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "fixed(m=7, n=0)                          | -2 -2 0 0 2 2 0 -1 4",
      "fixed(m=7, n=0, rounding=nearest_away)   | -3 -2 -1 1 2 3 0 -1 4",
      "fixed(m=7, n=0, rounding=floor)          | -3 -2 -1 0 1 2 0 -1 3",
      "fixed(m=7, n=0, rounding=toward_zero)    | -2 -1 0 0 1 2 0 0 3",
  })
  void roundingTies(String spec, String expected) {
    golden(spec, "-2.5 -1.5 -0.5 0.5 1.5 2.5 0.3 -0.7 3.5", expected, T);
  }

  /** Saturation and wrap-around of a 3-bit signed code (qmin -4, qmax 3). */
  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "fixed(m=2, n=0)                                | 3 -4 3 -4 -4",
      "fixed(m=2, n=0, overflow=saturate_symmetric)   | 3 -3 3 -3 -3",
      "fixed(m=2, n=0, overflow=wrap)                 | -3 3 3 3 -4",
      "fixed(m=1, n=1)                                | 1.5 -2 1.5 -2 -2",
      "fixed(m=1, n=1, overflow=wrap)                 | 1 -1 -0.5 -0.5 0",
  })
  void overflow(String spec, String expected) {
    golden(spec, "5 -5 3.4 -4.6 -4", expected, T);
  }

  @Test
  void fixedPointCodesAndScale() {
    QuantResult r = Quantizers.of("fixed(m=3, n=4)").forward(f32(0.1, -7.99, 9, 0.03125), T);
    assertValues(new double[] {0.125, -8, 7.9375, 0}, r.output(), 0);
    assertValues(new double[] {2, -128, 127, 0}, r.codes(), 0);
    assertValues(new double[] {0.0625}, r.scale(), 0);
  }

  @Test
  void dynamicFixedPointDerivesFractionalBits() {
    // max |x| = 2.5 -> m = 2, n = 8 - 1 - 2 = 5, step 1/32
    QuantResult r = Quantizers.of("fixed(bits=8, dynamic=true)").forward(f32(2.5, -1.01, 0.0), T);
    assertValues(new double[] {1.0 / 32}, r.scale(), 0);
    assertValues(new double[] {2.5, -1.0, 0}, r.output(), 0);
    assertEquals(5, FixedPointQuantizer.fracBitsFor(2.5, 8, true));
    assertEquals(7, FixedPointQuantizer.fracBitsFor(1.0, 8, true));
    assertEquals(7, FixedPointQuantizer.fracBitsFor(0.0, 8, true));
    assertEquals(9, FixedPointQuantizer.fracBitsFor(0.2, 8, true));
  }

  @Test
  void perChannelHandComputed() {
    // symmetric int8: scale = max|x| / 127.5; row 0 -> 1, row 1 -> 2
    INDArray x = f32(new long[] {2, 3}, 127.5, -3.5, 0.4, 255, 5, -2.9);
    QuantResult r = Quantizers.of("int(bits=8, axis=channel)").forward(x, QuantContext.of(0));
    assertValues(new double[] {127, -4, 0, 254, 4, -2}, r.output(), 0);
    assertValues(new double[] {1, 2}, r.scale(), 0);
    assertValues(new double[] {127, -4, 0, 127, 2, -1}, r.codes(), 0);
  }

  @Test
  void perGroupHandComputed() {
    // dense [nIn=4, nOut=2], channel axis 1, groups of 2 along nIn in each column; int4 symmetric
    // scale = max|x| / 7.5: groups (col0: rows0-1, rows2-3; col1: rows0-1, rows2-3) -> 0.25, 0.5, 1, 2
    INDArray x = f32(new long[] {4, 2}, 1.875, 7.5, -0.6, 3, 0.3, -15, 3.75, 1);
    QuantResult r = Quantizers.of("int(bits=4, group=2)").forward(x, QuantContext.of(1));
    assertValues(new double[] {1.75, 7, -0.5, 3, 0.5, -16, 3.5, 0}, r.output(), 0);
    assertArrayEquals(new long[] {2, 2}, r.scale().shape());
    assertValues(new double[] {0.25, 0.5, 1, 2}, r.scale(), 0);
  }

  @Test
  void groupWithoutAxisUsesCOrderRuns() {
    QuantResult r = Quantizers.of("int(bits=4, axis=tensor, group=3)").forward(f32(7.5, 1, 2, 15, 3, 1), T);
    assertValues(new double[] {1, 2}, r.scale(), 0);
    assertValues(new double[] {7, 1, 2, 14, 4, 0}, r.output(), 0);
  }

  @Test
  void affineUnsignedUsesZeroPoint() {
    // range [-1, 3] -> scale 4/15, zp = 0 - round(-1 / (4/15)) = 4 (float32 arithmetic)
    QParams p = QParams.fromRange(-1f, 3f, 0, 15, false, false);
    assertEquals(4f / 15f, p.scale());
    assertEquals(4, p.zeroPoint());
    QuantResult r = Quantizers.of("uint4").forward(f32(-1, 3, 0, 1), T);
    assertValues(new double[] {4}, r.zeroPoint(), 0);
    assertValues(new double[] {0, 15, 4, 8}, r.codes(), 0);
    assertEquals(0.0, r.output().getDouble(2), 0.0);
  }

  @ParameterizedTest
  @ValueSource(strings = {"int8", "uint8", "int(bits=4, symmetric=false)", "int(bits=8, axis=channel)",
      "fixed(bits=8, dynamic=true)", "binary(scale=tensor)", "ternary", "pow2", "dorefa_a", "fp8_e4m3",
      "dorefa_w"})
  void allZeroTensorGivesZeros(String spec) {
    INDArray x = Nd4j.zeros(DataType.FLOAT, 2, 3);
    QuantResult r = Quantizers.of(spec).forward(x, QuantContext.of(1));
    double[] out = NdArrays.read(r.output());
    for (double v : out) {
      assertEquals(0.0, spec.startsWith("binary") ? 0.0 : v, 0.0);
      assertTrue(Double.isFinite(v));
    }
    if (r.scale() != null) {
      for (double s : NdArrays.read(r.scale())) {
        assertTrue(Double.isFinite(s), "scale " + s);
      }
    }
  }

  @Test
  void zeroRangeScaleIsEps() {
    QuantResult r = Quantizers.of("int8").forward(f32(0, 0, 0), T);
    assertValues(new double[] {QParams.EPS}, r.scale(), 0);
    QuantResult c = Quantizers.of("uint8").forward(f32(2, 2, 2), T);
    assertValues(new double[] {2, 2, 2}, c.output(), 2.0 / 255 / 2 + 1e-7);
  }

  @ParameterizedTest
  @ValueSource(strings = {"int8", "uint4", "fixed(m=3, n=4)", "fixed(bits=8, dynamic=true)", "binary", "ternary",
      "dorefa_w", "dorefa_a", "pow2", "fp8_e4m3", "fp8_e5m2"})
  void nanAndInfinityAreRejected(String spec) {
    for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Quantizers.of(spec).forward(f32(1, bad, 2), T));
      assertTrue(e.getMessage().contains("flat index 1"), e.getMessage());
    }
  }

  @Test
  void channelAxisMissingFromContextIsAnError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Quantizers.of("int(bits=8, axis=channel)").forward(f32(1, 2), T));
    assertTrue(e.getMessage().contains("no channel axis"), e.getMessage());
  }

  @Test
  void observedRangeIsUsed() {
    QuantContext ctx = QuantContext.perTensor().withRange(f32(-1), f32(1));
    QuantResult r = Quantizers.of("int(bits=8, observer=ema)").forward(f32(0.5, 5), ctx);
    assertValues(new double[] {1f / 127.5f}, r.scale(), 0);
    assertEquals(127 / 127.5, r.output().getDouble(1), 1e-6);
  }

  @Test
  void doublePrecisionArraysStayDouble() {
    INDArray x = Nd4j.create(new double[] {0.1, -0.3}, new long[] {2}, DataType.DOUBLE);
    QuantResult r = Quantizers.of("int8").forward(x, T);
    assertEquals(DataType.DOUBLE, r.output().dataType());
  }

  @Test
  void stochasticRoundingIsUnbiasedAndReproducible() {
    int n = 10_000;
    double x = 0.3;
    INDArray in = Nd4j.valueArrayOf(new long[] {n}, x, DataType.FLOAT);
    Quantizer q = Quantizers.of("fixed(m=7, n=0, rounding=stochastic)");
    INDArray a = q.forward(in, T.withSeed(42)).output();
    double mean = a.meanNumber().doubleValue();
    double sigma = Math.sqrt(0.3 * 0.7);
    assertTrue(Math.abs(mean - x) < 4 * sigma / Math.sqrt(n), "mean " + mean);
    assertEquals(a, q.forward(in, T.withSeed(42)).output());
    assertNotEquals(a, q.forward(in, T.withSeed(43)).output());
    for (double v : NdArrays.read(a)) {
      assertTrue(v == 0 || v == 1);
    }
  }

  // ---- binary / ternary / dorefa / pow2 ----

  @Test
  void binary() {
    golden("binary", "-0.5 0 0.3 -2", "-1 1 1 -1", T);
    golden("binary(scale=tensor)", "-0.5 0 0.3 -2", "-0.7 0.7 0.7 -0.7", T);
    INDArray w = f32(new long[] {2, 2}, 1, -2, -3, 4);
    QuantResult r = Quantizers.of("binary(scale=channel)").forward(w, QuantContext.of(1));
    assertValues(new double[] {2, -3, -2, 3}, r.output(), 0);
    assertValues(new double[] {1, -1, -1, 1}, r.codes(), 0);
  }

  @Test
  void stochasticBinaryIsUnbiasedInTrainingAndDeterministicOtherwise() {
    int n = 10_000;
    INDArray in = Nd4j.valueArrayOf(new long[] {n}, 0.2, DataType.FLOAT);
    Quantizer q = Quantizers.of("binary(stochastic=true)");
    double mean = q.forward(in, T.withSeed(7)).output().meanNumber().doubleValue();
    // P(+1) = 0.6 -> E = 0.2, sigma = sqrt(1 - 0.04)
    assertTrue(Math.abs(mean - 0.2) < 4 * Math.sqrt(0.96) / Math.sqrt(n), "mean " + mean);
    assertEquals(q.forward(in, T.withSeed(7)).output(), q.forward(in, T.withSeed(7)).output());
    assertEquals(1.0, q.forward(in, T.withTraining(false)).output().minNumber().doubleValue());
  }

  @Test
  void ternary() {
    // row 1: mean|x| = 2.0667, delta = 1.4467, alpha = mean(2, 4) = 3
    // mean|x| = 0.625, delta = 0.4375, alpha = mean(0.5, 1.0, 1.2, 0.9) = 0.9
    golden("ternary", "0.1 -0.5 1.0 -1.2 0.05 0.9", "0 -0.9 0.9 -0.9 0 0.9", T);
    INDArray w = f32(new long[] {2, 3}, 1, -1, 0.1, 2, 0.2, -4);
    QuantResult r = Quantizers.of("ternary(scale=channel)").forward(w, QuantContext.of(0));
    assertValues(new double[] {1, -1, 0, 3, 0, -3}, r.output(), 1e-6);
    assertValues(new double[] {1, -1, 0, 1, 0, -1}, r.codes(), 0);
    golden("ternary(threshold=0)", "0.5 -0.5 0 1", "0.6666667 -0.6666667 0 0.6666667", T);
  }

  @Test
  void dorefaWeights() {
    // tanh -> [0, .7616, -.7616, .4621]; r = [0.5, 1, 0, .8034]; 3r = [1.5, 3, 0, 2.41] -> [2, 3, 0, 2]
    QuantResult r = Quantizers.of("dorefa_w").forward(f32(0, 1, -1, 0.5), T);
    assertValues(new double[] {1.0 / 3, 1, -1, 1.0 / 3}, r.output(), 1e-6);
    assertValues(new double[] {2, 3, 0, 2}, r.codes(), 0);
    golden("dorefa_w(bits=2, rounding=nearest_away)", "0 1 -1", "0.33333334 1 -1", T);
    golden("dorefa_w(bits=2, rounding=floor)", "0 1 -1", "-0.33333334 1 -1", T);
  }

  @Test
  void dorefaActivations() {
    golden("dorefa_a", "-1 0.1 0.5 0.2 0.9 2", "0 0 0.6666667 0.33333334 1 1", T);
    golden("dorefa_a(bits=4)", "0.5 0.0333333", "0.53333336 0.0", T);
  }

  @Test
  void powerOfTwo() {
    // s = 0.9 -> n1 = 0, n2 = -3: levels 1, 1/2, 1/4, 1/8; below 1/16 -> 0; 0.75 is the 1/2|1 midpoint -> 1
    QuantResult r = Quantizers.of("pow2").forward(f32(0.9, -0.4, 0.1, 0.02, 0.0625, -0.75), T);
    assertValues(new double[] {1, -0.5, 0.125, 0, 0.125, -1}, r.output(), 0);
    assertValues(new double[] {8, -4, 1, 0, 1, -8}, r.codes(), 0);
    assertValues(new double[] {0.125}, r.scale(), 0);
    golden("pow2(bits=2)", "0.9 0.49 0.5 -0.6", "1 0 1 -1", T);
    // s = 3 -> n1 = 2, n2 = 1: levels 4, 2; below 1 -> 0
    golden("pow2(bits=3)", "3 1 0.7 0.3", "4 2 0 0", T);
  }

  @Test
  void floatIsIdentityCopy() {
    INDArray x = f32(0.1, Double.NaN);
    QuantResult r = Quantizers.of("float").forward(x, T);
    assertFalse(r.output() == x);
    assertEquals(0.1f, r.output().getFloat(0));
    assertTrue(r.codes() == null);
  }
}
