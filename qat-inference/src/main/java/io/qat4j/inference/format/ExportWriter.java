package io.qat4j.inference.format;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Writes an export directory: {@code manifest.json}, one {@code .npy} per tensor (always), and on request the
 * C header {@code model.h} ("c"), {@code $readmemh} files {@code <stem>.mem} ("mem") and Xilinx
 * {@code <stem>.coe} files ("coe"), stem = the .npy file name without its extension.
 */
public final class ExportWriter {
  private ExportWriter() {}

  /** Format names accepted by {@link #write}. */
  public static final List<String> FORMATS = List.of("npy", "c", "mem", "coe");
  /** File name of the C header. */
  public static final String C_HEADER = "model.h";

  /** Writes the model in the given formats ("npy" is always written); returns the manifest as written. */
  public static Manifest write(Path dir, ExportModel model, Collection<String> formats) throws IOException {
    List<String> fmts = new ArrayList<>();
    fmts.add("npy");
    for (String f : formats) {
      if (!FORMATS.contains(f)) {
        throw new IllegalArgumentException("export format '" + f + "' not allowed; allowed: " + FORMATS);
      }
    }
    for (String f : FORMATS) {
      if (!f.equals("npy") && formats.contains(f)) {
        fmts.add(f);
      }
    }
    Manifest src = model.manifest();
    Manifest m = new Manifest(src.format(), src.formatVersion(), src.model(), fmts, src.input(), src.layers());
    Files.createDirectories(dir);
    Formats.mapper().writeValue(dir.resolve(ExportReader.MANIFEST).toFile(), m);
    for (TensorSpec spec : ExportModel.tensorSpecs(m)) {
      IntTensor t = model.tensor(spec);
      Npy.write(dir.resolve(spec.file()), t, spec.dtype());
      String stem = spec.file().substring(0, spec.file().length() - ".npy".length());
      if (fmts.contains("mem")) {
        Files.writeString(dir.resolve(stem + ".mem"), HardwareFiles.mem(spec, t), StandardCharsets.US_ASCII);
      }
      if (fmts.contains("coe")) {
        Files.writeString(dir.resolve(stem + ".coe"), HardwareFiles.coe(spec, t), StandardCharsets.US_ASCII);
      }
    }
    if (fmts.contains("c")) {
      Files.writeString(dir.resolve(C_HEADER), HardwareFiles.cHeader(new ExportModel(m, model.tensors())),
          StandardCharsets.US_ASCII);
    }
    return m;
  }
}
