package io.qat4j.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qat4j.inference.Requantizer.Multiplier;
import io.qat4j.inference.engine.FixedPoint;
import io.qat4j.inference.format.Requant;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Golden cases of the requantization arithmetic, each derived by hand from the gemmlowp / TFLite definitions
 * (derivations in the comments). Convention: real ~ M0 * 2^-shift, shift = 31 - TFLite's exponent.
 */
class RequantizerTest {

  /*
   * quantizeMultiplier (TFLite QuantizeMultiplier): frexp(r) = q * 2^e, q in [0.5, 1); M0 = round(q * 2^31).
   *   0.5        = 0.5 * 2^0   -> M0 = 2^30 = 1073741824, e = 0, shift 31
   *   1.0        = 0.5 * 2^1   -> M0 = 2^30, e = 1, shift 30
   *   0.75       = 0.75 * 2^0  -> M0 = 0.75 * 2^31 = 1610612736, shift 31
   *   0.1        = 0.8 * 2^-3  -> 0.8000000000000000444 * 2^31 = 1717986918.4 -> 1717986918, shift 34
   *   1/3        = 0.666.. * 2^-1 -> 2^32 / 3 = 1431655765.33 -> 1431655765, shift 32
   *   1 - 2^-40  = q * 2^0, q * 2^31 = 2^31 - 2^-9 -> rounds to 2^31 -> halved: 2^30, e = 1, shift 30
   *   2^-31      = 0.5 * 2^-30 -> 2^30, e = -30, shift 61
   *   2^-32      = 0.5 * 2^-31 -> 2^30, e = -31, shift 62
   *   2^-33      = 0.5 * 2^-32 -> e < -31: M0 = 0 (TFLite: 0 with shift 0 = our shift 31)
   *   0          -> M0 = 0, shift 31
   *   2^40       -> e = 41 > 30: M0 = 2^31 - 1, e = 30, shift 1 (TFLite clamps)
   *   0.0123     = 0.7872 * 2^-6 -> 0.7872 * 2^31 = 1690499127.7 -> 1690499128, shift 37
   */
  @ParameterizedTest
  @CsvSource({
      "0.5, 1073741824, 31",
      "1.0, 1073741824, 30",
      "0.75, 1610612736, 31",
      "0.1, 1717986918, 34",
      "0.3333333333333333, 1431655765, 32",
      "0.9999999999990905, 1073741824, 30",
      "4.656612873077393E-10, 1073741824, 61",
      "2.3283064365386963E-10, 1073741824, 62",
      "1.1641532182693481E-10, 0, 31",
      "0.0, 0, 31",
      "1.099511627776E12, 2147483647, 1",
      "0.0123, 1690499128, 37",
  })
  void quantizeMultiplierGoldens(double real, int m0, int shift) {
    assertEquals(new Multiplier(m0, shift), Requantizer.quantizeMultiplier(real));
  }

