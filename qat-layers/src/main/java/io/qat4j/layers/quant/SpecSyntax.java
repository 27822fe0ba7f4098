package io.qat4j.layers.quant;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * The tokenizer and tree of the spec language: {@code name} or {@code name(arg, ...)} where an arg is
 * {@code key=value} or a bare value, and a value is a word, a number or again {@code name(...)}.
 * Package-private: {@link QuantSpec} and {@link ObserverSpec} give the words their meaning.
 */
final class SpecSyntax {

  /** One call {@code name(args)}; {@code args} is null when written without parentheses. */
  record Node(String name, List<Arg> args) {
    boolean hasArgs() {
      return args != null;
    }
  }

  /** One argument; {@code key} is null for a positional argument. */
  record Arg(String key, Node value) { }

  private final String text;
  private int pos;

  private SpecSyntax(String text) {
    this.text = text;
  }

  static Node parse(String text) {
    if (text == null) {
      throw new IllegalArgumentException("spec is null; example: int8 or int(bits=4, axis=channel)");
    }
    SpecSyntax p = new SpecSyntax(text);
    Node n = p.node();
    p.skipSpace();
    if (p.pos != text.length()) {
      throw p.error("unexpected '" + text.charAt(p.pos) + "'");
    }
    return n;
  }

  private Node node() {
    String name = word();
    skipSpace();
    if (pos < text.length() && text.charAt(pos) == '(') {
      pos++;
      List<Arg> args = new ArrayList<>();
      skipSpace();
      if (peek() == ')') {
        pos++;
        return new Node(name, args);
      }
      while (true) {
        skipSpace();
        int save = pos;
        String first = word();
        skipSpace();
        if (peek() == '=') {
          pos++;
          skipSpace();
          args.add(new Arg(first, node()));
        } else {
          pos = save;
          args.add(new Arg(null, node()));
        }
        skipSpace();
        char c = peek();
        if (c == ',') {
          pos++;
        } else if (c == ')') {
          pos++;
          return new Node(name, args);
        } else {
          throw error(c == 0 ? "missing ')'" : "expected ',' or ')' but found '" + c + "'");
        }
      }
    }
    return new Node(name, null);
  }

  private String word() {
    skipSpace();
    int start = pos;
    while (pos < text.length() && isWordChar(text.charAt(pos))) {
      pos++;
    }
    if (start == pos) {
      throw error(pos < text.length() ? "expected a name or value but found '" + text.charAt(pos) + "'"
          : "expected a name or value at the end");
    }
    return text.substring(start, pos);
  }

  private static boolean isWordChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '_' || c == '.' || c == '-' || c == '+';
  }

  private char peek() {
    return pos < text.length() ? text.charAt(pos) : 0;
  }

  private void skipSpace() {
    while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
      pos++;
    }
  }

  private IllegalArgumentException error(String msg) {
    return new IllegalArgumentException("bad spec '" + text + "' at position " + pos + ": " + msg);
  }

  // ---- value helpers shared by QuantSpec and ObserverSpec ----

  static String word(Node v, String key) {
    if (v.hasArgs()) {
      throw new IllegalArgumentException("value of '" + key + "' must be a plain word, got '" + v.name() + "(...)'");
    }
    return v.name();
  }

  static int integer(Node v, String key, int lo, int hi) {
    String w = word(v, key);
    int x;
    try {
      x = Integer.parseInt(w);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("value of '" + key + "' must be an integer in [" + lo + ", " + hi
          + "], got '" + w + "'");
    }
    if (x < lo || x > hi) {
      throw new IllegalArgumentException("value of '" + key + "' must be in [" + lo + ", " + hi + "], got " + x);
    }
    return x;
  }

  static long longInteger(Node v, String key, long lo) {
    String w = word(v, key);
    long x;
    try {
      x = Long.parseLong(w);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("value of '" + key + "' must be an integer >= " + lo + ", got '" + w + "'");
    }
    if (x < lo) {
      throw new IllegalArgumentException("value of '" + key + "' must be >= " + lo + ", got " + x);
    }
    return x;
  }

  static double number(Node v, String key, double lo, double hi, boolean loOpen) {
    String w = word(v, key);
    double x;
    try {
      x = Double.parseDouble(w);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("value of '" + key + "' must be a number, got '" + w + "'");
    }
    if (!Double.isFinite(x) || (loOpen ? x <= lo : x < lo) || x > hi) {
      throw new IllegalArgumentException("value of '" + key + "' must be in " + (loOpen ? "(" : "[") + lo + ", "
          + hi + "], got '" + w + "'");
    }
    return x;
  }

  static boolean bool(Node v, String key) {
    String w = word(v, key);
    if (w.equals("true")) {
      return true;
    }
    if (w.equals("false")) {
      return false;
    }
    throw new IllegalArgumentException("value of '" + key + "' must be true or false, got '" + w + "'");
  }

  /** Shortest plain decimal text of a double: 0.7, 99.99, 1, 0.0001. */
  static String format(double d) {
    if (d == Math.rint(d) && Math.abs(d) < 1e15) {
      return Long.toString((long) d);
    }
    return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
  }
}
