package io.qat4j.layers.quant;

import java.io.Serializable;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Immutable description of a range observer, written as the value of a spec's {@code observer} key.
 *
 * <p>Forms (canonical text omits defaults): {@code none}; {@code minmax}; {@code ema} or
 * {@code ema(0.01)} (averaging constant c, default 0.01); {@code percentile} or
 * {@code percentile(99.99, c=0.01, abs=true)}. Every form but {@code none} accepts
 * {@code freeze=N}: after N updates the range is frozen (0 = never, the default).
 * The first positional argument is c for {@code ema} and p for {@code percentile}; it may also be
 * written as {@code c=} / {@code p=}.
 *
 * <p>Example spec string: {@code int(bits=8, signed=false, observer=ema(0.01, freeze=2000))}.
 */
public final class ObserverSpec implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Observer behaviors. */
  public enum Kind {
    NONE("none"), MINMAX("minmax"), EMA("ema"), PERCENTILE("percentile");

    private final String specName;

    Kind(String specName) {
      this.specName = specName;
    }

    public String specName() {
      return specName;
    }
  }

  /** Default EMA averaging constant (PyTorch's {@code MovingAverageMinMaxObserver}). */
  public static final double DEFAULT_C = 0.01;
  /** Default percentile. */
  public static final double DEFAULT_P = 99.99;

  /** No observer: the range is derived from the tensor itself on every call. */
  public static final ObserverSpec NONE = new ObserverSpec(Kind.NONE, DEFAULT_C, DEFAULT_P, true, 0);

  private final Kind kind;
  private final double c;
  private final double p;
  private final boolean abs;
  private final long freeze;

  private ObserverSpec(Kind kind, double c, double p, boolean abs, long freeze) {
    this.kind = kind;
    this.c = c;
    this.p = p;
    this.abs = abs;
    this.freeze = freeze;
  }

  /** A running min/max observer. */
  public static ObserverSpec minMax(long freeze) {
    return new ObserverSpec(Kind.MINMAX, DEFAULT_C, DEFAULT_P, true, checkFreeze(freeze));
  }

  /** An EMA min/max observer with averaging constant c in (0, 1]. */
  public static ObserverSpec ema(double c, long freeze) {
    return new ObserverSpec(Kind.EMA, checkC(c), DEFAULT_P, true, checkFreeze(freeze));
  }

  /** A percentile observer: p in (50, 100], EMA constant c, of |x| (abs) or of x. */
  public static ObserverSpec percentile(double p, double c, boolean abs, long freeze) {
    if (!(p > 50 && p <= 100)) {
      throw new IllegalArgumentException("percentile p must be in (50, 100], got " + p);
    }
    return new ObserverSpec(Kind.PERCENTILE, checkC(c), p, abs, checkFreeze(freeze));
  }

  private static double checkC(double c) {
    if (!(c > 0 && c <= 1)) {
      throw new IllegalArgumentException("averaging constant c must be in (0, 1], got " + c);
    }
    return c;
  }

  private static long checkFreeze(long f) {
    if (f < 0) {
      throw new IllegalArgumentException("freeze must be >= 0 (0 = never), got " + f);
    }
    return f;
  }

  /** Parses observer text such as {@code ema(0.01, freeze=100)}. */
  public static ObserverSpec parse(String text) {
    return fromNode(SpecSyntax.parse(text));
  }

  static ObserverSpec fromNode(SpecSyntax.Node node) {
    Kind kind = null;
    for (Kind k : Kind.values()) {
      if (k.specName.equals(node.name())) {
        kind = k;
      }
    }
    if (kind == null) {
      throw new IllegalArgumentException("unknown observer '" + node.name() + "'; allowed: "
          + Arrays.stream(Kind.values()).map(Kind::specName).collect(Collectors.joining(", ")));
    }
    if (kind == Kind.NONE) {
      if (node.hasArgs()) {
        throw new IllegalArgumentException("observer 'none' takes no arguments");
      }
      return NONE;
    }
    double c = DEFAULT_C;
    double p = DEFAULT_P;
    boolean abs = true;
    long freeze = 0;
    if (node.hasArgs()) {
      int i = 0;
      for (SpecSyntax.Arg a : node.args()) {
        String key = a.key();
        if (key == null) {
          if (i != 0 || kind == Kind.MINMAX) {
            throw new IllegalArgumentException("observer '" + kind.specName + "': only the first argument may be"
                + " positional (c for ema, p for percentile); write key=value");
          }
          key = kind == Kind.EMA ? "c" : "p";
        }
        switch (kind == Kind.MINMAX ? "minmax:" + key : kind == Kind.EMA ? "ema:" + key : "percentile:" + key) {
          case "ema:c", "percentile:c" -> c = SpecSyntax.number(a.value(), "c", 0, 1, true);
          case "percentile:p" -> p = SpecSyntax.number(a.value(), "p", 50, 100, true);
          case "percentile:abs" -> abs = SpecSyntax.bool(a.value(), "abs");
          case "minmax:freeze", "ema:freeze", "percentile:freeze" ->
              freeze = SpecSyntax.longInteger(a.value(), "freeze", 0);
          default -> throw new IllegalArgumentException("observer '" + kind.specName + "' has no key '" + key
              + "'; allowed: " + (kind == Kind.MINMAX ? "freeze" : kind == Kind.EMA ? "c, freeze" : "p, c, abs, freeze"));
        }
        i++;
      }
    }
    return switch (kind) {
      case MINMAX -> minMax(freeze);
      case EMA -> ema(c, freeze);
      case PERCENTILE -> percentile(p, c, abs, freeze);
      default -> throw new IllegalStateException();
    };
  }

  public Kind kind() {
    return kind;
  }

  /** EMA averaging constant (EMA and percentile observers). */
  public double c() {
    return c;
  }

  /** Percentile in (50, 100] (percentile observer). */
  public double p() {
    return p;
  }

  /** Percentile observer: true = percentile of |x| giving a symmetric range, false = of x (both tails). */
  public boolean abs() {
    return abs;
  }

  /** Number of updates after which the range is frozen; 0 = never. */
  public long freeze() {
    return freeze;
  }

  public boolean isNone() {
    return kind == Kind.NONE;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(kind.specName);
    java.util.List<String> args = new java.util.ArrayList<>();
    if (kind == Kind.EMA && c != DEFAULT_C) {
      args.add(SpecSyntax.format(c));
    }
    if (kind == Kind.PERCENTILE) {
      if (p != DEFAULT_P) {
        args.add(SpecSyntax.format(p));
      }
      if (c != DEFAULT_C) {
        args.add("c=" + SpecSyntax.format(c));
      }
      if (!abs) {
        args.add("abs=false");
      }
    }
    if (freeze != 0) {
      args.add("freeze=" + freeze);
    }
    if (!args.isEmpty()) {
      sb.append('(').append(String.join(", ", args)).append(')');
    }
    return sb.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ObserverSpec other && other.toString().equals(toString());
  }

  @Override
  public int hashCode() {
    return toString().hashCode();
  }
}
