package io.qat4j.layers.quant;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The family of a quantizer: the name that starts a general spec string such as {@code int(bits=4)}.
 *
 * <p>Example spec string: {@code ternary(threshold=0.7, scale=channel)}.
 */
public enum QuantKind {
  /** No quantization ({@code float}). */
  FLOAT("float"),
  /** Uniform integer grid with scale and zero point ({@code int(...)}). */
  INT("int"),
  /** Qm.n fixed point, power-of-two scale ({@code fixed(...)}). */
  FIXED("fixed"),
  /** Sign, optionally scaled: BNN, BinaryConnect, XNOR-Net ({@code binary(...)}). */
  BINARY("binary"),
  /** Ternary weight networks ({@code ternary(...)}). */
  TERNARY("ternary"),
  /** DoReFa-Net weights ({@code dorefa_w(...)}). */
  DOREFA_W("dorefa_w"),
  /** DoReFa-Net activations ({@code dorefa_a(...)}). */
  DOREFA_A("dorefa_a"),
  /** Powers of two and zero, INQ ({@code pow2(...)}). */
  POW2("pow2"),
  /** Small floating-point formats ExMy, e.g. FP8 ({@code minifloat(...)}). */
  MINIFLOAT("minifloat"),
  /** PACT: activations clipped at a learned level alpha, then uniform ({@code pact(...)}); learned. */
  PACT("pact"),
  /** LSQ: uniform grid with a learned step size ({@code lsq(...)}); learned. */
  LSQ("lsq"),
  /** QIL: learned quantization interval (center, distance) and weight exponent ({@code qil(...)}); learned. */
  QIL("qil"),
  /** TTQ: trained ternary weights {-Wn, 0, +Wp} with learned scales ({@code ttq(...)}); learned. */
  TTQ("ttq"),
  /** SAWB: weight clipping scale from the weights' first two moments ({@code sawb(...)}). */
  SAWB("sawb");

  private final String specName;

  QuantKind(String specName) {
    this.specName = specName;
  }

  /** The name used in spec strings. */
  public String specName() {
    return specName;
  }

  /**
   * True for the kinds whose quantizer has trained parameters (PACT, LSQ, QIL, TTQ): they are built by
   * {@link Quantizers#learned(QuantSpec)} and their parameters live in a quantized layer.
   */
  public boolean learned() {
    return this == PACT || this == LSQ || this == QIL || this == TTQ;
  }

  /** Looks a kind up by its spec name; throws naming the allowed names. */
  public static QuantKind fromSpecName(String name) {
    for (QuantKind k : values()) {
      if (k.specName.equals(name)) {
        return k;
      }
    }
    throw new IllegalArgumentException("unknown quantizer '" + name + "'; allowed: " + allowedNames()
        + " or a shorthand (float, intN, uintN, binary, ternary, fp8_e4m3, fp8_e5m2, fp16, bf16)");
  }

  static String allowedNames() {
    return Arrays.stream(values()).map(QuantKind::specName).collect(Collectors.joining(", "));
  }
}