  @Test
  void quantizeMultiplierRejectsNegativeAndNaN() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Requantizer.quantizeMultiplier(-0.5));
    assertTrue(e.getMessage().contains("-0.5") && e.getMessage().contains("allowed"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Requantizer.quantizeMultiplier(Double.NaN));
  }

  /*
   * SaturatingRoundingDoublingHighMul(a, b) = trunc((a*b + nudge) / 2^31), nudge = 2^30 (a*b >= 0) or 1 - 2^30.
   *   (1000, 2^30): (1000*2^30 + 2^30) / 2^31 = 500.5 -> 500
   *   (3, 2^30):    (3*2^30 + 2^30) / 2^31 = 2 exactly -> 2          (1.5 -> 2)
   *   (-3, 2^30):   (-3*2^30 + 1 - 2^30) / 2^31 = -2 + 2^-31 -> -1  (-1.5 -> -1: halves go up)
   *   (-5, 2^30):   (-5*2^30 + 1 - 2^30) / 2^31 = -3 + 2^-31 -> -2  (-2.5 -> -2)
   *   (MIN, MIN):   the only overflow -> MAX
   *   (MAX, MAX):   ((2^31-1)^2 + 2^30) / 2^31 = 2^31 - 2 + (1 + 2^30)/2^31 -> 2147483646
   *   (1717986918 = M0 of 0.1, 1000): (1717986918000 + 2^30) / 2^31 = 800.4999998 -> 800
   */
  @ParameterizedTest
  @CsvSource({
      "1000, 1073741824, 500",
      "3, 1073741824, 2",
      "-3, 1073741824, -1",
      "-5, 1073741824, -2",
      "-2147483648, -2147483648, 2147483647",
      "2147483647, 2147483647, 2147483646",
      "1000, 1717986918, 800",
  })
  void saturatingRoundingDoublingHighMulGoldens(int a, int b, int expected) {
    assertEquals(expected, FixedPoint.saturatingRoundingDoublingHighMul(a, b));
  }

  /*
   * RoundingDivideByPOT(x, e): (x >> e) + (r > t), r = x & (2^e-1), t = (2^e-1) >> 1 (+1 if x < 0).
   *   (5, 1):  2 + (1 > 0) = 3          (2.5 -> 3)
   *   (-5, 1): -3 + (1 > 1) = -3        (-2.5 -> -3: half away from zero)
   *   (-3, 2): -1 + (1 > 2) = -1        (-0.75 -> -1)
   *   (6, 2):  1 + (2 > 1) = 2          (1.5 -> 2)
   *   (-6, 2): -2 + (2 > 2) = -2        (-1.5 -> -2)
   *   (7, 0):  7
   *   (-1, 31): -1 + (2^31-1 > 2^30) = 0
   */
  @ParameterizedTest
  @CsvSource({"5, 1, 3", "-5, 1, -3", "-3, 2, -1", "6, 2, 2", "-6, 2, -2", "7, 0, 7", "-1, 31, 0",
      "2147483647, 31, 1", "-2147483648, 31, -1"})
  void roundingDivideByPotGoldens(int x, int exponent, int expected) {
    assertEquals(expected, FixedPoint.roundingDivideByPot(x, exponent));
  }

  /*
   * Full requantization acc * r:
   *   r = 0.1 (1717986918, 34): 1000 -> SRDHM 800, RDBPOT(800, 3) = 100
   *                              15  -> SRDHM trunc(12.4999997) = 12, RDBPOT(12, 3): 1 + (4 > 3) = 2  (1.5 -> 2)
   *                              -15 -> SRDHM trunc(-12.4999997) = -12, RDBPOT(-12, 3): -2 + (4 > 4) = -2 (-1.5 -> -2)
   *   r = 1.0 (2^30, 30): left shift 1 then SRDHM(2x, 2^30) = x exactly: 12345 -> 12345
   *   r = 3.0 = 0.75 * 2^2 (1610612736, 29): 100 -> (400 * 0.75) = 300
   *   r = 2^40 clamped (2147483647, 1): 7 -> 7 * 2^30 saturates to 2^31 - 1 before SRDHM: (2^31-1)^2 / 2^31 -> 2147483646
   */
  @ParameterizedTest
  @CsvSource({
      "0.1, 1000, 100", "0.1, 15, 2", "0.1, -15, -2", "1.0, 12345, 12345", "3.0, 100, 300",
      "1.099511627776E12, 7, 2147483646"})
  void applyGoldens(double real, int acc, int expected) {
    assertEquals(expected, Requantizer.apply(acc, Requantizer.quantizeMultiplier(real)));
  }

  @Test
  void pureShiftRoundsOnce() {
    // 2^-3: 12 / 8 = 1.5 -> 2; -12 / 8 = -1.5 -> -2; 2^2 (shift -2): 5 * 4 = 20.
    assertEquals(2, FixedPoint.shiftRequant(12, 3));
    assertEquals(-2, FixedPoint.shiftRequant(-12, 3));
    assertEquals(20, FixedPoint.shiftRequant(5, -2));
    assertEquals(3, Requantizer.powerOfTwoShift(0.125));
    assertEquals(-2, Requantizer.powerOfTwoShift(4.0));
    assertNull(Requantizer.powerOfTwoShift(0.1));
    assertEquals(new Requant("shift", null, List.of(3, 1)), Requantizer.requant(0.125, 0.5));
    assertEquals(new Requant("multiplier", List.of(1717986918, 1073741824), List.of(34, 31)),
        Requantizer.requant(0.1, 0.5));
  }

  /*
   * Round half to even, x / 2^e:
   *   (5, 1) 2.5 -> 2; (7, 1) 3.5 -> 4; (-5, 1) -2.5 -> -2; (-7, 1) -3.5 -> -4
   *   (6, 2) 1.5 -> 2; (10, 2) 2.5 -> 2; (-6, 2) -1.5 -> -2; (-10, 2) -2.5 -> -2
   *   (11, 2) 2.75 -> 3; (9, 2) 2.25 -> 2; (-9, 2) -2.25 -> -2; (-11, 2) -2.75 -> -3; (7, 0) 7
   *   (3·2^40, 41) 1.5 -> 2 (beyond 32 bits: the exact 64-bit product of the single-rounding form)
   */
  @ParameterizedTest
  @CsvSource({"5, 1, 2", "7, 1, 4", "-5, 1, -2", "-7, 1, -4", "6, 2, 2", "10, 2, 2", "-6, 2, -2", "-10, 2, -2",
      "11, 2, 3", "9, 2, 2", "-9, 2, -2", "-11, 2, -3", "7, 0, 7", "3298534883328, 41, 2"})
  void roundingDivideByPotEvenGoldens(long x, int exponent, long expected) {
    assertEquals(expected, FixedPoint.roundingDivideByPotEven(x, exponent));
  }

  @Test
  void tiesToEvenRequantization() {
    // shift 1: 5 -> 2.5 -> 2 (the default kind rounds half away: 3); 7 -> 4 both ways; shift -2 is exact
    assertEquals(2, FixedPoint.shiftRequantEven(5, 1));
    assertEquals(3, FixedPoint.shiftRequant(5, 1));
    assertEquals(-2, FixedPoint.shiftRequantEven(-5, 1));
    assertEquals(20, FixedPoint.shiftRequantEven(5, -2));
    // single rounding, M0 = 2^30, s = 31 (r = 0.5): 5 -> 2.5 -> 2 (half up: 3), 3 -> 1.5 -> 2, -5 -> -2 (half up: -2)
    assertEquals(2, FixedPoint.singleRoundMultiplyEven(5, 1 << 30, 31));
    assertEquals(3, FixedPoint.singleRoundMultiply(5, 1 << 30, 31));
    assertEquals(2, FixedPoint.singleRoundMultiplyEven(3, 1 << 30, 31));
    assertEquals(-2, FixedPoint.singleRoundMultiplyEven(-5, 1 << 30, 31));
    // r = 0.75 (M0 = 1610612736, s = 31): 6 -> 4.5 -> 4; 10 -> 7.5 -> 8
    assertEquals(4, FixedPoint.singleRoundMultiplyEven(6, 1610612736, 31));
    assertEquals(8, FixedPoint.singleRoundMultiplyEven(10, 1610612736, 31));
    assertEquals(new Requant("shift", null, List.of(3), "even"), Requantizer.requant(true, true, 0.125));
    assertEquals(new Requant("single_round_multiplier", List.of(1717986918), List.of(34), "even"),
        Requantizer.requant(true, true, 0.1));
    // gemmlowp's two-rounding kind keeps its own rounding
    assertEquals(new Requant("multiplier", List.of(1717986918), List.of(34)), Requantizer.requant(false, true, 0.1));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Requant("multiplier", List.of(1717986918), List.of(34), "even"));
    assertTrue(e.getMessage().contains("ties 'even' not allowed for kind multiplier"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> new Requant("shift", null, List.of(3), "odd"));
  }

  @Test
  void requantApproximatesTheRealProductWithinHalfAnLsbPlusRounding() {
    java.util.Random r = new java.util.Random(7);
    for (int i = 0; i < 2000; i++) {
      double real = Math.scalb(0.5 + r.nextDouble() / 2, -1 - r.nextInt(20));
      int acc = r.nextInt(1 << 24) - (1 << 23);
      int y = Requantizer.apply(acc, Requantizer.quantizeMultiplier(real));
      assertTrue(Math.abs(y - acc * real) <= 0.5 + 1e-6 * Math.abs(acc * real) + 1e-9,
          "acc " + acc + " real " + real + " -> " + y);
    }
  }

  /**
   * The branch-free ties-to-even form of the fast engine equals the reference one: exact halves (M0 = 2^30 with shift
   * 31 halves x; M0 = 3 * 2^29 with shift 32 gives x * 3/8), extremes of x and M0, every shift 0..62, random values.
   */
  @Test
  void branchFreeTiesToEvenEqualsTheReference() {
    java.util.Random r = new java.util.Random(5);
    int[] xs = {0, 1, -1, 2, -2, 3, -3, 5, -5, 7, -7, 12, -12, Integer.MAX_VALUE, Integer.MIN_VALUE,
        Integer.MIN_VALUE + 1, 1 << 20, -(1 << 20)};
    int[] ms = {0, 1 << 30, 3 << 29, 1610612736, Integer.MAX_VALUE, 1073741825};
    long checked = 0;
    for (int s = 0; s <= 62; s++) {
      for (int m : ms) {
        for (int x : xs) {
          assertEquals(FixedPoint.singleRoundMultiplyEven(x, m, s), FixedPoint.singleRoundMultiplyEvenNoBranch(x, m, s),
              "x " + x + " M0 " + m + " shift " + s);
          checked++;
        }
        for (int k = 0; k < 300; k++) {
          int x = k % 3 == 0 ? r.nextInt() : r.nextInt(1 << 16) - (1 << 15);
          assertEquals(FixedPoint.singleRoundMultiplyEven(x, m, s), FixedPoint.singleRoundMultiplyEvenNoBranch(x, m, s),
              "x " + x + " M0 " + m + " shift " + s);
          checked++;
        }
      }
    }
    // halves: 5 / 2 = 2.5 -> 2, 7 / 2 = 3.5 -> 4, -5 / 2 -> -2, -7 / 2 -> -4; 12 * 3/8 = 4.5 -> 4, -12 * 3/8 -> -4
    assertEquals(2, FixedPoint.singleRoundMultiplyEvenNoBranch(5, 1 << 30, 31));
    assertEquals(4, FixedPoint.singleRoundMultiplyEvenNoBranch(7, 1 << 30, 31));
    assertEquals(-2, FixedPoint.singleRoundMultiplyEvenNoBranch(-5, 1 << 30, 31));
    assertEquals(-4, FixedPoint.singleRoundMultiplyEvenNoBranch(-7, 1 << 30, 31));
    assertEquals(4, FixedPoint.singleRoundMultiplyEvenNoBranch(12, 3 << 29, 32));
    assertEquals(-4, FixedPoint.singleRoundMultiplyEvenNoBranch(-12, 3 << 29, 32));
    assertTrue(checked > 100_000, "values checked: " + checked);
  }

  /*
   * Accumulator width: a + w + ceil(log2 fan_in) + bias.
   *   int8 x int8, fan-in 25 (5x5x1), bias: 8 + 8 + 5 + 1 = 22
   *   uint8 input with zp 128 (operand 9 bits) x int4 weights, fan-in 1024: 9 + 4 + 10 = 23
   *   binary weights (w = 1), int8 input, fan-in 512, bias: 8 + 1 + 9 + 1 = 19
   */
  @Test
  void accumulatorWidthGoldens() {
    assertEquals(22, AccumulatorWidth.required(8, 8, 25, true));
    assertEquals(23, AccumulatorWidth.required(AccumulatorWidth.operandBits(8, false, 128), 4, 1024, false));
    assertEquals(19, AccumulatorWidth.required(8, 1, 512, true));
    assertEquals(0, AccumulatorWidth.ceilLog2(1));
    assertEquals(9, AccumulatorWidth.operandBits(8, true, 3));
  }
}
