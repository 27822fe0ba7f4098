package io.qat4j.layers.quant;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonValue;

/**
 * Immutable description of what one quantization site does, written and read as a strict spec string.
 *
 * <p>Grammar: a shorthand ({@code float}, {@code intN}, {@code uintN}, {@code binary},
 * {@code ternary}, {@code fp8_e4m3}, {@code fp8_e5m2}, {@code fp16}, {@code bf16}) or
 * {@code name(key=value, ...)} with name one of {@code int, fixed, binary, ternary, dorefa_w,
 * dorefa_a, pow2, minifloat, float}, the learned kinds {@code pact, lsq, qil, ttq} (see
 * {@link LearnedQuantizer}) or {@code sawb}. {@link #toString()} prints the canonical text: the shorthand
 * when the spec equals one, else the general form with the arguments that differ from their
 * defaults, in a fixed order. {@code parse(s.toString()).equals(s)} always holds. The full table of
 * keys, defaults and allowed values is in {@code docs/quantizers.md}.
 *
 * <p>Forward formula and gradient depend on the kind; see the quantizer classes in
 * {@code io.qat4j.layers.quant.quantizers}. Inspired by QKeras's {@code quantized_bits(4,0,1)}
 * strings (Coelho et al., arXiv:2006.10159), but keyword-based and strict.
 *
 * <p>Example spec string: {@code int(bits=4, axis=channel, narrow=true, observer=ema(0.01))}.
 *
 * <p>Serialization: Java-serializable, and Jackson (DL4J's shaded copy) writes it as its canonical
 * string.
 */
public final class QuantSpec implements Serializable {
  private static final long serialVersionUID = 1L;

  /** {@link #axis()} value for per-tensor granularity ({@code axis=tensor}). */
  public static final int AXIS_TENSOR = -1;
  /** {@link #axis()} value for "the layer's channel axis" ({@code axis=channel}). */
  public static final int AXIS_CHANNEL = -2;

  private static final Pattern INT_SHORT = Pattern.compile("(u?)int([0-9]+)");

  private final QuantKind kind;
  private final int bits;
  private final boolean signed;
  private final boolean symmetric;
  private final boolean narrow;
  private final int axis;
  private final int group;
  private final RoundingMode rounding;
  private final OverflowMode overflow;
  private final ObserverSpec observer;
  private final EstimatorKind ste;
  private final int intBits;
  private final int fracBits;
  private final boolean dynamic;
  private final boolean scaled;
  private final boolean stochastic;
  private final double threshold;
  private final int expBits;
  private final int manBits;
  private final int bias;
  private final boolean inf;
  private final double init;
  private final double l2;
  private final double lrScale;
  private final String canonical;

  /** Default initial clipping level of PACT ({@code init}). */
  public static final double PACT_INIT = 6;
  /** Default threshold factor of TTQ, delta = 0.05 max|w| as in the paper. */
  public static final double TTQ_THRESHOLD = 0.05;

  /** {@code float}: no quantization. */
  public static final QuantSpec FLOAT = parse("float");

  private QuantSpec(B b) {
    this.kind = b.kind;
    this.bits = b.bits;
    this.signed = b.signed;
    this.symmetric = b.symmetric;
    this.narrow = b.narrow;
    this.axis = b.axis;
    this.group = b.group;
    this.rounding = b.rounding;
    this.overflow = b.overflow;
    this.observer = b.observer;
    this.ste = b.ste;
    this.intBits = b.intBits;
    this.fracBits = b.fracBits;
    this.dynamic = b.dynamic;
    this.scaled = b.scaled;
    this.stochastic = b.stochastic;
    this.threshold = b.threshold;
    this.expBits = b.expBits;
    this.manBits = b.manBits;
    this.bias = b.bias;
    this.inf = b.inf;
    this.init = b.init;
    this.l2 = b.l2;
    this.lrScale = b.lrScale;
    this.canonical = print(b);
  }

  // ---------------------------------------------------------------- parsing

