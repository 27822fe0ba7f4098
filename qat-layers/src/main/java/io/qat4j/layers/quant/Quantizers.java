package io.qat4j.layers.quant;

import io.qat4j.layers.quant.quantizers.BinaryQuantizer;
import io.qat4j.layers.quant.quantizers.DorefaActivationQuantizer;
import io.qat4j.layers.quant.quantizers.DorefaWeightQuantizer;
import io.qat4j.layers.quant.quantizers.FixedPointQuantizer;
import io.qat4j.layers.quant.quantizers.FloatQuantizer;
import io.qat4j.layers.quant.quantizers.MinifloatQuantizer;
import io.qat4j.layers.quant.quantizers.PowerOfTwoQuantizer;
import io.qat4j.layers.quant.quantizers.TernaryQuantizer;
import io.qat4j.layers.quant.quantizers.UniformQuantizer;

/**
 * The one place where a spec becomes a quantizer: an explicit switch over {@link QuantKind}.
 *
 * <p>Example: {@code Quantizers.of(QuantSpec.parse("int(bits=4, axis=channel)"))}.
 */
public final class Quantizers {
  private Quantizers() {
  }

  /** Builds the quantizer for a spec. */
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
    };
  }

  /** Parses and builds: {@code of(QuantSpec.parse(text))}. */
  public static Quantizer of(String text) {
    return of(QuantSpec.parse(text));
  }
}
