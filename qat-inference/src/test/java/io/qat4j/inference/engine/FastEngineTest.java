package io.qat4j.inference.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qat4j.inference.TestModels;
import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.IntTensor;
import io.qat4j.inference.format.LayerSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/**
 * The fast engine computes exactly the reference engine's codes: every layer's output for many random inputs, on the
 * module's test models and on random models of every op and requantization kind, with 32-bit and narrow, wrapping
 * and saturating accumulators, one and two threads, chunks of several sizes.
 */
class FastEngineTest {

  /** What a comparison covered. */
  record Coverage(long values, int distinctCodes, long overflows, List<String> referenceLayers) {}

  /**
   * Runs {@code samples} inputs (random codes, plus all-qmin, all-qmax and all-zero-point) through the reference
   * engine and the fast engine (two threads with chunks of 5, and one thread with the default chunk), and asserts
   * that every layer's codes are identical.
   */
  static Coverage assertSameCodes(ExportModel model, EngineConfig config, int samples, Random r) {
    ActivationSpec in = model.manifest().input();
    int[][] x = new int[samples][];
    for (int s = 0; s < samples; s++) {
      x[s] = TestModels.random(r, in.size(), in.qmin(), in.qmax());
    }
    java.util.Arrays.fill(x[0], in.qmin());
    java.util.Arrays.fill(x[Math.min(1, samples - 1)], in.qmax());
    java.util.Arrays.fill(x[Math.min(2, samples - 1)], in.zeroPoint());
    IntegerEngine ref = new IntegerEngine(model, config);
    List<Map<String, int[]>> expected = new ArrayList<>();
    for (int[] sample : x) {
      expected.add(ref.runAll(sample));
    }
    long values = 0;
    Set<Integer> distinct = new HashSet<>();
    List<String> fallback;
    try (FastEngine two = new FastEngine(model, config, 2, 5); FastEngine one = new FastEngine(model, config, 1)) {
      List<Map<String, int[]>> all = two.runAll(x);
      int[][] last = one.run(x);
      String out = model.manifest().outputLayer().name();
      for (int s = 0; s < samples; s++) {
        for (LayerSpec l : model.manifest().layers()) {
          int[] want = expected.get(s).get(l.name());
          assertArrayEquals(want, all.get(s).get(l.name()), "layer " + l.name() + " (" + l.op() + "), sample " + s);
          values += want.length;
          for (int v : want) {
            distinct.add(v);
          }
        }
        assertArrayEquals(expected.get(s).get(out), last[s], "output, one thread, sample " + s);
      }
      fallback = two.referenceLayers();
      assertEquals(fallback, one.referenceLayers());
    }
    long overflows = ref.stats().stream().mapToLong(LayerStats::overflows).sum();
    return new Coverage(values, distinct.size(), overflows, fallback);
  }

  @Test
  void testModelsOfTheModuleGiveIdenticalCodes() {
    Random r = new Random(1);
    long values = 0;
    ExportModel small = TestModels.smallModel();
    for (ExportModel m : List.of(small, TestModels.residualModel())) {
      for (EngineConfig c : List.of(EngineConfig.INT32, new EngineConfig(14, OverflowMode.WRAP),
          new EngineConfig(14, OverflowMode.SATURATE), new EngineConfig(32, OverflowMode.SATURATE))) {
        Coverage cov = assertSameCodes(m, c, 300, r);
        // the small file-format model saturates most codes on purpose (bias 2e9); the residual model's vary
        assertTrue(m == small || cov.distinctCodes() > 50, "codes vary: " + cov);
        values += cov.values();
      }
    }
    assertTrue(values > 100_000, "values compared: " + values);
  }

  @Test
  void randomModelsOfEveryOpGiveIdenticalCodes() {
    long values = 0;
    int wrapOverflowModels = 0;
    int saturateFast = 0;
    int saturateFallback = 0;
    int varied = 0;
    Map<String, Integer> ops = new HashMap<>();
    Set<String> requants = new HashSet<>();
    for (long seed = 0; seed < 120; seed++) {
      ExportModel m = RandomModels.create(seed);
      for (LayerSpec l : m.manifest().layers()) {
        ops.merge(l.op(), 1, Integer::sum);
        if (l.requant() != null) {
          requants.add(l.requant().kind() + (l.requant().tiesToEven() ? "/even" : ""));
        }
      }
      Random r = new Random(seed);
      EngineConfig narrow = new EngineConfig(10 + r.nextInt(12), OverflowMode.WRAP);
      EngineConfig saturate = new EngineConfig(12 + r.nextInt(21), OverflowMode.SATURATE);
      for (EngineConfig c : List.of(EngineConfig.INT32, narrow, saturate)) {
        Coverage cov = assertSameCodes(m, c, 40, r);
        values += cov.values();
        if (c == EngineConfig.INT32 && cov.distinctCodes() > 30) {
          varied++;
        }
        if (c == narrow && cov.overflows() > 0) {
          wrapOverflowModels++;
        }
        if (c == saturate) {
          if (cov.referenceLayers().isEmpty()) {
            saturateFast++;
          } else {
            saturateFallback++;
          }
        }
      }
    }
    assertTrue(ops.keySet().containsAll(LayerSpec.OPS), "ops covered: " + ops);
    assertTrue(requants.containsAll(List.of("shift", "shift/even", "multiplier", "single_round_multiplier",
        "single_round_multiplier/even", "sign")), "requant kinds covered: " + requants);
    assertTrue(wrapOverflowModels > 20, "models whose narrow wrapping accumulators overflowed: " + wrapOverflowModels);
    assertTrue(saturateFast > 10 && saturateFallback > 10, "saturating: fast " + saturateFast + ", with reference layers "
        + saturateFallback);
    assertTrue(values > 1_000_000, "values compared: " + values);
    assertTrue(varied > 100, "models with more than 30 distinct codes: " + varied);
  }