  /**
   * Parses a spec string strictly.
   *
   * @throws IllegalArgumentException for unknown names, keys or bad values, listing the allowed ones
   */
  @JsonCreator
  public static QuantSpec parse(String text) {
    SpecSyntax.Node node = SpecSyntax.parse(text);
    B b = isKindName(node.name()) && node.hasArgs() ? null : shorthand(node.name());
    if (b != null) {
      if (node.hasArgs()) {
        throw new IllegalArgumentException("shorthand '" + node.name() + "' takes no arguments; use the general"
            + " form, e.g. int(bits=8, axis=channel) or minifloat(e=4, m=3, inf=false, rounding=stochastic)");
      }
      return new QuantSpec(b.validate());
    }
    QuantKind kind = QuantKind.fromSpecName(node.name());
    B d = new B(kind);
    Set<String> seen = new HashSet<>();
    List<String> allowed = keys(kind);
    if (node.hasArgs()) {
      for (SpecSyntax.Arg a : node.args()) {
        if (a.key() == null) {
          throw new IllegalArgumentException("'" + kind.specName() + "' arguments must be key=value, got '"
              + a.value().name() + "'; allowed keys: " + String.join(", ", allowed));
        }
        if (!allowed.contains(a.key())) {
          throw new IllegalArgumentException("'" + kind.specName() + "' has no key '" + a.key() + "'; allowed keys: "
              + (allowed.isEmpty() ? "(none)" : String.join(", ", allowed)));
        }
        if (!seen.add(a.key())) {
          throw new IllegalArgumentException("key '" + a.key() + "' given twice in '" + text + "'");
        }
        d.set(a.key(), a.value());
      }
    }
    return new QuantSpec(d.validate());
  }

  private static boolean isKindName(String name) {
    for (QuantKind k : QuantKind.values()) {
      if (k.specName().equals(name)) {
        return true;
      }
    }
    return false;
  }

  private static B shorthand(String name) {
    Matcher m = INT_SHORT.matcher(name);
    if (m.matches()) {
      B b = new B(QuantKind.INT);
      int n;
      try {
        n = Integer.parseInt(m.group(2));
      } catch (NumberFormatException e) {
        n = -1;
      }
      if (n < 1 || n > 16) {
        throw new IllegalArgumentException("bits in '" + name + "' must be in [1, 16], got " + m.group(2));
      }
      b.bits = n;
      b.signed = m.group(1).isEmpty();
      b.symmetric = b.signed;
      return b;
    }
    switch (name) {
      case "binary":
        return new B(QuantKind.BINARY);
      case "ternary":
        return new B(QuantKind.TERNARY);
      case "fp8_e4m3":
        return minifloat(4, 3, false);
      case "fp8_e5m2":
        return minifloat(5, 2, true);
      case "fp16":
        return minifloat(5, 10, true);
      case "bf16":
        return minifloat(8, 7, true);
      default:
        return null;
    }
  }

  private static B minifloat(int e, int m, boolean inf) {
    B b = new B(QuantKind.MINIFLOAT);
    b.expBits = e;
    b.manBits = m;
    b.intBitsSet = m;
    b.bias = (1 << (e - 1)) - 1;
    b.inf = inf;
    return b;
  }

  /** The keys each kind accepts, in canonical printing order. */
  static List<String> keys(QuantKind kind) {
    return switch (kind) {
      case FLOAT -> List.of();
      case INT -> List.of("bits", "signed", "symmetric", "narrow", "axis", "group", "rounding", "overflow",
          "observer", "ste");
      case FIXED -> List.of("m", "n", "bits", "dynamic", "signed", "axis", "group", "rounding", "overflow",
          "observer", "ste");
      case BINARY -> List.of("scale", "stochastic", "ste");
      case TERNARY -> List.of("threshold", "scale", "ste");
      case DOREFA_W -> List.of("bits", "rounding", "ste");
      case DOREFA_A -> List.of("bits", "rounding", "ste");
      case POW2 -> List.of("bits", "axis", "ste");
      case MINIFLOAT -> List.of("e", "m", "bias", "inf", "overflow", "rounding", "ste");
      case PACT -> List.of("bits", "axis", "init", "l2", "lr_scale");
      case LSQ -> List.of("bits", "signed", "axis", "lr_scale");
      case QIL -> List.of("bits", "lr_scale");
      case TTQ -> List.of("threshold", "lr_scale");
      case SAWB -> List.of("bits", "ste");
    };
  }

