package io.qat4j.inference.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Proof that the engine's execution path is integer-only: (1) no floating-point type or rounding call in the
 * sources of {@code io.qat4j.inference.engine}; (2) no floating-point instruction, constant or descriptor in
 * the compiled classes of that package (disassembled with the JDK's javap).
 */
class IntegerOnlyTest {

  private static final Pattern SOURCE_FORBIDDEN = Pattern.compile(
      "\\b(float|double|Float|Double|BigDecimal|strictfp)\\b|Math\\.(rint|round|floor|ceil|pow|exp|log|sqrt|scalb)\\b");

  /** Float / double opcodes of the JVM (javap mnemonics) and descriptors. */
  private static final Pattern BYTECODE_FORBIDDEN = Pattern.compile(
      "\\b[fd](add|sub|mul|div|rem|neg|cmpl|cmpg|load(_\\d)?|store(_\\d)?|const_\\d|return|aload|astore)\\b"
          + "|\\b[ild]2[fd]\\b|\\b[fd]2[ild]\\b|\\bf2d\\b|\\bd2f\\b|\\b(float|double)\\b|\\[[FD]\\b");

  private static Path sourceDir() {
    return Paths.get("src/main/java/io/qat4j/inference/engine");
  }

  @Test
  void engineSourcesContainNoFloatingPoint() throws Exception {
    List<String> hits = new ArrayList<>();
    List<Path> files;
    try (Stream<Path> s = Files.list(sourceDir())) {
      files = s.filter(p -> p.toString().endsWith(".java")).toList();
    }
    assertTrue(files.size() >= 10, "engine sources found: " + files);
    for (Path f : files) {
      List<String> lines = Files.readAllLines(f);
      for (int i = 0; i < lines.size(); i++) {
        if (SOURCE_FORBIDDEN.matcher(lines.get(i)).find()) {
          hits.add(f.getFileName() + ":" + (i + 1) + ": " + lines.get(i).trim());
        }
      }
    }
    assertEquals(List.of(), hits);
  }

  @Test
  void engineBytecodeContainsNoFloatingPointInstructions() throws Exception {
    Optional<ToolProvider> javap = ToolProvider.findFirst("javap");
    Assumptions.assumeTrue(javap.isPresent(), "javap not available");
    Path classes = Paths.get(IntegerEngine.class.getProtectionDomain().getCodeSource().getLocation().toURI())
        .resolve("io/qat4j/inference/engine");
    List<String> args = new ArrayList<>(List.of("-c", "-p", "-v"));
    try (Stream<Path> s = Files.list(classes)) {
      s.filter(p -> p.toString().endsWith(".class")).forEach(p -> args.add(p.toString()));
    }
    assertTrue(args.size() > 12, "engine classes found: " + args);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int rc = javap.get().run(new PrintWriter(out), new PrintWriter(err), args.toArray(String[]::new));
    assertEquals(0, rc, err.toString());
    String text = out.toString();
    assertTrue(text.contains("imul") || text.contains("lmul"), "disassembly looks empty");
    List<String> hits = new ArrayList<>();
    for (String line : text.split("\n")) {
      // the constant pool lists every referenced type; only the code and signatures matter
      if (line.trim().startsWith("#") && !line.contains("= Float") && !line.contains("= Double")) {
        continue;
      }
      Matcher m = BYTECODE_FORBIDDEN.matcher(line);
      if (m.find() && !line.contains("// Method java/lang/invoke")) {
        hits.add(line.trim());
      }
    }
    assertEquals(List.of(), hits);
    assertFalse(text.contains("= Float") || text.contains("= Double"), "floating-point constants in the pool");
  }
}
