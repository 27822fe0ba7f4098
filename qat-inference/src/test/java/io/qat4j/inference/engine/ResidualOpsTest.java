package io.qat4j.inference.engine;

import static io.qat4j.inference.TestModels.act;
import static io.qat4j.inference.TestModels.list;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qat4j.inference.Requantizer;
import io.qat4j.inference.TestModels;
import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.ExportReader;
import io.qat4j.inference.format.ExportWriter;
import io.qat4j.inference.format.Formats;
import io.qat4j.inference.format.HardwareFiles;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.inference.format.Manifest;
import io.qat4j.inference.format.Requant;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** global_avg_pool and pad_channels (residual networks) against hand-computed codes, JSON and validation. */
class ResidualOpsTest {

  /** Input [1, 2, 2, 2], int8, scale 0.1, zero point -3; channel 0 codes centered [1, 2, 3, 3] (sum 9),
   *  channel 1 centered [-1, -2, -3, -3] (sum -9). */
  private static final int[] X = {-2, -1, 0, 0, -4, -5, -6, -6};
  private static final ActivationSpec IN = act(list(1, 2, 2, 2), 8, true, 0.1, -3);

  private static LayerSpec gap(Requant r, double outScale, int zp) {
    LayerSpec.Builder b = LayerSpec.builder("gap", "global_avg_pool", "input").output(act(list(1, 2), 8, true,
        outScale, zp));
    return (r == null ? b : b.requant(r)).build();
  }

  /** The reference engine's output for X; the fast engine must give the same codes for X and random inputs. */
  private static int[] run(LayerSpec... layers) {
    ExportModel m = TestModels.model(IN, List.of(layers), TestModels.tensors());
    int[] y = new IntegerEngine(m, EngineConfig.INT32).run(X);
    try (FastEngine fast = new FastEngine(m, EngineConfig.INT32, 1)) {
      assertArrayEquals(y, fast.run(X), "fast engine");
    }
    FastEngineTest.assertSameCodes(m, EngineConfig.INT32, 100, new java.util.Random(5));
    return y;
  }

  /*
   * r = s_x / (H W s_y) = 0.1 / (4 * 0.05) = 0.5 exactly: acc [9, -9] -> real [4.5, -4.5], ties everywhere.
   *   shift 1, half away from zero (RoundingDivideByPOT): [5, -5]; ties even: [4, -4]
   *   single_round_multiplier M0 = 2^30, s = 31, half up: (9 * 2^30 + 2^30) >> 31 = 5; (-9 * 2^30 + 2^30) >> 31 = -4;
   *     ties even: 4.5 -> 4, -4.5 -> -4
   *   multiplier (gemmlowp SRDHM, halves up): 9 -> (9 * 2^30 + 2^30) / 2^31 = 5; -9 -> (-9 * 2^30 + 1 - 2^30) / 2^31
   *     = -4.99.. truncated -> -4
   * plus the output zero point -7.
   */
  @ParameterizedTest(name = "{0} ties {1}")
  @CsvSource({"shift, away, -2, -12", "shift, even, -3, -11", "single_round_multiplier, up, -2, -11",
      "single_round_multiplier, even, -3, -11", "multiplier, up, -2, -11"})
  void globalAvgPoolRoundsTiesByTheRequantKind(String kind, String ties, int y0, int y1) {
    Requant r = kind.equals("shift") ? new Requant("shift", null, List.of(1))
        : Requantizer.multipliers(kind.equals("single_round_multiplier"), 0.5);
    if (ties.equals("even")) {
      r = r.withTiesToEven();
    }
    assertArrayEquals(new int[] {y0, y1}, run(gap(r, 0.05, -7)));
  }

