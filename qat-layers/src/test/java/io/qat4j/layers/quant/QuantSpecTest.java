package io.qat4j.layers.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.shade.jackson.annotation.JsonProperty;
import org.nd4j.shade.jackson.databind.ObjectMapper;

class QuantSpecTest {

  /** Lines of the fenced blocks of docs/quantizers.md with this info string. */
  static List<String> docBlock(String info) throws Exception {
    Path doc = Path.of("..", "docs", "quantizers.md");
    List<String> out = new ArrayList<>();
    boolean in = false;
    for (String line : Files.readAllLines(doc)) {
      if (line.equals("```" + info)) {
        in = true;
      } else if (line.startsWith("```")) {
        in = false;
      } else if (in && !line.isBlank()) {
        out.add(line.strip());
      }
    }
    assertFalse(out.isEmpty(), "no ```" + info + " block in " + doc);
    return out;
  }

  static List<String> canonicalExamples() throws Exception {
    return docBlock("spec-canonical");
  }

  static List<String> otherExamples() throws Exception {
    return docBlock("spec");
  }

  @ParameterizedTest
  @MethodSource("canonicalExamples")
  void canonicalExamplesRoundTrip(String text) {
    QuantSpec s = QuantSpec.parse(text);
    assertEquals(text, s.toString());
    assertEquals(s, QuantSpec.parse(s.toString()));
    if (s.isLearned()) {
      Quantizers.learned(s);
    } else {
      Quantizers.of(s);
    }
  }