  /** Mutable parse state with per-kind defaults. */
  private static final class B {
    final QuantKind kind;
    int bits;
    boolean signed = true;
    Boolean symmetricSet;
    boolean symmetric = true;
    boolean narrow;
    Integer axisSet;
    int axis = AXIS_TENSOR;
    int group;
    RoundingMode rounding = RoundingMode.NEAREST_EVEN;
    OverflowMode overflow = OverflowMode.SATURATE;
    ObserverSpec observer = ObserverSpec.NONE;
    EstimatorKind ste;
    Integer intBitsSet;
    Integer fracBitsSet;
    Integer bitsSet;
    int intBits;
    int fracBits;
    boolean dynamic;
    boolean scaled;
    boolean stochastic;
    double threshold = 0.7;
    int expBits;
    int manBits;
    Integer biasSet;
    int bias;
    boolean inf = true;
    double init = PACT_INIT;
    double l2;
    double lrScale = 1;

    B(QuantKind kind) {
      this.kind = kind;
      this.ste = defaultSte(kind);
      switch (kind) {
        case INT -> bits = 8;
        case BINARY -> bits = 1;
        case TERNARY -> {
          bits = 2;
          scaled = true;
        }
        case DOREFA_W, DOREFA_A, SAWB -> bits = 2;
        case POW2 -> bits = 4;
        case FLOAT -> bits = 32;
        case PACT, LSQ, QIL -> bits = 4;
        case TTQ -> {
          bits = 2;
          threshold = TTQ_THRESHOLD;
        }
        default -> { }
      }
    }

    void set(String key, SpecSyntax.Node v) {
      switch (key) {
        case "bits" -> {
          int lo = kind == QuantKind.POW2 || kind == QuantKind.QIL || kind == QuantKind.SAWB ? 2 : 1;
          int hi = kind == QuantKind.FIXED ? 24 : kind == QuantKind.PACT || kind == QuantKind.QIL ? 32 : 16;
          bitsSet = SpecSyntax.integer(v, key, lo, hi);
          bits = bitsSet;
        }
        case "signed" -> signed = SpecSyntax.bool(v, key);
        case "symmetric" -> symmetricSet = SpecSyntax.bool(v, key);
        case "narrow" -> narrow = SpecSyntax.bool(v, key);
        case "axis" -> {
          String w = SpecSyntax.word(v, key);
          if (w.equals("tensor")) {
            axisSet = AXIS_TENSOR;
          } else if (w.equals("channel")) {
            axisSet = AXIS_CHANNEL;
          } else {
            try {
              axisSet = Integer.parseInt(w);
            } catch (NumberFormatException e) {
              axisSet = -3;
            }
            if (axisSet < 0 || axisSet > 7) {
              throw new IllegalArgumentException("value of 'axis' must be tensor, channel or an integer in [0, 7],"
                  + " got '" + w + "'");
            }
          }
        }
        case "group" -> group = SpecSyntax.integer(v, key, 1, 1 << 20);
        case "rounding" -> rounding = RoundingMode.fromSpecName(SpecSyntax.word(v, key));
        case "overflow" -> overflow = OverflowMode.fromSpecName(SpecSyntax.word(v, key));
        case "observer" -> observer = ObserverSpec.fromNode(v);
        case "ste" -> ste = EstimatorKind.fromSpecName(SpecSyntax.word(v, key));
        case "m" -> {
          if (kind == QuantKind.MINIFLOAT) {
            manBits = SpecSyntax.integer(v, key, 0, 10);
            intBitsSet = manBits;
          } else {
            intBitsSet = SpecSyntax.integer(v, key, 0, 23);
          }
        }
        case "n" -> fracBitsSet = SpecSyntax.integer(v, key, 0, 23);
        case "dynamic" -> dynamic = SpecSyntax.bool(v, key);
        case "scale" -> {
          String w = SpecSyntax.word(v, key);
          switch (w) {
            case "none" -> {
              if (kind == QuantKind.TERNARY) {
                throw new IllegalArgumentException("ternary 'scale' must be tensor or channel, got 'none'");
              }
              scaled = false;
              axisSet = AXIS_TENSOR;
            }
            case "tensor" -> {
              scaled = true;
              axisSet = AXIS_TENSOR;
            }
            case "channel" -> {
              scaled = true;
              axisSet = AXIS_CHANNEL;
            }
            default -> throw new IllegalArgumentException("value of 'scale' must be "
                + (kind == QuantKind.TERNARY ? "tensor or channel" : "none, tensor or channel") + ", got '" + w + "'");
          }
        }
        case "stochastic" -> stochastic = SpecSyntax.bool(v, key);
        case "threshold" -> threshold = SpecSyntax.number(v, key, 0, 10, false);
        case "e" -> expBits = SpecSyntax.integer(v, key, 1, 8);
        case "bias" -> biasSet = SpecSyntax.integer(v, key, -64, 255);
        case "inf" -> inf = SpecSyntax.bool(v, key);
        case "init" -> init = SpecSyntax.number(v, key, 0, 1e6, true);
        case "l2" -> l2 = SpecSyntax.number(v, key, 0, 1, false);
        case "lr_scale" -> lrScale = SpecSyntax.number(v, key, 0, 1e4, true);
        default -> throw new IllegalStateException(key);
      }
    }

