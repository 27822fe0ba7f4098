package io.qat4j.inference.format;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/** Shared checks and small helpers of the export format (code ranges, Qm.n names, the JSON mapper). */
public final class Formats {
  private Formats() {}

  /** Smallest code of a bits-bit integer: -2^(bits-1) signed, 0 unsigned. */
  public static int qmin(int bits, boolean signed) {
    return signed ? (int) -(1L << (bits - 1)) : 0;
  }

  /** Largest code of a bits-bit integer: 2^(bits-1)-1 signed, 2^bits-1 unsigned. */
  public static int qmax(int bits, boolean signed) {
    return signed ? (int) ((1L << (bits - 1)) - 1) : (int) ((1L << bits) - 1);
  }

  /** Checks a bit width: signed 2..32, unsigned 1..31. */
  public static void checkBits(int bits, boolean signed, String what) {
    int lo = signed ? 2 : 1;
    int hi = signed ? 32 : 31;
    if (bits < lo || bits > hi) {
      throw new IllegalArgumentException(what + " bits " + bits + " not allowed for "
          + (signed ? "signed" : "unsigned") + "; allowed: " + lo + ".." + hi);
    }
  }

  /** Checks a shape: non-empty, every dimension at least 1. */
  public static void checkShape(List<Integer> shape, String what) {
    if (shape == null || shape.isEmpty() || shape.stream().anyMatch(d -> d == null || d < 1)) {
      throw new IllegalArgumentException(what + " shape " + shape + " not allowed; allowed: non-empty, dims >= 1");
    }
  }

  /** Product of the dimensions. */
  public static int product(List<Integer> shape) {
    long p = 1;
    for (int d : shape) {
      p *= d;
    }
    if (p > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("shape " + shape + " has more than 2^31-1 elements");
    }
    return (int) p;
  }

  /**
   * The Qm.n name of a power-of-two scale 2^-n, or null: m = bits - n - 1 (signed) or bits - n (unsigned),
   * m counting integer bits without the sign bit (as in qat-layers' {@code fixed} quantizer).
   */
  public static String qFormat(int bits, boolean signed, double scale) {
    if (!(scale > 0) || Double.isInfinite(scale)) {
      return null;
    }
    int e = Math.getExponent(scale);
    if (Math.scalb(1.0, e) != scale) {
      return null;
    }
    int n = -e;
    int m = bits - n - (signed ? 1 : 0);
    return "Q" + m + "." + n;
  }

  /** The smallest npy integer dtype (int8, int16, int32) that holds every code of the format. */
  public static String dtypeFor(int bits, boolean signed) {
    int sig = signed ? bits : bits + 1;
    return sig <= 8 ? "int8" : sig <= 16 ? "int16" : "int32";
  }

  static String sorted(Collection<String> names) {
    return new TreeSet<>(names).toString();
  }

  /** The JSON mapper of manifests: ignores unknown fields (forward compatible), pretty prints. */
  public static ObjectMapper mapper() {
    return new ObjectMapper()
        .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
        .enable(SerializationFeature.INDENT_OUTPUT);
  }
}
