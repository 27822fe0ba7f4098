package io.qat4j.training.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** User errors of {@code qat export} and {@code qat simulate}: exit code 2 and a message. */
class ExportCommandTest {

  @Test
  void missingRunDirectory(@TempDir Path tmp) {
    CliTestSupport.Outcome o = CliTestSupport.run("export", tmp.resolve("nope").toString());
    assertEquals(QatCli.USER_ERROR, o.exitCode(), o.err());
    assertTrue(o.err().contains("not a directory"), o.err());
  }

  @Test
  void runWithoutModel(@TempDir Path tmp) {
    CliTestSupport.Outcome o = CliTestSupport.run("export", tmp.toString());
    assertEquals(QatCli.USER_ERROR, o.exitCode(), o.err());
    assertTrue(o.err().contains("best.zip"), o.err());
  }

  @Test
  void unknownFormat(@TempDir Path tmp) {
    CliTestSupport.Outcome o = CliTestSupport.run("export", tmp.toString(), "--formats", "npy,vhdl");
    assertEquals(QatCli.USER_ERROR, o.exitCode(), o.err());
    assertTrue(o.err().contains("vhdl"), o.err());
  }

  @Test
  void badAccumulatorWidth(@TempDir Path tmp) {
    CliTestSupport.Outcome o = CliTestSupport.run("export", tmp.toString(), "--acc-bits", "40");
    assertEquals(QatCli.USER_ERROR, o.exitCode(), o.err());
    assertTrue(o.err().contains("--acc-bits"), o.err());
  }

  @Test
  void simulateNeedsAnExport(@TempDir Path tmp) {
    CliTestSupport.Outcome o = CliTestSupport.run("simulate", tmp.toString());
    assertEquals(QatCli.USER_ERROR, o.exitCode(), o.err());
    assertTrue(o.err().contains("manifest.json"), o.err());
  }

  @Test
  void simulateNeedsARun(@TempDir Path tmp) throws Exception {
    Files.writeString(tmp.resolve("manifest.json"), "{}");
    CliTestSupport.Outcome o = CliTestSupport.run("simulate", tmp.toString());
    assertEquals(QatCli.USER_ERROR, o.exitCode(), o.err());
    assertTrue(o.err().contains("--run"), o.err());
  }
}