    B validate() {
      if (axisSet != null) {
        axis = axisSet;
      } else if (group > 0) {
        axis = AXIS_CHANNEL;
      }
      switch (kind) {
        case INT -> {
          symmetric = symmetricSet != null ? symmetricSet : signed;
          if (signed && bits < 2) {
            throw new IllegalArgumentException("signed int needs bits >= 2, got " + bits + "; use binary for 1 bit");
          }
          if (narrow && !signed) {
            throw new IllegalArgumentException("narrow=true needs signed=true (it drops the code -2^(bits-1))");
          }
          checkOverflow(OverflowMode.SATURATE, OverflowMode.SATURATE_SYMMETRIC, OverflowMode.WRAP);
          checkSte(EstimatorKind.IDENTITY, EstimatorKind.CLIPPED);
        }
        case FIXED -> {
          if (dynamic) {
            if (bitsSet == null || intBitsSet != null || fracBitsSet != null) {
              throw new IllegalArgumentException("fixed(dynamic=true) needs bits and no m or n, e.g. fixed(bits=8,"
                  + " dynamic=true)");
            }
          } else {
            if (intBitsSet == null || fracBitsSet == null || bitsSet != null) {
              throw new IllegalArgumentException("fixed needs m and n (Qm.n; bits = 1+m+n when signed, m+n when"
                  + " unsigned) and no bits, e.g. fixed(m=3, n=4); or fixed(bits=8, dynamic=true)");
            }
            if (!observer.isNone()) {
              throw new IllegalArgumentException("fixed(m, n) has a fixed scale 2^-n; an observer is only allowed"
                  + " with dynamic=true");
            }
            intBits = intBitsSet;
            fracBits = fracBitsSet;
            bits = (signed ? 1 : 0) + intBits + fracBits;
            if (bits < 1 || bits > 24) {
              throw new IllegalArgumentException("fixed total bits (" + (signed ? "1+" : "") + "m+n) must be in"
                  + " [1, 24], got " + bits);
            }
          }
          if (signed && bits < 2) {
            throw new IllegalArgumentException("signed fixed point needs at least 2 bits, got " + bits);
          }
          checkOverflow(OverflowMode.SATURATE, OverflowMode.SATURATE_SYMMETRIC, OverflowMode.WRAP);
          checkSte(EstimatorKind.IDENTITY, EstimatorKind.CLIPPED);
        }
        case BINARY -> checkSte(EstimatorKind.HARDTANH, EstimatorKind.APPROX_SIGN, EstimatorKind.IDENTITY,
            EstimatorKind.CLIPPED);
        case TERNARY -> checkSte(EstimatorKind.IDENTITY, EstimatorKind.CLIPPED, EstimatorKind.HARDTANH);
        case DOREFA_W -> checkSte(EstimatorKind.DOREFA_W, EstimatorKind.IDENTITY);
        case DOREFA_A -> checkSte(EstimatorKind.CLIPPED, EstimatorKind.IDENTITY);
        case POW2 -> {
          if (axis != AXIS_TENSOR && axis != AXIS_CHANNEL && axis < 0) {
            throw new IllegalArgumentException("pow2 axis must be tensor, channel or an integer");
          }
          checkSte(EstimatorKind.IDENTITY, EstimatorKind.CLIPPED);
        }
        case MINIFLOAT -> {
          if (expBits == 0 || intBitsSet == null) {
            throw new IllegalArgumentException("minifloat needs e (exponent bits, 1..8) and m (mantissa bits, 0..10),"
                + " e.g. minifloat(e=4, m=3, inf=false)");
          }
          if (expBits < 2) {
            throw new IllegalArgumentException("minifloat e must be in [2, 8], got " + expBits);
          }
          bias = biasSet != null ? biasSet : (1 << (expBits - 1)) - 1;
          bits = 1 + expBits + manBits;
          if (!inf && manBits == 0) {
            throw new IllegalArgumentException("minifloat with inf=false needs m >= 1 (the all-ones mantissa of the top"
                + " exponent is NaN)");
          }
          double maxFinite = MinifloatFormat.maxFinite(expBits, manBits, bias, inf);
          double minSub = Math.scalb(1.0, 1 - bias - manBits);
          if (maxFinite > Float.MAX_VALUE || minSub < Float.MIN_VALUE) {
            throw new IllegalArgumentException("minifloat e=" + expBits + ", m=" + manBits + ", bias=" + bias
                + " does not fit in float32 (max " + maxFinite + ", min subnormal " + minSub + ")");
          }
          checkOverflow(OverflowMode.SATURATE, OverflowMode.INFINITY);
          if (rounding != RoundingMode.NEAREST_EVEN && rounding != RoundingMode.STOCHASTIC) {
            throw new IllegalArgumentException("minifloat rounding must be nearest_even or stochastic, got '"
                + rounding.specName() + "'");
          }
          checkSte(EstimatorKind.IDENTITY, EstimatorKind.CLIPPED);
        }
        case PACT -> {
          checkBitsOr32();
          checkTensorOrChannel();
        }
        case LSQ -> {
          if (signed && bits < 2) {
            throw new IllegalArgumentException("signed lsq needs bits >= 2 (Qp = 2^(bits-1) - 1 must be >= 1), got "
                + bits + "; use lsq(bits=1, signed=false) for one unsigned bit");
          }
          checkTensorOrChannel();
        }
        case QIL -> checkBitsOr32();
        case TTQ -> {
          if (!(threshold > 0 && threshold < 1)) {
            throw new IllegalArgumentException("ttq threshold t (delta = t max|w|) must be in (0, 1), got "
                + SpecSyntax.format(threshold));
          }
        }
        case SAWB -> {
          if (SawbCoefficients.of(bits) == null) {
            throw new IllegalArgumentException("sawb bits must be one of " + SawbCoefficients.bitWidths()
                + " (the bit widths with published coefficients), got " + bits);
          }
          checkSte(EstimatorKind.CLIPPED, EstimatorKind.IDENTITY);
        }
        case FLOAT -> { }
      }
      if (group > 0 && kind != QuantKind.INT && kind != QuantKind.FIXED) {
        throw new IllegalStateException("group");
      }
      if (kind == QuantKind.FIXED && !dynamic && (group > 0 || axis != AXIS_TENSOR)) {
        throw new IllegalArgumentException("fixed(m, n) has one fixed scale 2^-n; axis and group need dynamic=true");
      }
      return this;
    }

