package io.qat4j.inference.format;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An export in memory: the manifest and its integer tensors keyed by file name.
 *
 * <p>The constructor checks that every weight / bias file of the manifest is present, has the declared shape
 * and holds only codes in the tensor's range [qmin, qmax].
 */
public record ExportModel(Manifest manifest, Map<String, IntTensor> tensors) {

  /** Validates tensors against the manifest. */
  public ExportModel {
    for (TensorSpec spec : tensorSpecs(manifest)) {
      IntTensor t = tensors.get(spec.file());
      if (t == null) {
        throw new IllegalArgumentException("tensor file " + spec.file() + " is missing; present: " + tensors.keySet());
      }
      if (!t.shapeList().equals(spec.shape())) {
        throw new IllegalArgumentException("tensor " + spec.file() + " has shape " + t.shapeList()
            + " but the manifest says " + spec.shape());
      }
      int lo = spec.qmin();
      int hi = spec.qmax();
      for (int v : t.data()) {
        if (v < lo || v > hi || "binary".equals(spec.quantizer()) && v == 0) {
          throw new IllegalArgumentException("tensor " + spec.file() + " holds " + v + "; allowed: "
              + ("binary".equals(spec.quantizer()) ? "-1, +1" : "[" + lo + ", " + hi + "]"));
        }
      }
    }
    tensors = Map.copyOf(new LinkedHashMap<>(tensors));
  }

  /** The tensor of a spec. */
  public IntTensor tensor(TensorSpec spec) {
    return tensors.get(spec.file());
  }

  /** Every weight and bias spec of the manifest, in layer order. */
  public static List<TensorSpec> tensorSpecs(Manifest manifest) {
    List<TensorSpec> out = new ArrayList<>();
    for (LayerSpec l : manifest.layers()) {
      if (l.weights() != null) {
        out.add(l.weights());
      }
      if (l.bias() != null) {
        out.add(l.bias());
      }
    }
    return out;
  }
}
