package io.qat4j.inference.format;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code manifest.json} of an export: format version, input quantization and the layers in execution
 * order. The last layer's output is the model output. Specified in {@code docs/export-format.md}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Manifest(
    @JsonProperty("format") String format,
    @JsonProperty("format_version") int formatVersion,
    @JsonProperty("model") String model,
    @JsonProperty("formats") List<String> formats,
    @JsonProperty("input") ActivationSpec input,
    @JsonProperty("layers") List<LayerSpec> layers) {

  /** Value of the {@code format} field. */
  public static final String FORMAT = "qat4j-export";
  /** The format version this code reads and writes. */
  public static final int VERSION = 1;

  /** Validates format, version, input and that every layer input names the input or an earlier layer. */
  public Manifest {
    if (!FORMAT.equals(format)) {
      throw new IllegalArgumentException("format '" + format + "' not allowed; allowed: " + FORMAT);
    }
    if (formatVersion != VERSION) {
      throw new IllegalArgumentException("format_version " + formatVersion + " not allowed; allowed: " + VERSION);
    }
    if (input == null || input.shape() == null) {
      throw new IllegalArgumentException("manifest needs an input with a shape");
    }
    if (layers == null || layers.isEmpty()) {
      throw new IllegalArgumentException("manifest needs at least one layer");
    }
    Map<String, ActivationSpec> known = new LinkedHashMap<>();
    known.put("input", input);
    for (LayerSpec l : layers) {
      for (int k = 0; k < l.inputs().size(); k++) {
        String in = l.inputs().get(k);
        ActivationSpec src = known.get(in);
        if (src == null) {
          throw new IllegalArgumentException("input '" + in + "' of layer " + l.name()
              + " not allowed; allowed: 'input' or an earlier layer " + known.keySet());
        }
        if (l.inputShapes() != null && !src.shape().equals(l.inputShapes().get(k))) {
          throw new IllegalArgumentException("input_shapes[" + k + "] " + l.inputShapes().get(k) + " of layer "
              + l.name() + " differs from the output shape " + src.shape() + " of " + in);
        }
        if (PASS_THROUGH.contains(l.op()) && !sameQuantization(src, l.output())) {
          throw new IllegalArgumentException("layer " + l.name() + " (" + l.op() + ") must keep the quantization of "
              + in + " (bits " + src.bits() + ", signed " + src.signed() + ", scale " + src.scale()
              + ", zero_point " + src.zeroPoint() + "), got bits " + l.output().bits() + ", signed "
              + l.output().signed() + ", scale " + l.output().scale() + ", zero_point " + l.output().zeroPoint());
        }
      }
      if (l.inputShapes() != null && l.inputShapes().size() != l.inputs().size()) {
        throw new IllegalArgumentException("layer " + l.name() + " has " + l.inputShapes().size()
            + " input_shapes for " + l.inputs().size() + " inputs");
      }
      if (known.put(l.name(), l.output()) != null) {
        throw new IllegalArgumentException("layer name " + l.name() + " is used twice");
      }
    }
    formats = formats == null ? List.of("npy") : List.copyOf(formats);
    layers = List.copyOf(layers);
  }

  /** Ops whose output keeps the quantization (bits, signedness, scale, zero point) of their input. */
  public static final Set<String> PASS_THROUGH = Set.of("max_pool", "avg_pool", "relu", "clamp", "flatten",
      "pad_channels");

  private static boolean sameQuantization(ActivationSpec a, ActivationSpec b) {
    return a.bits() == b.bits() && a.signed() == b.signed() && a.scale() == b.scale()
        && a.zeroPoint() == b.zeroPoint();
  }

  /** A version-1 manifest. */
  public static Manifest of(String model, List<String> formats, ActivationSpec input, List<LayerSpec> layers) {
    return new Manifest(FORMAT, VERSION, model, formats, input, layers);
  }

  /** The last layer (whose output is the model output). */
  public LayerSpec outputLayer() {
    return layers.get(layers.size() - 1);
  }
}