    private void checkBitsOr32() {
      if (bits > 16 && bits != 32) {
        throw new IllegalArgumentException(kind.specName() + " bits must be in [" + (kind == QuantKind.QIL ? 2 : 1)
            + ", 16], or 32 for no discretization, got " + bits);
      }
    }

    private void checkTensorOrChannel() {
      if (axis != AXIS_TENSOR && axis != AXIS_CHANNEL) {
        throw new IllegalArgumentException(kind.specName() + " axis must be tensor or channel, got '" + axis + "'");
      }
    }

    private void checkOverflow(OverflowMode... allowed) {
      for (OverflowMode m : allowed) {
        if (m == overflow) {
          return;
        }
      }
      throw new IllegalArgumentException(kind.specName() + " overflow must be one of " + names(allowed) + ", got '"
          + overflow.specName() + "'");
    }

    private void checkSte(EstimatorKind... allowed) {
      for (EstimatorKind m : allowed) {
        if (m == ste) {
          return;
        }
      }
      throw new IllegalArgumentException(kind.specName() + " ste must be one of " + names(allowed) + ", got '"
          + ste.specName() + "'");
    }

    private static String names(Enum<?>... values) {
      List<String> s = new ArrayList<>();
      for (Enum<?> v : values) {
        s.add(v instanceof OverflowMode o ? o.specName() : ((EstimatorKind) v).specName());
      }
      return String.join(", ", s);
    }
  }

