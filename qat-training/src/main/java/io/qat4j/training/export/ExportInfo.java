package io.qat4j.training.export;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code source.json} of an export directory: where the export came from (so {@code qat simulate} finds the
 * fake-quant model and the data set) and the accumulator width the export was made for. Not part of the
 * export format proper ({@code manifest.json} is); readers of the format may ignore it.
 *
 * @param runDir the run directory (absolute), or null
 * @param model the DL4J model zip the export was made from (absolute)
 * @param dataset the data set name of the run (mnist, fashion-mnist, cifar10), or null
 * @param accumulatorBits accumulator width of the target hardware (2..32)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ExportInfo(
    @JsonProperty("run_dir") String runDir,
    @JsonProperty("model") String model,
    @JsonProperty("dataset") String dataset,
    @JsonProperty("accumulator_bits") int accumulatorBits) {

  /** File name in the export directory. */
  public static final String FILE = "source.json";

  private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Writes {@code source.json} into the export directory. */
  public void write(Path exportDir) throws IOException {
    MAPPER.writeValue(exportDir.resolve(FILE).toFile(), this);
  }

  /** Reads {@code source.json} of an export directory, or null when there is none. */
  public static ExportInfo read(Path exportDir) throws IOException {
    Path f = exportDir.resolve(FILE);
    return Files.isRegularFile(f) ? MAPPER.readValue(f.toFile(), ExportInfo.class) : null;
  }
}