  @Test
  void globalAvgPoolWithoutRequantIsTheExactSum() {
    // output scale s_x / 4 = 0.025: y = acc + zp = [9 + 10, -9 + 10] = [19, 1]
    assertArrayEquals(new int[] {19, 1}, run(gap(null, 0.025, 10)));
    // the clamp applies after the zero point: [max(min(9 - 100, 50), -95), ...] = [-91, -95]
    LayerSpec clamped = LayerSpec.builder("gap", "global_avg_pool", "input").output(act(list(1, 2), 8, true, 0.025,
        -100)).clamp(-95, 50).build();
    assertArrayEquals(new int[] {-91, -95}, run(clamped));
  }

  @Test
  void padChannelsAddsRealZerosAroundTheInput() {
    LayerSpec pad = LayerSpec.builder("pad", "pad_channels", "input").output(IN.withShape(list(1, 5, 2, 2)))
        .channelPadding(1, 2).build();
    assertArrayEquals(new int[] {-3, -3, -3, -3, -2, -1, 0, 0, -4, -5, -6, -6, -3, -3, -3, -3, -3, -3, -3, -3},
        run(pad));
    // a clamp applies to the zero channels as well: zx = -3 -> -4 is unchanged, -5 and -6 become -4
    LayerSpec clamped = LayerSpec.builder("pad", "pad_channels", "input").output(IN.withShape(list(1, 3, 2, 2)))
        .channelPadding(0, 1).clamp(-4, 127).build();
    assertArrayEquals(new int[] {-2, -1, 0, 0, -4, -4, -4, -4, -3, -3, -3, -3}, run(clamped));
  }

  @Test
  void optionAShortcutIsAStrideTwoOneByOneMaxPoolThenChannelPadding() {
    // 1 channel 5x5 codes 0..24 (zero point -3): kernel [1, 1], stride [2, 2] keeps rows / columns 0, 2, 4
    ActivationSpec in = act(list(1, 1, 5, 5), 8, true, 0.1, -3);
    LayerSpec sub = LayerSpec.builder("sub", "max_pool", "input").output(in.withShape(list(1, 1, 3, 3))).kernel(1, 1)
        .stride(2, 2).build();
    LayerSpec pad = LayerSpec.builder("pad", "pad_channels", "sub").output(in.withShape(list(1, 2, 3, 3)))
        .channelPadding(0, 1).build();
    int[] x = new int[25];
    for (int i = 0; i < 25; i++) {
      x[i] = i;
    }
    ExportModel model = TestModels.model(in, List.of(sub, pad), TestModels.tensors());
    FastEngineTest.assertSameCodes(model, EngineConfig.INT32, 100, new java.util.Random(9));
    IntegerEngine e = new IntegerEngine(model, EngineConfig.INT32);
    assertArrayEquals(new int[] {0, 2, 4, 10, 12, 14, 20, 22, 24, -3, -3, -3, -3, -3, -3, -3, -3, -3}, e.run(x));
  }

  @Test
  void newOpsSurviveTheManifestRoundTripAndReachTheHeader(@TempDir Path dir) throws Exception {
    ExportModel m = TestModels.residualModel();
    Manifest written = ExportWriter.write(dir, m, List.of("c"));
    ExportModel back = ExportReader.read(dir);
    assertEquals(written, back.manifest());
    assertEquals(m.manifest().layers(), back.manifest().layers());
    String json = Files.readString(dir.resolve("manifest.json"));
    assertTrue(json.contains("\"op\" : \"global_avg_pool\"") && json.contains("\"op\" : \"pad_channels\"")
        && json.contains("\"channel_padding\" : [ 2, 2 ]"), json);
    assertEquals(written, Formats.mapper().readValue(json, Manifest.class));
    String h = HardwareFiles.cHeader(back);
    assertTrue(h.contains("#define PAD_CHANNEL_PAD_BEFORE 2\n") && h.contains("#define PAD_CHANNEL_PAD_AFTER 2\n"), h);
    assertTrue(!h.contains("GAP_REQUANT") || h.contains("#define GAP_REQUANT_CHANNELS 1\n"), h);
    int[] x = TestModels.random(new java.util.Random(3), m.manifest().input().size(), 0, 255);
    assertArrayEquals(new IntegerEngine(m, EngineConfig.INT32).run(x),
        IntegerEngine.load(dir, EngineConfig.INT32).run(x));
  }