  @ParameterizedTest
  @MethodSource("otherExamples")
  void acceptedSpellingsPrintCanonically(String line) {
    String[] parts = line.split(" -> ");
    QuantSpec s = QuantSpec.parse(parts[0]);
    assertEquals(parts[1], s.toString());
    assertEquals(s, QuantSpec.parse(s.toString()));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "int9x | unknown quantizer 'int9x'; allowed: float, int, fixed",
      "int32 | bits in 'int32' must be in [1, 16]",
      "int(bits=17) | value of 'bits' must be in [1, 16], got 17",
      "int(bits=4, colour=red) | 'int' has no key 'colour'; allowed keys: bits, signed, symmetric",
      "int(bits=4, rounding=up) | unknown rounding 'up'; allowed: nearest_even, nearest_away, floor, toward_zero, stochastic",
      "int(bits=4, overflow=clip) | unknown overflow 'clip'; allowed: saturate, saturate_symmetric, wrap, infinity",
      "int(bits=4, axis=rows) | value of 'axis' must be tensor, channel or an integer in [0, 7], got 'rows'",
      "int(bits=4, ste=magic) | unknown ste 'magic'; allowed: identity, clipped, approx_sign, hardtanh, dorefa_w",
      "int(bits=4, ste=approx_sign) | int ste must be one of identity, clipped, got 'approx_sign'",
      "int(bits=4, signed=maybe) | value of 'signed' must be true or false, got 'maybe'",
      "int(bits=4, bits=5) | key 'bits' given twice",
      "int(4) | 'int' arguments must be key=value, got '4'",
      "int(bits=4 | missing ')'",
      "int8(axis=channel) | shorthand 'int8' takes no arguments",
      "int(bits=8, signed=false, narrow=true) | narrow=true needs signed=true",
      "int(bits=8, observer=kalman) | unknown observer 'kalman'; allowed: none, minmax, ema, percentile",
      "int(bits=8, observer=ema(2)) | value of 'c' must be in (0.0, 1.0], got '2'",
      "int(bits=8, observer=minmax(0.5)) | only the first argument may be positional",
      "fixed(m=3) | fixed needs m and n",
      "fixed(bits=8) | fixed needs m and n",
      "fixed(m=3, n=4, observer=ema) | an observer is only allowed with dynamic=true",
      "fixed(m=12, n=12) | fixed total bits (1+m+n) must be in [1, 24], got 25",
      "binary(scale=row) | value of 'scale' must be none, tensor or channel, got 'row'",
      "ternary(scale=none) | ternary 'scale' must be tensor or channel",
      "minifloat(e=4) | minifloat needs e (exponent bits, 1..8) and m",
      "minifloat(e=4, m=3, overflow=wrap) | minifloat overflow must be one of saturate, infinity, got 'wrap'",
      "minifloat(e=4, m=3, rounding=floor) | minifloat rounding must be nearest_even or stochastic",
      "float(bits=8) | 'float' has no key 'bits'; allowed keys: (none)",
      "pow2(bits=1) | value of 'bits' must be in [2, 16], got 1",
      "pact(bits=20) | pact bits must be in [1, 16], or 32 for no discretization, got 20",
      "pact(bits=4, axis=1) | pact axis must be tensor or channel, got '1'",
      "pact(init=0) | value of 'init' must be in (0.0, 1000000.0], got '0'",
      "pact(bits=4, l2=2) | value of 'l2' must be in [0.0, 1.0], got '2'",
      "pact(bits=4, lr_scale=0) | value of 'lr_scale' must be in (0.0, 10000.0], got '0'",
      "pact(bits=4, signed=true) | 'pact' has no key 'signed'; allowed keys: bits, axis, init, l2, lr_scale",
      "qil(bits=1) | value of 'bits' must be in [2, 32], got 1",
      "qil(bits=3, axis=channel) | 'qil' has no key 'axis'; allowed keys: bits, lr_scale",
      "lsq(bits=1) | signed lsq needs bits >= 2",
      "lsq(bits=4, axis=2) | lsq axis must be tensor or channel, got '2'",
      "ttq(threshold=1) | ttq threshold t (delta = t max",
      "ttq(bits=2) | 'ttq' has no key 'bits'; allowed keys: threshold, lr_scale",
      "sawb(bits=6) | sawb bits must be one of [2, 3, 4, 5, 8] (the bit widths with published coefficients), got 6",
      "sawb(bits=2, ste=hardtanh) | sawb ste must be one of clipped, identity, got 'hardtanh'",
      "'' | expected a name or value at the end",
  })
  void badSpecsNameTheProblem(String text, String message) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QuantSpec.parse(text));
    assertTrue(e.getMessage().contains(message), "message was: " + e.getMessage());
  }

  @Test
  void learnedKindsAreBuiltByTheirOwnSwitch() {
    QuantSpec pact = QuantSpec.parse("pact(bits=4, init=3, l2=0.0005, lr_scale=10)");
    assertTrue(pact.isLearned() && QuantKind.PACT.learned());
    assertFalse(QuantKind.SAWB.learned() || QuantSpec.parse("int8").isLearned());
    assertEquals(3, pact.init());
    assertEquals(0.0005, pact.l2());
    assertEquals(10, pact.lrScale());
    assertEquals(15, pact.qmax());
    assertEquals(-2, QuantSpec.parse("lsq(bits=2)").qmin());
    assertEquals(3, QuantSpec.parse("lsq(bits=2, signed=false)").qmax());
    assertEquals(0.05, QuantSpec.parse("ttq").threshold());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Quantizers.of(pact));
    assertTrue(e.getMessage().contains("is a learned quantizer") && e.getMessage().contains("sawb"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Quantizers.learned(QuantSpec.parse("sawb(bits=2)")));
    assertTrue(e.getMessage().contains("has no learned parameters; learned kinds: pact, lsq, qil, ttq"), e.getMessage());
    assertThrows(IllegalStateException.class, () -> QuantSpec.parse("pact(bits=32)").qmax());
  }

  @Test
  void nullSpecIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> QuantSpec.parse(null));
  }

  @Test
  void accessors() {
    QuantSpec s = QuantSpec.parse("int(bits=4, axis=channel, narrow=true, observer=ema(0.05, freeze=7))");
    assertEquals(QuantKind.INT, s.kind());
    assertEquals(4, s.bits());
    assertTrue(s.signed() && s.symmetric() && s.narrow());
    assertEquals(QuantSpec.AXIS_CHANNEL, s.axis());
    assertEquals(Granularity.CHANNEL, s.granularity());
    assertEquals(-7, s.qmin());
    assertEquals(7, s.qmax());
    assertTrue(s.needsObserver());
    assertEquals(0.05, s.observer().c());
    assertEquals(7, s.observer().freeze());
    assertEquals(EstimatorKind.CLIPPED, s.ste());

    QuantSpec u = QuantSpec.parse("uint4");
    assertFalse(u.signed() || u.symmetric());
    assertEquals(0, u.qmin());
    assertEquals(15, u.qmax());
    assertFalse(u.needsObserver());

    QuantSpec f = QuantSpec.parse("fixed(m=3, n=4)");
    assertEquals(8, f.bits());
    assertEquals(3, f.intBits());
    assertEquals(4, f.fracBits());
    assertEquals(-128, f.qmin());

    QuantSpec g = QuantSpec.parse("int(bits=4, group=32)");
    assertEquals(Granularity.GROUP, g.granularity());
    assertEquals(32, g.group());
    assertEquals(QuantSpec.AXIS_CHANNEL, g.axis());

    QuantSpec e4 = QuantSpec.parse("fp8_e4m3");
    assertEquals(8, e4.bits());
    assertEquals(7, e4.bias());
    assertFalse(e4.inf());
    assertEquals(15, QuantSpec.parse("fp8_e5m2").bias());
    assertTrue(QuantSpec.FLOAT.isFloat());
    assertEquals("float", QuantSpec.FLOAT.toString());
  }

  /** A DL4J-style configuration holding a spec. */
  static final class Holder {
    @JsonProperty("weight")
    QuantSpec weight;
    @JsonProperty("output")
    QuantSpec output;
  }

  @Test
  void jacksonRoundTripUsesCanonicalString() throws Exception {
    ObjectMapper mapper = new ObjectMapper();
    QuantSpec s = QuantSpec.parse("int(bits=4, axis=channel, symmetric=true, observer=ema(0.01))");
    String json = mapper.writeValueAsString(s);
    assertEquals("\"int(bits=4, axis=channel, observer=ema)\"", json);
    assertEquals(s, mapper.readValue(json, QuantSpec.class));

    Holder h = new Holder();
    h.weight = QuantSpec.parse("ternary(scale=channel)");
    h.output = QuantSpec.parse("fp8_e4m3");
    String hj = mapper.writeValueAsString(h);
    assertTrue(hj.contains("\"weight\":\"ternary(scale=channel)\""), hj);
    Holder back = mapper.readValue(hj, Holder.class);
    assertEquals(h.weight, back.weight);
    assertEquals(h.output, back.output);
  }

  @Test
  void javaSerializationRoundTrip() throws Exception {
    QuantSpec s = QuantSpec.parse("fixed(bits=8, dynamic=true, observer=percentile(99.9))");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(s);
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      QuantSpec back = (QuantSpec) in.readObject();
      assertEquals(s, back);
      assertEquals(s.toString(), back.toString());
      assertEquals(s.observer().p(), back.observer().p());
    }
  }
}
