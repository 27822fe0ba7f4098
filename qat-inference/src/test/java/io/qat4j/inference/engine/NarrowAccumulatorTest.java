package io.qat4j.inference.engine;

import static io.qat4j.inference.TestModels.act;
import static io.qat4j.inference.TestModels.list;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qat4j.inference.AccumulatorWidth;
import io.qat4j.inference.TestModels;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.IntTensor;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.inference.format.Requant;
import io.qat4j.inference.format.TensorSpec;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Narrow accumulators (Sakr et al., arXiv:1901.06588): a dense layer with x = 127 (x8) and w = 127 (x8), no
 * bias, shift-0 requantization into an int32 output, so the output is the accumulator itself.
 * Exact partial sums 16129 k (k = 1..8), final 129032, which needs 18 signed bits.
 * 16 bits, wrap: k=3 48387 -> 48387 - 65536 = -17149, k=4 -1020, k=5 15109, k=6 31238,
 *   k=7 47367 -> -18169, k=8 -2040: 2 overflows, result -2040 (= 129032 - 2^17).
 * 16 bits, saturate: k=3..8 each exceeds 32767 and is clamped: 6 overflows, result 32767.
 * 18 bits: no overflow, 129032. 17 bits, wrap: [-65536, 65535]; k=5 80645 -> -50427, k=6 -34298,
 *   k=7 -18169, k=8 -2040: 1 overflow, -2040.
 */
class NarrowAccumulatorTest {

  static ExportModel model() {
    TensorSpec ws = TestModels.weights("w.npy", list(1, 8), 8, true, "int", 0);
    LayerSpec fc = LayerSpec.builder("fc", "dense", "input").output(act(list(1, 1), 32, true, 1, 0)).weights(ws)
        .requant(new Requant("shift", null, List.of(0)))
        .accumulatorBits(AccumulatorWidth.required(8, 8, 8, false)).build();
    Map<String, IntTensor> t = TestModels.tensors();
    int[] w = new int[8];
    Arrays.fill(w, 127);
    t.put("w.npy", IntTensor.of(ws.shape(), w));
    return TestModels.model(act(list(1, 8), 8, true, 1, 0), List.of(fc), t);
  }

  @ParameterizedTest(name = "{0} bits {1}: {2} with {3} overflows")
  @CsvSource({"16, wrap, -2040, 2", "16, saturate, 32767, 6", "17, wrap, -2040, 1", "17, saturate, 65535, 4",
      "18, wrap, 129032, 0", "24, saturate, 129032, 0", "32, wrap, 129032, 0"})
  void overflowEventsAreCountedPerLayer(int bits, String mode, int expected, long overflows) {
    IntegerEngine e = new IntegerEngine(model(), new EngineConfig(bits, OverflowMode.fromName(mode)));
    int[] x = new int[8];
    Arrays.fill(x, 127);
    assertArrayEquals(new int[] {expected}, e.run(x));
    LayerStats s = e.stats().get(0);
    assertEquals(overflows, s.overflows());
    assertEquals(8, s.additions());
    assertEquals(18, s.bitsSeen());
    assertEquals(19, s.bitsDeclared());
    e.run(x);
    assertEquals(2 * overflows, e.stats().get(0).overflows());
    e.resetStats();
    assertEquals(0, e.stats().get(0).overflows());
  }

  @ParameterizedTest
  @CsvSource({"1", "33"})
  void accumulatorWidthIsValidated(int bits) {
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
        () -> new EngineConfig(bits, OverflowMode.WRAP));
    assertTrue(ex.getMessage().contains(Integer.toString(bits)) && ex.getMessage().contains("2..32"));
    ex = assertThrows(IllegalArgumentException.class, () -> OverflowMode.fromName("clip"));
    assertTrue(ex.getMessage().contains("clip") && ex.getMessage().contains("saturate"));
  }
}
