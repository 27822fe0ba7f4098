package io.qat4j.inference.format;

import static io.qat4j.inference.TestModels.act;
import static io.qat4j.inference.TestModels.list;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qat4j.inference.Requantizer;
import io.qat4j.inference.TestModels;
import io.qat4j.inference.engine.EngineConfig;
import io.qat4j.inference.engine.IntegerEngine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Round trips of the export files and the exact content of the .npy, .mem, .coe and .h renderings. */
class ExportFilesTest {

  @ParameterizedTest
  @ValueSource(strings = {"int8", "int16", "int32"})
  void npyRoundTripKeepsEveryInteger(String dtype, @TempDir Path dir) throws Exception {
    int hi = dtype.equals("int8") ? 127 : dtype.equals("int16") ? 32767 : Integer.MAX_VALUE;
    int lo = -hi - 1;
    IntTensor t = new IntTensor(new int[] {2, 3}, new int[] {lo, -1, 0, 1, hi, 42});
    Path f = dir.resolve("t.npy");
    Npy.write(f, t, dtype);
    byte[] b = Files.readAllBytes(f);
    assertEquals((byte) 0x93, b[0]);
    assertEquals("NUMPY", new String(b, 1, 5, StandardCharsets.US_ASCII));
    assertEquals(1, b[6]);
    int headerLen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
    assertEquals(0, (10 + headerLen) % 64, "data starts on a 64-byte boundary");
    int width = dtype.equals("int8") ? 1 : dtype.equals("int16") ? 2 : 4;
    assertEquals(10 + headerLen + 6 * width, b.length);
    assertEquals(t, Npy.read(f));
  }

  @Test
  void npyHeaderTextAndLittleEndianBytes() {
    byte[] b = Npy.toBytes(new IntTensor(new int[] {3}, new int[] {-2, 1, 256}), "int16");
    String header = new String(b, 10, 118, StandardCharsets.US_ASCII);
    assertTrue(header.startsWith("{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }"), header);
    assertTrue(header.endsWith(" \n"));
    // -2 = 0xfffe -> fe ff; 1 -> 01 00; 256 -> 00 01
    assertArrayEquals(new byte[] {(byte) 0xfe, (byte) 0xff, 1, 0, 0, 1}, Arrays.copyOfRange(b, 128, 134));
    assertThrows(IllegalArgumentException.class,
        () -> Npy.toBytes(new IntTensor(new int[] {1}, new int[] {128}), "int8"));
  }

  private static final int[] SMALL = {-1, 3, -8, 7, 0};

  private static TensorSpec spec(int bits) {
    return new TensorSpec("l1.weight.npy", List.of(5), "int8", bits, true, "int", null, List.of(0.25),
        List.of(0), "Q" + (bits - 3) + ".2");
  }

  @Test
  void memAndCoeHoldTwosComplementWordsAtFourAndEightBits() {
    IntTensor t = new IntTensor(new int[] {5}, SMALL);
    // 4 bits: -1 = 1111 = f, 3 = 3, -8 = 1000 = 8, 7 = 7, 0 = 0
    assertEquals("// l1.weight.npy shape [5], 4-bit two's complement, C order\nf\n3\n8\n7\n0\n",
        HardwareFiles.mem(spec(4), t));
    // 8 bits: -1 = ff, 3 = 03, -8 = f8, 7 = 07, 0 = 00
    assertEquals("// l1.weight.npy shape [5], 8-bit two's complement, C order\nff\n03\nf8\n07\n00\n",
        HardwareFiles.mem(spec(8), t));
    assertEquals("; l1.weight.npy shape [5], 4-bit two's complement, C order\n"
        + "memory_initialization_radix=16;\nmemory_initialization_vector=\nf,\n3,\n8,\n7,\n0;\n",
        HardwareFiles.coe(spec(4), t));
    assertEquals("; l1.weight.npy shape [5], 8-bit two's complement, C order\n"
        + "memory_initialization_radix=16;\nmemory_initialization_vector=\nff,\n03,\nf8,\n07,\n00;\n",
        HardwareFiles.coe(spec(8), t));
    // 32-bit bias words, binary words
    assertEquals("80000000", HardwareFiles.word(Integer.MIN_VALUE, 32, false));
    assertEquals("fffffffe", HardwareFiles.word(-2, 32, false));
    assertEquals("000", HardwareFiles.word(0, 9, false));
    assertEquals("1ff", HardwareFiles.word(-1, 9, false));
    assertEquals("1", HardwareFiles.word(1, 1, true));
    assertEquals("0", HardwareFiles.word(-1, 1, true));
  }