  static EstimatorKind defaultSte(QuantKind kind) {
    return switch (kind) {
      case INT, FIXED, DOREFA_A, SAWB -> EstimatorKind.CLIPPED;
      case BINARY -> EstimatorKind.HARDTANH;
      case DOREFA_W -> EstimatorKind.DOREFA_W;
      default -> EstimatorKind.IDENTITY;
    };
  }

  // ---------------------------------------------------------------- printing

  private static String print(B b) {
    String shorthand = shorthandOf(b);
    if (shorthand != null) {
      return shorthand;
    }
    List<String> args = new ArrayList<>();
    B def = new B(b.kind);
    for (String key : keys(b.kind)) {
      String v = switch (key) {
        case "bits" -> b.kind == QuantKind.FIXED ? (b.dynamic ? "" + b.bits : null)
            : alwaysPrintsBits(b.kind) || b.bits != def.bits ? "" + b.bits : null;
        case "signed" -> b.signed ? null : "false";
        case "symmetric" -> b.symmetric == b.signed ? null : "" + b.symmetric;
        case "narrow" -> b.narrow ? "true" : null;
        case "axis" -> b.axis == (b.group > 0 ? AXIS_CHANNEL : AXIS_TENSOR) ? null : axisText(b.axis);
        case "group" -> b.group > 0 ? "" + b.group : null;
        case "rounding" -> b.rounding != RoundingMode.NEAREST_EVEN ? b.rounding.specName() : null;
        case "overflow" -> b.overflow != OverflowMode.SATURATE ? b.overflow.specName() : null;
        case "observer" -> b.observer.isNone() ? null : b.observer.toString();
        case "ste" -> b.ste != def.ste ? b.ste.specName() : null;
        case "m" -> b.kind == QuantKind.MINIFLOAT ? "" + b.manBits : b.dynamic ? null : "" + b.intBits;
        case "n" -> b.dynamic ? null : "" + b.fracBits;
        case "dynamic" -> b.dynamic ? "true" : null;
        case "scale" -> b.kind == QuantKind.TERNARY
            ? (b.axis == AXIS_CHANNEL ? "channel" : null)
            : (!b.scaled ? null : b.axis == AXIS_CHANNEL ? "channel" : "tensor");
        case "stochastic" -> b.stochastic ? "true" : null;
        case "threshold" -> b.threshold != def.threshold ? SpecSyntax.format(b.threshold) : null;
        case "e" -> "" + b.expBits;
        case "bias" -> b.bias != (1 << (b.expBits - 1)) - 1 ? "" + b.bias : null;
        case "inf" -> b.inf ? null : "false";
        case "init" -> b.init != def.init ? SpecSyntax.format(b.init) : null;
        case "l2" -> b.l2 != def.l2 ? SpecSyntax.format(b.l2) : null;
        case "lr_scale" -> b.lrScale != def.lrScale ? SpecSyntax.format(b.lrScale) : null;
        default -> throw new IllegalStateException(key);
      };
      if (v != null) {
        args.add(key + "=" + v);
      }
    }
    String name = b.kind.specName();
    return args.isEmpty() && b.kind != QuantKind.MINIFLOAT && b.kind != QuantKind.FIXED ? name
        : name + "(" + String.join(", ", args) + ")";
  }

