package io.qat4j.inference;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.qat4j.inference.engine.IntegerEngine;
import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.Formats;
import io.qat4j.inference.format.HardwareFiles;
import io.qat4j.inference.format.IntTensor;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.inference.format.Manifest;
import io.qat4j.inference.format.Npy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Test vectors for RTL / HLS co-simulation: for each sample, the integer input and every layer's integer output as
 * computed by {@link IntegerEngine}, as {@code .npy} and Verilog {@code $readmemh} {@code .mem} files.
 *
 * <p>Layout: {@code DIR/NNNN/input.npy|.mem} and {@code DIR/NNNN/<layer>.npy|.mem} (layer names as in
 * {@code manifest.json}, shapes of the layer outputs with N = 1, C order), and {@code DIR/vectors.json} listing
 * per sample its label (or -1), the predicted class (argmax of the last layer) and the files. Words of the
 * {@code .mem} files are two's complement at the activation's bit width (unsigned codes as they are; binary
 * activations 1 = +1, 0 = -1), as for the export's tensors ({@link HardwareFiles#word}).
 */
public final class TestVectors {
  private TestVectors() {}

  /** One sample in {@code vectors.json}. */
  public record Sample(
      @JsonProperty("index") int index,
      @JsonProperty("label") int label,
      @JsonProperty("predicted") int predicted,
      @JsonProperty("dir") String dir,
      @JsonProperty("files") List<String> files) {}

  /** {@code vectors.json}. */
  public record Index(
      @JsonProperty("model") String model,
      @JsonProperty("layers") List<String> layers,
      @JsonProperty("samples") List<Sample> samples) {}

  /**
   * Runs the engine on each input and writes the vectors.
   *
   * @param inputs input codes per sample (the manifest's input quantization)
   * @param labels labels per sample, or null
   */
  public static Index write(Path dir, IntegerEngine engine, List<int[]> inputs, int[] labels) throws IOException {
    Manifest m = engine.manifest();
    Files.createDirectories(dir);
    List<Sample> samples = new ArrayList<>();
    List<String> layerNames = new ArrayList<>();
    for (LayerSpec l : m.layers()) {
      layerNames.add(l.name());
    }
    for (int i = 0; i < inputs.size(); i++) {
      String sub = String.format(java.util.Locale.ROOT, "%04d", i);
      Path d = dir.resolve(sub);
      Files.createDirectories(d);
      List<String> files = new ArrayList<>();
      files.addAll(tensor(d, "input", m.input(), inputs.get(i)));
      Map<String, int[]> outs = engine.runAll(inputs.get(i));
      int[] last = null;
      for (LayerSpec l : m.layers()) {
        last = outs.get(l.name());
        files.addAll(tensor(d, l.name(), l.output(), last));
      }
      samples.add(new Sample(i, labels == null ? -1 : labels[i], argMax(last), sub, files));
    }
    Index index = new Index(m.model(), layerNames, samples);
    Formats.mapper().writeValue(dir.resolve("vectors.json").toFile(), index);
    return index;
  }

  private static List<String> tensor(Path dir, String name, ActivationSpec spec, int[] codes) throws IOException {
    IntTensor t = IntTensor.of(spec.shape(), codes);
    String npy = name + ".npy";
    String mem = name + ".mem";
    Npy.write(dir.resolve(npy), t, spec.isBinary() ? "int8" : Formats.dtypeFor(spec.bits(), spec.signed()));
    StringBuilder sb = new StringBuilder();
    sb.append("// ").append(name).append(" shape ").append(spec.shape()).append(", ").append(spec.bits())
        .append("-bit ").append(spec.isBinary() ? "binary (1 = +1, 0 = -1)" : spec.signed() ? "two's complement"
            : "unsigned").append(", scale ").append(spec.scale()).append(", zero point ").append(spec.zeroPoint())
        .append(", C order\n");
    for (int v : codes) {
      sb.append(HardwareFiles.word(v, spec.bits(), spec.isBinary())).append('\n');
    }
    Files.writeString(dir.resolve(mem), sb.toString(), StandardCharsets.US_ASCII);
    return List.of(npy, mem);
  }

  /** The index of the largest code (the first one on ties), i.e. the class an argmax over output codes picks. */
  public static int argMax(int[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }
}