  /** {@link TestModels#smallModel()}. */
  static ExportModel smallModel() {
    return TestModels.smallModel();
  }

  @Test
  void exportDirectoryRoundTripIsIdentical(@TempDir Path dir) throws Exception {
    ExportModel model = smallModel();
    Manifest written = ExportWriter.write(dir, model, List.of("coe", "c", "mem"));
    assertEquals(List.of("npy", "c", "mem", "coe"), written.formats());
    for (String f : List.of("manifest.json", "model.h", "conv1.weight.npy", "conv1.weight.mem", "conv1.weight.coe",
        "conv1.bias.mem", "fc.weight.coe")) {
      assertTrue(Files.isRegularFile(dir.resolve(f)), f);
    }
    ExportModel back = ExportReader.read(dir);
    assertEquals(written, back.manifest());
    assertEquals(model.tensors(), back.tensors());
    String json = Files.readString(dir.resolve("manifest.json"));
    assertTrue(json.contains("\"format_version\" : 1") && json.contains("\"zero_point\" : -3")
        && json.contains("\"q_format\" : \"Q0.3\"") && !json.contains("null"), json);

    int[] x = TestModels.random(new Random(5), 16, -128, 127);
    IntegerEngine a = new IntegerEngine(model, EngineConfig.INT32);
    IntegerEngine b = IntegerEngine.load(dir, EngineConfig.INT32);
    assertArrayEquals(a.run(x), b.run(x));
  }

  @Test
  void tiesToEvenSurvivesJsonAndReachesTheHeader() throws Exception {
    Requant even = Requantizer.requant(true, true, 0.25, 0.125);
    String json = Formats.mapper().writeValueAsString(even);
    assertTrue(json.contains("\"ties\":\"even\"") || json.contains("\"ties\" : \"even\""), json);
    assertEquals(even, Formats.mapper().readValue(json, Requant.class));
    // without the field the kind's default rounding applies and nothing is written
    Requant plain = Requantizer.requant(0.25, 0.125);
    assertTrue(!Formats.mapper().writeValueAsString(plain).contains("ties"));
    assertEquals(plain, Formats.mapper().readValue(Formats.mapper().writeValueAsString(plain), Requant.class));
    ExportModel small = smallModel();
    List<LayerSpec> layers = new java.util.ArrayList<>(small.manifest().layers());
    LayerSpec c = layers.get(0);
    layers.set(0, LayerSpec.builder(c.name(), c.op(), c.inputs().get(0)).inputShapes(c.inputShapes().get(0))
        .output(c.output()).kernel(2, 2).stride(1, 1).padding(0, 0, 1, 1).dilation(1, 1).weights(c.weights())
        .bias(c.bias()).requant(even).clamp(-3, 127).accumulatorBits(15).build());
    Manifest m = small.manifest();
    String h = HardwareFiles.cHeader(new ExportModel(Manifest.of(m.model(), m.formats(), m.input(), layers),
        small.tensors()));
    assertTrue(h.contains("#define CONV1_REQUANT_TIES_EVEN 1\n"), h);
  }

