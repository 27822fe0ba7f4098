package io.qat4j.inference;

import io.qat4j.inference.engine.FixedPoint;
import io.qat4j.inference.format.Requant;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a real requantization multiplier into an integer multiplier and shift, and applies it.
 *
 * <p>quantizeMultiplier(r): r = q * 2^e with q in [0.5, 1) (frexp), M0 = round(q * 2^31) (half away from
 * zero); if M0 = 2^31 then M0 = 2^30, e = e + 1; if e &lt; -31 then M0 = 0, e = 0; if e &gt; 30 then
 * M0 = 2^31 - 1, e = 30; shift = 31 - e, so r ~ M0 * 2^-shift (TFLite {@code QuantizeMultiplier},
 * {@code tensorflow/lite/kernels/internal/quantization_util.cc}). For a conv or dense layer
 * r[c] = input_scale * weight_scale[c] / output_scale (Jacob et al., arXiv:1712.05877, eq. (5)).
 */
public final class Requantizer {
  private Requantizer() {}

  /** An integer multiplier M0 (0 or in [2^30, 2^31)) with total right shift: real ~ m0 * 2^-shift. */
  public record Multiplier(int m0, int shift) {}

  /** TFLite's QuantizeMultiplier in this module's total-shift convention (see the class comment). */
  public static Multiplier quantizeMultiplier(double real) {
    if (!(real >= 0) || Double.isInfinite(real)) {
      throw new IllegalArgumentException("real multiplier " + real + " not allowed; allowed: finite >= 0");
    }
    if (real == 0) {
      return new Multiplier(0, 31);
    }
    int e = Math.getExponent(real) + 1;
    if (e < -40) {
      return new Multiplier(0, 31);
    }
    double q = Math.scalb(real, -e);
    long fixed = Math.round(q * (1L << 31));
    if (fixed == 1L << 31) {
      fixed /= 2;
      e++;
    }
    if (e < -31) {
      return new Multiplier(0, 31);
    }
    if (e > 30) {
      e = 30;
      fixed = (1L << 31) - 1;
    }
    return new Multiplier((int) fixed, 31 - e);
  }

  /** Applies a multiplier to an int32 accumulator: RoundingDivideByPOT(SRDHM(...)). */
  public static int apply(int acc, Multiplier m) {
    return FixedPoint.multiplyByQuantizedMultiplier(acc, m.m0(), m.shift());
  }

  /** The right shift s if real = 2^-s exactly with s in -31..31, otherwise null. */
  public static Integer powerOfTwoShift(double real) {
    if (!(real > 0) || Double.isInfinite(real)) {
      return null;
    }
    int e = Math.getExponent(real);
    return Math.scalb(1.0, e) == real && e >= -31 && e <= 31 ? -e : null;
  }

  /**
   * The {@link Requant} of a layer from its real multipliers (one per channel, or one): kind "shift" when
   * every multiplier is an exact power of two 2^-s, otherwise kind "multiplier".
   */
  public static Requant requant(double... reals) {
    return requant(false, reals);
  }

  /**
   * As {@link #requant(double...)}, with kind "single_round_multiplier" instead of "multiplier" when
   * {@code singleRound}.
   */
  public static Requant requant(boolean singleRound, double... reals) {
    return requant(singleRound, false, reals);
  }

  /**
   * As {@link #requant(boolean, double...)}; with {@code tiesToEven} a kind "shift" or "single_round_multiplier"
   * result rounds exact halves to even (the gemmlowp kind "multiplier" keeps its own rounding).
   */
  public static Requant requant(boolean singleRound, boolean tiesToEven, double... reals) {
    Requant r = requant0(singleRound, reals);
    return tiesToEven && !Requant.MULTIPLIER.equals(r.kind()) ? r.withTiesToEven() : r;
  }

  private static Requant requant0(boolean singleRound, double... reals) {
    if (reals.length == 0) {
      throw new IllegalArgumentException("requant needs at least one real multiplier; got none");
    }
    List<Integer> shifts = new ArrayList<>();
    boolean pow2 = true;
    for (double r : reals) {
      Integer s = powerOfTwoShift(r);
      pow2 &= s != null;
      shifts.add(s);
    }
    if (pow2) {
      return new Requant(Requant.SHIFT, null, shifts);
    }
    return multipliers(singleRound, reals);
  }

  /** The {@link Requant} of kind "multiplier" for the given real multipliers. */
  public static Requant multipliers(double... reals) {
    return multipliers(false, reals);
  }

  /** The {@link Requant} of kind "single_round_multiplier" ({@code singleRound}) or "multiplier". */
  public static Requant multipliers(boolean singleRound, double... reals) {
    List<Integer> ms = new ArrayList<>();
    List<Integer> shifts = new ArrayList<>();
    for (double r : reals) {
      Multiplier m = quantizeMultiplier(r);
      ms.add(m.m0());
      shifts.add(m.shift());
    }
    return new Requant(singleRound ? Requant.SINGLE_ROUND_MULTIPLIER : Requant.MULTIPLIER, ms, shifts);
  }
}