  /** Kinds whose general form always names the bit width (as {@code int(bits=8, ...)} does). */
  private static boolean alwaysPrintsBits(QuantKind kind) {
    return kind == QuantKind.INT || kind == QuantKind.PACT || kind == QuantKind.LSQ || kind == QuantKind.QIL
        || kind == QuantKind.SAWB;
  }

  private static String shorthandOf(B b) {
    B def = new B(b.kind);
    boolean commonDefaults = b.axis == AXIS_TENSOR && b.group == 0 && b.rounding == RoundingMode.NEAREST_EVEN
        && b.ste == def.ste && b.observer.isNone();
    if (!commonDefaults) {
      return null;
    }
    switch (b.kind) {
      case FLOAT:
        return "float";
      case INT:
        if (b.symmetric == b.signed && !b.narrow && b.overflow == OverflowMode.SATURATE) {
          return (b.signed ? "int" : "uint") + b.bits;
        }
        return null;
      case MINIFLOAT:
        if (b.overflow != OverflowMode.SATURATE || b.bias != (1 << (b.expBits - 1)) - 1) {
          return null;
        }
        if (b.expBits == 4 && b.manBits == 3 && !b.inf) {
          return "fp8_e4m3";
        }
        if (b.expBits == 5 && b.manBits == 2 && b.inf) {
          return "fp8_e5m2";
        }
        if (b.expBits == 5 && b.manBits == 10 && b.inf) {
          return "fp16";
        }
        if (b.expBits == 8 && b.manBits == 7 && b.inf) {
          return "bf16";
        }
        return null;
      default:
        return null;
    }
  }

  private static String axisText(int axis) {
    return axis == AXIS_TENSOR ? "tensor" : axis == AXIS_CHANNEL ? "channel" : Integer.toString(axis);
  }

  /** The canonical spec string (Jackson writes the spec as this string). */
  @JsonValue
  @Override
  public String toString() {
    return canonical;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof QuantSpec other && other.canonical.equals(canonical);
  }

  @Override
  public int hashCode() {
    return canonical.hashCode();
  }

  // ---------------------------------------------------------------- accessors

  public QuantKind kind() {
    return kind;
  }

  /** True for {@code float} (no quantization). */
  public boolean isFloat() {
    return kind == QuantKind.FLOAT;
  }

  /**
   * Bits per value: int/dorefa/pow2 as given; fixed 1+m+n (signed) or m+n; binary 1; ternary 2;
   * minifloat 1+e+m; float 32.
   */
  public int bits() {
    return bits;
  }

  /** Signed integer grid (int, fixed). */
  public boolean signed() {
    return signed;
  }

  /** Symmetric (zero point fixed) rather than affine (int). Default: equal to {@link #signed()}. */
  public boolean symmetric() {
    return symmetric;
  }

  /** Narrow signed range [-(2^(b-1)-1), 2^(b-1)-1] (int). */
  public boolean narrow() {
    return narrow;
  }

  /** {@link #AXIS_TENSOR}, {@link #AXIS_CHANNEL} or an explicit axis index &gt;= 0. */
  public int axis() {
    return axis;
  }

  /** Group size G for group granularity, 0 when not grouped. */
  public int group() {
    return group;
  }