  @Test
  void cHeaderHasArraysAndMacros() {
    String h = HardwareFiles.cHeader(smallModel());
    assertTrue(h.contains("#ifndef QAT4J_MODEL_H\n#define QAT4J_MODEL_H\n\n#include <stdint.h>\n"), h);
    assertTrue(h.contains("#define INPUT_ZERO_POINT 0\n"));
    assertTrue(h.contains("#define CONV1_OUT_ZERO_POINT -3\n"));
    assertTrue(h.contains("#define CONV1_PAD_BOTTOM 1\n"));
    assertTrue(h.contains("#define CONV1_ACC_BITS 15\n"));
    assertTrue(h.contains("#define CONV1_REQUANT_SHIFT_ONLY 1\n"));
    assertTrue(h.contains("#define CONV1_REQUANT_TIES_EVEN 0\n"));
    assertTrue(h.contains("static const int32_t conv1_shift[2] = {\n  2, 3\n};\n"), h);
    assertTrue(h.contains("static const int32_t conv1_bias[2] = {\n  -100000, 2000000000\n};\n"));
    assertTrue(h.contains("static const int16_t fc_weight[24] = {"));
    assertTrue(h.contains("#define ADD1_LEFT_SHIFT 20\n"));
    assertTrue(h.contains("static const int32_t add1_in0_multiplier[1] = {\n  1073741824\n};\n"));
    assertTrue(h.contains("#define FC_WEIGHT_DIM1 8\n"));
    assertTrue(h.endsWith("#endif /* QAT4J_MODEL_H */\n"));
    ExportModel small = smallModel();
    Map<String, IntTensor> t = new java.util.HashMap<>(small.tensors());
    t.put("conv1.bias.npy", IntTensor.of(list(2), Integer.MIN_VALUE, 0));
    assertTrue(HardwareFiles.cHeader(new ExportModel(small.manifest(), t))
        .contains("static const int32_t conv1_bias[2] = {\n  (-2147483647 - 1), 0\n};\n"));
  }

  @Test
  void validationNamesBadValuesAndAllowedOnes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> LayerSpec.builder("x", "conv3d", "input").output(act(list(1, 1), 8, true, 1, 0)).build());
    assertTrue(e.getMessage().contains("conv3d") && e.getMessage().contains("depthwise_conv2d"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> act(list(1), 8, true, 0.1, 200));
    assertTrue(e.getMessage().contains("200") && e.getMessage().contains("127"), e.getMessage());
    ExportModel m = smallModel();
    Map<String, IntTensor> t = new java.util.HashMap<>(m.tensors());
    t.put("conv1.weight.npy", IntTensor.of(list(2, 1, 2, 2), 0, 0, 0, 0, 0, 0, 0, 8));
    e = assertThrows(IllegalArgumentException.class, () -> new ExportModel(m.manifest(), t));
    assertTrue(e.getMessage().contains("8") && e.getMessage().contains("[-8, 7]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Manifest.of("m", null, act(list(1, 4), 8, true, 1, 0),
        List.of(LayerSpec.builder("r", "relu", "nope").output(act(list(1, 4), 8, true, 1, 0)).build())));
    assertTrue(e.getMessage().contains("nope") && e.getMessage().contains("input"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Manifest.of("m", null, act(list(1, 4), 8, true, 1, 0),
        List.of(LayerSpec.builder("r", "relu", "input").output(act(list(1, 4), 8, true, 2, 0)).build())));
    assertTrue(e.getMessage().contains("scale 2.0"), e.getMessage());
  }

  @Test
  void qFormatNamesPowerOfTwoScales() {
    assertEquals("Q0.7", Formats.qFormat(8, true, 1.0 / 128));
    assertEquals("Q2.5", Formats.qFormat(8, true, 1.0 / 32));
    assertEquals("Q4.4", Formats.qFormat(8, false, 1.0 / 16));
    assertEquals(null, Formats.qFormat(8, true, 0.1));
    assertEquals("int8", Formats.dtypeFor(8, true));
    assertEquals("int16", Formats.dtypeFor(8, false));
    assertEquals("int32", Formats.dtypeFor(32, true));
  }
}
