package io.qat4j.layers.quant.quantizers;

import static io.qat4j.layers.TestArrays.f32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qat4j.layers.quant.MinifloatFormat;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class MinifloatQuantizerTest {

  private static double q(String spec, double x) {
    return Quantizers.of(spec).forward(f32(x), QuantContext.perTensor()).output().getDouble(0);
  }

  @ParameterizedTest(name = "{0}({1}) = {2}")
  @CsvSource({
      // E4M3: bias 7, max 448, min normal 2^-6, min subnormal 2^-9, no infinity
      "fp8_e4m3, 448, 448",
      "fp8_e4m3, 464, 448",                 // tie between 448 (mantissa 110) and 480: to even
      "fp8_e4m3, 465, 448",                 // overflow saturates
      "fp8_e4m3, 1e6, 448",
      "fp8_e4m3, -1e6, -448",
      "fp8_e4m3, 1.0625, 1.0",              // tie 1.000|1.001 -> even
      "fp8_e4m3, 1.1875, 1.25",             // tie 1.001|1.010 -> even
      "fp8_e4m3, 0.015625, 0.015625",       // 2^-6 min normal
      "fp8_e4m3, 0.001953125, 0.001953125", // 2^-9 min subnormal
      "fp8_e4m3, 0.0009765625, 0",          // 2^-10: tie 0|2^-9 -> 0
      "fp8_e4m3, 0.00146484375, 0.001953125", // 0.75 * 2^-9 -> 2^-9
      "fp8_e4m3, 0.0048828125, 0.00390625", // 2.5 * 2^-9 -> 2 * 2^-9 (even)
      "fp8_e4m3, 0, 0",
      "'minifloat(e=4, m=3, inf=false, overflow=infinity)', 464, 448",
      "'minifloat(e=4, m=3, inf=false, overflow=infinity)', 465, NaN",
      // E5M2: bias 15, max 57344, min subnormal 2^-16, has infinity
      "fp8_e5m2, 57344, 57344",
      "fp8_e5m2, 60000, 57344",
      "fp8_e5m2, 61440, 57344",             // saturating by default
      "'minifloat(e=5, m=2, overflow=infinity)', 61440, Infinity",   // tie rounds to 2^16 -> inf
      "'minifloat(e=5, m=2, overflow=infinity)', -61440, -Infinity",
      "'minifloat(e=5, m=2, overflow=infinity)', 61439, 57344",
      "fp8_e5m2, 1.125, 1.0",
      "fp8_e5m2, 1.375, 1.5",
      "fp8_e5m2, 0.0000152587890625, 0.0000152587890625",  // 2^-16
      "fp8_e5m2, 0.00000762939453125, 0",                  // 2^-17 tie -> 0
      "fp16, 65504, 65504",
      "fp16, 0.1, 0.0999755859375",
      "bf16, 3.14159, 3.140625",
  })
  void goldens(String spec, double x, double expected) {
    double y = q(spec, x);
    if (Double.isNaN(expected)) {
      assertTrue(Double.isNaN(y), "got " + y);
    } else {
      assertEquals(expected, y, 0.0);
    }
  }

  @Test
  void formatConstants() {
    MinifloatFormat e4 = MinifloatFormat.of(QuantSpec.parse("fp8_e4m3"));
    assertEquals(448, e4.maxFinite());
    assertEquals(Math.scalb(1.0, -9), e4.minSubnormal());
    assertEquals(Math.scalb(1.0, -6), e4.minNormal());
    MinifloatFormat e5 = MinifloatFormat.of(QuantSpec.parse("fp8_e5m2"));
    assertEquals(57344, e5.maxFinite());
    assertEquals(Math.scalb(1.0, -16), e5.minSubnormal());
    assertEquals(Math.scalb(1.0, -14), e5.minNormal());
  }

  @Test
  void stochasticRoundingIsUnbiased() {
    int n = 10_000;
    INDArray in = Nd4j.valueArrayOf(new long[] {n}, 1.0625, DataType.FLOAT);
    var qz = Quantizers.of("minifloat(e=4, m=3, inf=false, rounding=stochastic)");
    INDArray out = qz.forward(in, QuantContext.perTensor().withSeed(3)).output();
    // neighbors 1 and 1.125, p = 0.5: sigma = 0.0625
    double mean = out.meanNumber().doubleValue();
    assertTrue(Math.abs(mean - 1.0625) < 4 * 0.0625 / Math.sqrt(n), "mean " + mean);
    assertEquals(out, qz.forward(in, QuantContext.perTensor().withSeed(3)).output());
  }
}
