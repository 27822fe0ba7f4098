package io.qat4j.inference.format;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Reads an export directory: {@code manifest.json} and the {@code .npy} tensors it names. */
public final class ExportReader {
  private ExportReader() {}

  /** Name of the manifest file in an export directory. */
  public static final String MANIFEST = "manifest.json";

  /** Reads and validates the manifest of an export directory. */
  public static Manifest readManifest(Path dir) throws IOException {
    Path file = dir.resolve(MANIFEST);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("export directory " + dir + " has no " + MANIFEST);
    }
    return Formats.mapper().readValue(file.toFile(), Manifest.class);
  }

  /** Reads the manifest and every tensor, checking shapes and code ranges. */
  public static ExportModel read(Path dir) throws IOException {
    Manifest m = readManifest(dir);
    Map<String, IntTensor> tensors = new HashMap<>();
    for (TensorSpec spec : ExportModel.tensorSpecs(m)) {
      tensors.put(spec.file(), Npy.read(dir.resolve(spec.file())));
    }
    return new ExportModel(m, tensors);
  }
}