  /** Tensor, channel or group granularity of the scale. */
  public Granularity granularity() {
    return group > 0 ? Granularity.GROUP : axis == AXIS_TENSOR ? Granularity.TENSOR : Granularity.CHANNEL;
  }

  public RoundingMode rounding() {
    return rounding;
  }

  public OverflowMode overflow() {
    return overflow;
  }

  /** The observer; {@link ObserverSpec#NONE} when the range comes from the tensor itself or is fixed. */
  public ObserverSpec observer() {
    return observer;
  }

  /** The gradient estimator. */
  public EstimatorKind ste() {
    return ste;
  }

  /** Fixed point: integer bits m (not counting the sign bit); 0 when dynamic. */
  public int intBits() {
    return intBits;
  }

  /** Fixed point: fractional bits n (scale 2^-n); 0 when dynamic (derived per call). */
  public int fracBits() {
    return fracBits;
  }

  /** Fixed point: n derived from the observed max |x| on every call. */
  public boolean dynamic() {
    return dynamic;
  }

  /** Binary/ternary: multiply by a scale (mean |w|) rather than output plain signs. */
  public boolean scaled() {
    return scaled;
  }

  /** Binary: stochastic binarization during training (BinaryConnect). */
  public boolean stochastic() {
    return stochastic;
  }

  /** Ternary: threshold factor t in delta = t * mean|w|; TTQ: t in delta = t * max|w| (default 0.05). */
  public double threshold() {
    return threshold;
  }

  /** Minifloat: exponent bits. */
  public int expBits() {
    return expBits;
  }

  /** Minifloat: mantissa bits. */
  public int manBits() {
    return manBits;
  }

  /** Minifloat: exponent bias. */
  public int bias() {
    return bias;
  }

  /** Minifloat: true = IEEE-like top exponent for inf/NaN; false = OCP E4M3-like, only all-ones is NaN. */
  public boolean inf() {
    return inf;
  }

  /** PACT: initial clipping level alpha (default {@value #PACT_INIT}). */
  public double init() {
    return init;
  }

  /** PACT: L2 regularization coefficient lambda of alpha (loss term lambda/2 alpha^2, DL4J's L2); default 0. */
  public double l2() {
    return l2;
  }

  /**
   * Learned kinds: factor on the layer's learning rate for the quantizer's parameters (default 1: the
   * layer's own updater).
   */
  public double lrScale() {
    return lrScale;
  }

  /** True for the kinds with trained parameters (pact, lsq, qil, ttq); see {@link QuantKind#learned()}. */
  public boolean isLearned() {
    return kind.learned();
  }

  /** True when the scale comes from an observed range (an observer is configured). */
  public boolean needsObserver() {
    return !observer.isNone();
  }

  /** Smallest integer code (int, fixed, dorefa, sawb, pact, lsq); NaN-free formats only. */
  public int qmin() {
    requireCodes();
    return switch (kind) {
      case INT, FIXED -> signed ? -(1 << (bits - 1)) + (narrow ? 1 : 0) : 0;
      case LSQ -> signed ? -(1 << (bits - 1)) : 0;
      case DOREFA_W, DOREFA_A, SAWB, PACT -> 0;
      case BINARY, TERNARY, TTQ -> -1;
      default -> throw new IllegalStateException(kind.specName() + " has no integer code range");
    };
  }

  /** Largest integer code (int, fixed, dorefa, sawb, pact, lsq). */
  public int qmax() {
    requireCodes();
    return switch (kind) {
      case INT, FIXED, LSQ -> signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
      case DOREFA_W, DOREFA_A, SAWB, PACT -> (1 << bits) - 1;
      case BINARY, TERNARY, TTQ -> 1;
      default -> throw new IllegalStateException(kind.specName() + " has no integer code range");
    };
  }

  private void requireCodes() {
    if (bits == 32 && (kind == QuantKind.PACT || kind == QuantKind.QIL)) {
      throw new IllegalStateException(canonical + " does not discretize (bits=32), so it has no integer codes");
    }
  }
}