  @Test
  void badFieldsAreRejectedWithTheAllowedValues() {
    ActivationSpec out = IN.withShape(list(1, 3, 2, 2));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LayerSpec.builder("pad", "pad_channels", "input").output(out).build());
    assertTrue(e.getMessage().contains("channel_padding is required") && e.getMessage().contains("[before, after]"),
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> LayerSpec.builder("pad", "pad_channels", "input").output(out).channelPadding(-1, 2).build());
    assertTrue(e.getMessage().contains("[-1, 2]") && e.getMessage().contains(">= 0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> LayerSpec.builder("r", "relu", "input").output(IN).channelPadding(1, 1).build());
    assertTrue(e.getMessage().contains("[1, 1] not allowed") && e.getMessage().contains("pad_channels only"),
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> gap(Requant.sign(), 1, 0));
    assertTrue(e.getMessage().contains("sign") && e.getMessage().contains("per tensor"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> gap(Requantizer.multipliers(0.1, 0.2), 1, 0));
    assertTrue(e.getMessage().contains("2 channel(s)"), e.getMessage());
    // pad_channels keeps its input's quantization
    e = assertThrows(IllegalArgumentException.class, () -> TestModels.model(IN, List.of(LayerSpec.builder("pad",
        "pad_channels", "input").output(act(list(1, 3, 2, 2), 8, true, 0.1, 0)).channelPadding(0, 1).build()),
        TestModels.tensors()));
    assertTrue(e.getMessage().contains("must keep the quantization") && e.getMessage().contains("zero_point 0"),
        e.getMessage());
    // shapes are checked by the engine
    e = assertThrows(IllegalArgumentException.class, () -> run(LayerSpec.builder("pad", "pad_channels", "input")
        .output(IN.withShape(list(1, 4, 2, 2))).channelPadding(0, 1).build()));
    assertTrue(e.getMessage().contains("[1, 3, 2, 2]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> run(LayerSpec.builder("gap", "global_avg_pool", "input")
        .output(act(list(1, 2, 1, 1), 8, true, 1, 0)).build()));
    assertTrue(e.getMessage().contains("allowed: [1, 2]"), e.getMessage());
    // 32-bit codes: a 2x2 sum of centered codes can exceed int32
    ActivationSpec wide = act(list(1, 1, 2, 2), 32, true, 1, 0);
    e = assertThrows(IllegalArgumentException.class, () -> new IntegerEngine(TestModels.model(wide, List.of(
        LayerSpec.builder("gap", "global_avg_pool", "input").output(act(list(1, 1), 8, true, 1, 0)).build()),
        TestModels.tensors()), EngineConfig.INT32));
    assertTrue(e.getMessage().contains("2^31 - 1"), e.getMessage());
  }

  @Test
  void residualModelRunsEndToEnd() {
    ExportModel m = TestModels.residualModel();
    IntegerEngine e = new IntegerEngine(m, EngineConfig.INT32);
    int[] x = TestModels.random(new java.util.Random(8), m.manifest().input().size(), 0, 255);
    Map<String, int[]> all = e.runAll(x);
    int[] sub = all.get("sub");
    int[] pad = all.get("pad");
    int area = 2 * 2;
    for (int c = 0; c < 8; c++) {
      for (int p = 0; p < area; p++) {
        assertEquals(c < 2 || c >= 6 ? m.manifest().layers().get(0).output().zeroPoint() : sub[(c - 2) * area + p],
            pad[c * area + p]);
      }
    }
    assertEquals(List.of(1, 10), m.manifest().outputLayer().output().shape());
    assertEquals(10, e.run(x).length);
  }
}