  @Test
  void leNetSizedModelWithZeroBordersGivesIdenticalCodes() {
    // MNIST-like inputs: a zero border in every image (all-zero input rows are skipped), random codes inside
    ExportModel m = io.qat4j.inference.bench.LeNetExport.create(7);
    Random r = new Random(8);
    int[][] x = new int[70][784];
    for (int[] img : x) {
      for (int y = 4; y < 24; y++) {
        for (int c = 4; c < 24; c++) {
          img[y * 28 + c] = r.nextInt(3) == 0 ? 0 : r.nextInt(256) - 128;
        }
      }
    }
    IntegerEngine ref = new IntegerEngine(m, EngineConfig.INT32);
    Set<Integer> distinct = new HashSet<>();
    try (FastEngine fast = new FastEngine(m, EngineConfig.INT32, 2)) {
      List<Map<String, int[]>> all = fast.runAll(x);
      for (int s = 0; s < x.length; s++) {
        Map<String, int[]> want = ref.runAll(x[s]);
        for (LayerSpec l : m.manifest().layers()) {
          assertArrayEquals(want.get(l.name()), all.get(s).get(l.name()), l.name() + ", sample " + s);
        }
        for (int v : want.get("fc2")) {
          distinct.add(v);
        }
      }
    }
    assertTrue(distinct.size() > 50, "logit codes vary: " + distinct.size());
  }

  @Test
  void aDifferentModelIsCaught() {
    // the comparison is not vacuous: one weight of the residual model changed -> some codes differ
    ExportModel m = TestModels.residualModel();
    Map<String, IntTensor> t = new HashMap<>(m.tensors());
    int[] w = t.get("conv2.weight.npy").data().clone();
    w[0] = w[0] == 7 ? -8 : 7;
    t.put("conv2.weight.npy", new IntTensor(t.get("conv2.weight.npy").shape(), w));
    ExportModel changed = new ExportModel(m.manifest(), t);
    Random r = new Random(2);
    int[][] x = new int[50][];
    for (int s = 0; s < x.length; s++) {
      x[s] = TestModels.random(r, m.manifest().input().size(), 0, 255);
    }
    IntegerEngine ref = new IntegerEngine(m, EngineConfig.INT32);
    try (FastEngine fast = new FastEngine(changed, EngineConfig.INT32, 2)) {
      int[][] y = fast.run(x);
      assertThrows(AssertionFailedError.class, () -> {
        for (int s = 0; s < x.length; s++) {
          assertArrayEquals(ref.runAll(x[s]).get("conv2"), fast.runAll(new int[][] {x[s]}).get(0).get("conv2"));
        }
      });
      assertEquals(50, y.length);
    }
  }

  @Test
  void narrowAccumulatorGoldensOfTheReferenceHoldInTheFastEngine() {
    // NarrowAccumulatorTest's dense layer: 8 x (127 * 127) in 16 / 17 / 18-bit accumulators
    int[] x = new int[8];
    java.util.Arrays.fill(x, 127);
    for (String[] c : new String[][] {{"16", "wrap", "-2040"}, {"16", "saturate", "32767"}, {"17", "wrap", "-2040"},
        {"17", "saturate", "65535"}, {"18", "saturate", "129032"}, {"32", "wrap", "129032"}}) {
      EngineConfig config = new EngineConfig(Integer.parseInt(c[0]), OverflowMode.fromName(c[1]));
      try (FastEngine e = new FastEngine(NarrowAccumulatorTest.model(), config, 1)) {
        assertArrayEquals(new int[] {Integer.parseInt(c[2])}, e.run(x), String.join(" ", c));
        assertEquals(c[1].equals("saturate") && !c[0].equals("18") ? List.of("fc") : List.of(), e.referenceLayers());
      }
      assertSameCodes(NarrowAccumulatorTest.model(), config, 200, new Random(3));
    }
  }

  @Test
  void batchesOfAnySizeAndBadArguments() {
    ExportModel m = TestModels.residualModel();
    try (FastEngine e = new FastEngine(m, EngineConfig.INT32, 2, 3)) {
      assertEquals(0, e.run(new int[0][]).length);
      int[] x = TestModels.random(new Random(4), 48, 0, 255);
      assertArrayEquals(new IntegerEngine(m, EngineConfig.INT32).run(x), e.run(x));
      assertEquals(2, e.threads());
      IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> e.run(new int[][] {x,
          new int[47]}));
      assertTrue(ex.getMessage().contains("47") && ex.getMessage().contains("48"), ex.getMessage());
      int[] bad = x.clone();
      bad[5] = 256;
      ex = assertThrows(IllegalArgumentException.class, () -> e.run(bad));
      assertTrue(ex.getMessage().contains("256") && ex.getMessage().contains("255"), ex.getMessage());
    }
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
        () -> new FastEngine(m, EngineConfig.INT32, 0));
    assertTrue(ex.getMessage().contains("threads 0") && ex.getMessage().contains(">= 1"), ex.getMessage());
    // layers are validated as by the reference engine
    ActivationSpec in = TestModels.act(TestModels.list(1, 1, 4, 4), 8, true, 1, 0);
    LayerSpec pool = LayerSpec.builder("pool", "max_pool", "input").output(TestModels.act(TestModels.list(1, 1, 3, 3),
        8, true, 1, 0)).kernel(2, 2).stride(2, 2).build();
    ex = assertThrows(IllegalArgumentException.class, () -> new FastEngine(TestModels.model(in, List.of(pool),
        TestModels.tensors()), EngineConfig.INT32, 1));
    assertTrue(ex.getMessage().contains("[1, 1, 2, 2]"), ex.getMessage());
  }
}
