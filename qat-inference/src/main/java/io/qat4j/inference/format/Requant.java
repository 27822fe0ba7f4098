package io.qat4j.inference.format;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * Requantization of an int32 value to the output scale: an integer multiplier and a right shift.
 *
 * <p>kind "multiplier": y = RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x', M0), max(shift-31, 0)),
 * x' = x * 2^max(31-shift, 0) (saturating), which approximates x * M0 * 2^-shift with M0 in [2^30, 2^31)
 * (gemmlowp; TFLite {@code MultiplyByQuantizedMultiplier} with exponent 31 - shift). kind "shift":
 * y = RoundingDivideByPOT(x, shift) (a power-of-two scale ratio, one rounding). kind "single_round_multiplier":
 * y = saturate_int32((x * M0 + 2^(shift-1)) &gt;&gt; shift) on the exact 64-bit product (one rounding, half up; shift
 * 0..62; TFLite's {@code TFLITE_SINGLE_ROUNDING} form, natural for a DSP multiply followed by a rounding shift).
 * Optional {@code ties: "even"} (kinds shift and single_round_multiplier): exact halves round to the even
 * integer instead (round half to even, what a model trained with that rounding computes).
 * kind "sign" (binary outputs):
 * y = +1 if x &gt;= 0 else -1, no multiplier or shift (the sign of a value does not depend on its positive scale;
 * the exporter makes every channel's scale positive). One entry per output channel,
 * or one for the whole tensor. Exact definitions: {@code docs/export-format.md}, "Integer arithmetic".
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Requant(
    @JsonProperty("kind") String kind,
    @JsonProperty("multiplier") List<Integer> multiplier,
    @JsonProperty("shift") List<Integer> shift,
    @JsonProperty("ties") String ties) {

  /** Kind name of the gemmlowp multiplier-and-shift form. */
  public static final String MULTIPLIER = "multiplier";
  /** Kind name of the single-rounding multiplier (exact 64-bit product, one rounding shift). */
  public static final String SINGLE_ROUND_MULTIPLIER = "single_round_multiplier";
  /** Kind name of the pure rounding right shift. */
  public static final String SHIFT = "shift";
  /** Kind name of the sign function of binary outputs. */
  public static final String SIGN = "sign";

  /** Value of {@code ties}: exact halves round to the even integer. */
  public static final String TIES_EVEN = "even";

  /** A requantization with the kind's default tie rule. */
  public Requant(String kind, List<Integer> multiplier, List<Integer> shift) {
    this(kind, multiplier, shift, null);
  }

  /** This requantization with ties rounded to even (kinds shift and single_round_multiplier). */
  public Requant withTiesToEven() {
    return new Requant(kind, multiplier, shift, TIES_EVEN);
  }

  /** Whether exact halves round to the even integer. */
  public boolean tiesToEven() {
    return TIES_EVEN.equals(ties);
  }

  /** The sign requantization of binary outputs. */
  public static Requant sign() {
    return new Requant(SIGN, null, null);
  }

  /** Validates the fields. */
  public Requant {
    if (SIGN.equals(kind)) {
      if (multiplier != null || (shift != null && !shift.isEmpty())) {
        throw new IllegalArgumentException("requant kind sign takes no multiplier or shift");
      }
    } else if (shift == null || shift.isEmpty()) {
      throw new IllegalArgumentException("requant needs at least one shift");
    }
    if (MULTIPLIER.equals(kind) || SINGLE_ROUND_MULTIPLIER.equals(kind)) {
      if (multiplier == null || multiplier.size() != shift.size()) {
        throw new IllegalArgumentException("requant kind " + kind + " needs as many multipliers as shifts ("
            + shift.size() + "), got " + (multiplier == null ? "none" : multiplier.size()));
      }
      for (int i = 0; i < shift.size(); i++) {
        int m = multiplier.get(i);
        int s = shift.get(i);
        if (m != 0 && m < (1 << 30)) {
          throw new IllegalArgumentException("requant multiplier " + m + " not allowed; allowed: 0 or [2^30, 2^31)");
        }
        if (s < 0 || s > 62) {
          throw new IllegalArgumentException("requant shift " + s + " not allowed; allowed: 0..62");
        }
      }
      multiplier = List.copyOf(multiplier);
    } else if (SHIFT.equals(kind)) {
      if (multiplier != null) {
        throw new IllegalArgumentException("requant kind shift takes no multiplier");
      }
      for (int s : shift) {
        if (s < -31 || s > 31) {
          throw new IllegalArgumentException("requant shift " + s + " not allowed for kind shift; allowed: -31..31");
        }
      }
    } else if (!SIGN.equals(kind)) {
      throw new IllegalArgumentException("requant kind '" + kind + "' not allowed; allowed: multiplier, "
          + "single_round_multiplier, shift, sign");
    }
    if (ties != null && !(TIES_EVEN.equals(ties) && (SHIFT.equals(kind) || SINGLE_ROUND_MULTIPLIER.equals(kind)))) {
      throw new IllegalArgumentException("requant ties '" + ties + "' not allowed for kind " + kind + "; allowed: "
          + "\"even\" with kinds shift and single_round_multiplier, or no ties field (the kind's default rounding)");
    }
    shift = shift == null || SIGN.equals(kind) ? null : List.copyOf(shift);
  }

  /** Number of channels (1 = per tensor). */
  public int channels() {
    return shift == null ? 1 : shift.size();
  }
}
