package io.qat4j.inference;

import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.IntTensor;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.inference.format.Manifest;
import io.qat4j.inference.format.TensorSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Small hand-built exports for the tests. */
public final class TestModels {
  private TestModels() {}

  /** Per-tensor activation quantization. */
  public static ActivationSpec act(List<Integer> shape, int bits, boolean signed, double scale, int zp) {
    return ActivationSpec.of(shape, bits, signed, scale, zp);
  }

  /** A weight tensor spec: per-channel (axis 0) with the given zero points, unit scales. */
  public static TensorSpec weights(String file, List<Integer> shape, int bits, boolean signed, String quantizer,
      Integer... zeroPoints) {
    int ch = zeroPoints.length;
    return new TensorSpec(file, shape, io.qat4j.inference.format.Formats.dtypeFor(bits, signed), bits, signed,
        quantizer, ch == 1 ? null : 0, Collections.nCopies(ch, 0.01), List.of(zeroPoints), null);
  }

  /** A binary weight tensor spec (bits 1, values -1/+1). */
  public static TensorSpec binaryWeights(String file, List<Integer> shape) {
    return new TensorSpec(file, shape, "int8", 1, true, "binary", null, List.of(0.5), List.of(0), null);
  }

  /** An int32 bias spec with per-channel scales. */
  public static TensorSpec bias(String file, int channels) {
    return new TensorSpec(file, List.of(channels), "int32", 32, true, "bias", 0,
        Collections.nCopies(channels, 1e-4), Collections.nCopies(channels, 0), null);
  }

  /** Model from an input, layers and tensors. */
  public static ExportModel model(ActivationSpec input, List<LayerSpec> layers, Map<String, IntTensor> tensors) {
    return new ExportModel(Manifest.of("test", List.of("npy"), input, layers), tensors);
  }

  /** A mutable tensor map. */
  public static Map<String, IntTensor> tensors() {
    return new HashMap<>();
  }

  /** Random codes in [lo, hi]. */
  public static int[] random(Random r, int n, int lo, int hi) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = lo + r.nextInt(hi - lo + 1);
    }
    return a;
  }

  /** Boxed list of ints. */
  public static List<Integer> list(int... v) {
    List<Integer> l = new ArrayList<>();
    for (int x : v) {
      l.add(x);
    }
    return l;
  }
}
