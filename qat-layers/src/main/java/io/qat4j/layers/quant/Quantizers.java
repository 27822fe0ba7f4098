package io.qat4j.layers.quant;

import io.qat4j.layers.quant.quantizers.BinaryQuantizer;
import io.qat4j.layers.quant.quantizers.DorefaActivationQuantizer;
import io.qat4j.layers.quant.quantizers.DorefaWeightQuantizer;
import io.qat4j.layers.quant.quantizers.FixedPointQuantizer;
import io.qat4j.layers.quant.quantizers.FloatQuantizer;
import io.qat4j.layers.quant.quantizers.LsqQuantizer;
import io.qat4j.layers.quant.quantizers.MinifloatQuantizer;
import io.qat4j.layers.quant.quantizers.PactQuantizer;
import io.qat4j.layers.quant.quantizers.PowerOfTwoQuantizer;
import io.qat4j.layers.quant.quantizers.QilQuantizer;
import io.qat4j.layers.quant.quantizers.SawbQuantizer;
import io.qat4j.layers.quant.quantizers.TernaryQuantizer;
import io.qat4j.layers.quant.quantizers.TtqQuantizer;
import io.qat4j.layers.quant.quantizers.UniformQuantizer;

/**
 * The one place where a spec becomes a quantizer: an explicit switch over {@link QuantKind}, in two
 * halves: {@link #of} for the stateless quantizers, {@link #learned} for those with trained
 * parameters (pact, lsq, qil, ttq), which only a quantized layer can run.
 *
 * <p>Example: {@code Quantizers.of(QuantSpec.parse("int(bits=4, axis=channel)"))},
 * {@code Quantizers.learned(QuantSpec.parse("lsq(bits=2)"))}.
 */
public final class Quantizers {
  private Quantizers() {
  }

  /**
   * Builds the quantizer for a spec.
   *
   * @throws IllegalArgumentException for a learned kind (use {@link #learned})
   */
  public static Quantizer of(QuantSpec spec) {
    return switch (spec.kind()) {
      case FLOAT -> new FloatQuantizer(spec);
      case INT -> new UniformQuantizer(spec);
      case FIXED -> new FixedPointQuantizer(spec);
      case BINARY -> new BinaryQuantizer(spec);
      case TERNARY -> new TernaryQuantizer(spec);
      case DOREFA_W -> new DorefaWeightQuantizer(spec);
      case DOREFA_A -> new DorefaActivationQuantizer(spec);
      case POW2 -> new PowerOfTwoQuantizer(spec);
      case MINIFLOAT -> new MinifloatQuantizer(spec);
      case SAWB -> new SawbQuantizer(spec);
      case PACT, LSQ, QIL, TTQ -> throw new IllegalArgumentException("'" + spec + "' is a learned quantizer: its "
          + "parameters are trained with the layer that owns the site; use a quantized layer (io.qat4j.layers.nn) or "
          + "Quantizers.learned(spec); stateless kinds: " + statelessNames());
    };
  }

  /**
   * Builds the learned quantizer for a spec of kind pact, lsq, qil or ttq.
   *
   * @throws IllegalArgumentException for a stateless kind (use {@link #of})
   */
  public static LearnedQuantizer learned(QuantSpec spec) {
    return switch (spec.kind()) {
      case PACT -> new PactQuantizer(spec);
      case LSQ -> new LsqQuantizer(spec);
      case QIL -> new QilQuantizer(spec);
      case TTQ -> new TtqQuantizer(spec);
      case FLOAT, INT, FIXED, BINARY, TERNARY, DOREFA_W, DOREFA_A, POW2, MINIFLOAT, SAWB ->
          throw new IllegalArgumentException("'" + spec + "' has no learned parameters; learned kinds: pact, lsq, qil, "
              + "ttq (use Quantizers.of for the others)");
    };
  }

  private static String statelessNames() {
    StringBuilder sb = new StringBuilder();
    for (QuantKind k : QuantKind.values()) {
      if (!k.learned()) {
        sb.append(sb.length() == 0 ? "" : ", ").append(k.specName());
      }
    }
    return sb.toString();
  }

  /** Parses and builds: {@code of(QuantSpec.parse(text))}. */
  public static Quantizer of(String text) {
    return of(QuantSpec.parse(text));
  }
}
