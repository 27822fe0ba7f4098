package io.qat4j.inference.engine;

import static io.qat4j.inference.TestModels.act;
import static io.qat4j.inference.TestModels.list;
import static io.qat4j.inference.TestModels.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qat4j.inference.Quantization;
import io.qat4j.inference.Requantizer;
import io.qat4j.inference.TestModels;
import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.IntTensor;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.inference.format.Requant;
import io.qat4j.inference.format.TensorSpec;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every layer type of the engine against a straightforward reference written here: explicit zero-point
 * padding, nested loops over the output, the requantization applied per channel.
 */
class EngineLayersTest {

  /** Reference conv: pads the input with its zero point, then loops; depthwise when groups == C. */
  static int[] referenceConv(int[] x, int c, int h, int w, int zpx, int[] wt, int o, int kc, int kh, int kw,
      int[] wzp, int[] bias, int sh, int sw, int[] pad, int dh, int dw, boolean depthwise, double[] reals,
      int zpy, int lo, int hi) {
    int hp = h + pad[0] + pad[2];
    int wp = w + pad[1] + pad[3];
    int[][][] p = new int[c][hp][wp];
    for (int ci = 0; ci < c; ci++) {
      for (int y = 0; y < hp; y++) {
        for (int xx = 0; xx < wp; xx++) {
          int iy = y - pad[0];
          int ix = xx - pad[1];
          p[ci][y][xx] = iy >= 0 && iy < h && ix >= 0 && ix < w ? x[(ci * h + iy) * w + ix] : zpx;
        }
      }
    }
    int oh = (hp - dh * (kh - 1) - 1) / sh + 1;
    int ow = (wp - dw * (kw - 1) - 1) / sw + 1;
    int[] out = new int[o * oh * ow];
    int mult = o / c;
    for (int oc = 0; oc < o; oc++) {
      for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
          long acc = bias == null ? 0 : bias[oc];
          for (int k = 0; k < kc; k++) {
            int ci = depthwise ? oc / mult : k;
            for (int ky = 0; ky < kh; ky++) {
              for (int kx = 0; kx < kw; kx++) {
                int wv = wt[((oc * kc + k) * kh + ky) * kw + kx];
                acc += (long) (p[ci][oy * sh + ky * dh][ox * sw + kx * dw] - zpx) * (wv - wzp[oc]);
              }
            }
          }
          int q = Requantizer.apply((int) acc, Requantizer.quantizeMultiplier(reals[reals.length == 1 ? 0 : oc])) + zpy;
          out[(oc * oh + oy) * ow + ox] = Math.max(lo, Math.min(hi, q));
        }
      }
    }
    return out;
  }

  /** The reference engine's output; the fast engine must give the same codes for x and for random inputs. */
  private static int[] run(ExportModel m, int[] x) {
    int[] y = new IntegerEngine(m, EngineConfig.INT32).run(x);
    try (FastEngine fast = new FastEngine(m, EngineConfig.INT32, 1)) {
      org.junit.jupiter.api.Assertions.assertArrayEquals(y, fast.run(x), "fast engine");
    }
    FastEngineTest.assertSameCodes(m, EngineConfig.INT32, 100, new Random(x.length));
    return y;
  }

  @ParameterizedTest(name = "conv2d stride {0}x{1} pad {2},{3},{4},{5} dilation {6}")
  @CsvSource({"1, 1, 0, 0, 0, 0, 1", "2, 1, 1, 0, 2, 1, 1", "2, 2, 1, 1, 1, 1, 2", "1, 3, 2, 1, 0, 2, 1"})
  void conv2dMatchesReference(int sh, int sw, int pt, int pl, int pb, int pr, int d) {
    Random r = new Random(11 + sh * 7 + pt);
    int c = 2, h = 6, w = 7, o = 3, k = 3;
    ActivationSpec in = act(list(1, c, h, w), 8, false, 0.02, 10);
    int oh = (h + pt + pb - d * (k - 1) - 1) / sh + 1;
    int ow = (w + pl + pr - d * (k - 1) - 1) / sw + 1;
    double[] reals = {0.011, 0.0042, 0.0271};
    TensorSpec ws = TestModels.weights("w.npy", list(o, c, k, k), 8, true, "int", 0, 0, 0);
    TensorSpec bs = TestModels.bias("b.npy", o);
    LayerSpec conv = LayerSpec.builder("conv", "conv2d", "input").output(act(list(1, o, oh, ow), 8, true, 0.1, -3))
        .kernel(k, k).stride(sh, sw).padding(pt, pl, pb, pr).dilation(d, d).weights(ws).bias(bs)
        .requant(Requantizer.requant(reals)).clamp(-3, 100).build();
    int[] wt = random(r, o * c * k * k, -128, 127);
    int[] bias = random(r, o, -5000, 5000);
    Map<String, IntTensor> t = TestModels.tensors();
    t.put("w.npy", IntTensor.of(ws.shape(), wt));
    t.put("b.npy", IntTensor.of(bs.shape(), bias));
    int[] x = random(r, c * h * w, 0, 255);
    int[] expected = referenceConv(x, c, h, w, 10, wt, o, c, k, k, new int[o], bias, sh, sw,
        new int[] {pt, pl, pb, pr}, d, d, false, reals, -3, -3, 100);
    assertArrayEquals(expected, run(TestModels.model(in, List.of(conv), t), x));
  }

  @Test
  void depthwiseWithMultiplierMatchesReference() {
    Random r = new Random(5);
    int c = 3, h = 5, w = 5, m = 2, k = 3;
    ActivationSpec in = act(list(1, c, h, w), 8, true, 0.05, 0);
    double[] reals = new double[c * m];
    for (int i = 0; i < reals.length; i++) {
      reals[i] = 0.001 * (i + 1) * 3.3;
    }
    int[] wzp = {1, -2, 0, 3, 0, -1};
    TensorSpec ws = TestModels.weights("dw.npy", list(c * m, 1, k, k), 4, true, "int", 1, -2, 0, 3, 0, -1);
    LayerSpec dw = LayerSpec.builder("dw", "depthwise_conv2d", "input")
        .output(act(list(1, c * m, 3, 3), 8, true, 0.1, 2)).kernel(k, k).stride(2, 2).padding(1, 1, 1, 1)
        .depthMultiplier(m).weights(ws).requant(Requantizer.requant(reals)).build();
    int[] wt = random(r, c * m * k * k, -8, 7);
    Map<String, IntTensor> t = TestModels.tensors();
    t.put("dw.npy", IntTensor.of(ws.shape(), wt));
    int[] x = random(r, c * h * w, -128, 127);
    int[] expected = referenceConv(x, c, h, w, 0, wt, c * m, 1, k, k, wzp, null, 2, 2, new int[] {1, 1, 1, 1}, 1,
        1, true, reals, 2, -128, 127);
    assertArrayEquals(expected, run(TestModels.model(in, List.of(dw), t), x));
  }

  /** Reference dense with weight zero points. */
  static int[] referenceDense(int[] x, int zpx, int[] wt, int[] wzp, int[] bias, double[] reals, int zpy, int lo,
      int hi) {
    int o = wzp.length;
    int f = x.length;
    int[] y = new int[o];
    for (int j = 0; j < o; j++) {
      long acc = bias == null ? 0 : bias[j];
      for (int i = 0; i < f; i++) {
        acc += (long) (x[i] - zpx) * (wt[j * f + i] - wzp[j]);
      }
      int q = Requantizer.apply((int) acc, Requantizer.quantizeMultiplier(reals[reals.length == 1 ? 0 : j])) + zpy;
      y[j] = Math.max(lo, Math.min(hi, q));
    }
    return y;
  }

  @Test
  void flattenThenDenseWithUnsignedWeightsMatchesReference() {
    Random r = new Random(9);
    ActivationSpec in = act(list(1, 2, 2, 3), 8, false, 0.03, 128);
    LayerSpec flat = LayerSpec.builder("flat", "flatten", "input").output(act(list(1, 12), 8, false, 0.03, 128))
        .build();
    TensorSpec ws = TestModels.weights("fc.npy", list(4, 12), 4, false, "int", 8, 7, 9, 8);
    TensorSpec bs = TestModels.bias("fcb.npy", 4);
    double[] reals = {0.02, 0.031, 0.017, 0.05};
    LayerSpec fc = LayerSpec.builder("fc", "dense", "flat").output(act(list(1, 4), 8, true, 0.2, 0)).weights(ws)
        .bias(bs).requant(Requantizer.requant(reals)).build();
    int[] wt = random(r, 48, 0, 15);
    int[] bias = random(r, 4, -300, 300);
    Map<String, IntTensor> t = TestModels.tensors();
    t.put("fc.npy", IntTensor.of(ws.shape(), wt));
    t.put("fcb.npy", IntTensor.of(bs.shape(), bias));
    int[] x = random(r, 12, 0, 255);
    ExportModel model = TestModels.model(in, List.of(flat, fc), t);
    FastEngineTest.assertSameCodes(model, EngineConfig.INT32, 200, r);
    IntegerEngine e = new IntegerEngine(model, EngineConfig.INT32);
    Map<String, int[]> all = e.runAll(x);
    assertArrayEquals(x, all.get("flat"));
    assertArrayEquals(referenceDense(x, 128, wt, new int[] {8, 7, 9, 8}, bias, reals, 0, -128, 127), all.get("fc"));
  }

  @Test
  void perChannelPureShiftRequantization() {
    // dense 2x2, w = [[1, 0], [0, 1]], x = [12, -12] -> acc = [12, -12];
    // channel 0 shift 3: 12 / 8 = 1.5 -> 2; channel 1 shift 2: -12 / 4 = -3; zp_y = 1 -> [3, -2]
    ActivationSpec in = act(list(1, 2), 8, true, 1, 0);
    TensorSpec ws = TestModels.weights("w.npy", list(2, 2), 8, true, "int", 0, 0);
    LayerSpec fc = LayerSpec.builder("fc", "dense", "input").output(act(list(1, 2), 8, true, 1, 1)).weights(ws)
        .requant(new Requant("shift", null, List.of(3, 2))).build();
    Map<String, IntTensor> t = TestModels.tensors();
    t.put("w.npy", IntTensor.of(ws.shape(), 1, 0, 0, 1));
    assertArrayEquals(new int[] {3, -2}, run(TestModels.model(in, List.of(fc), t), new int[] {12, -12}));
  }

  @Test
  void maxPoolIgnoresPaddingAndMatchesReference() {
    Random r = new Random(2);
    int c = 2, h = 5, w = 5;
    ActivationSpec in = act(list(1, c, h, w), 8, true, 0.1, -5);
    LayerSpec pool = LayerSpec.builder("pool", "max_pool", "input").output(act(list(1, c, 3, 3), 8, true, 0.1, -5))
        .kernel(2, 2).stride(2, 2).padding(0, 0, 1, 1).build();
    int[] x = random(r, c * h * w, -128, -10); // all below the zero point: padding must not win
    int[] expected = new int[c * 9];
    for (int ci = 0; ci < c; ci++) {
      for (int oy = 0; oy < 3; oy++) {
        for (int ox = 0; ox < 3; ox++) {
          int best = Integer.MIN_VALUE;
          for (int y = 2 * oy; y < Math.min(2 * oy + 2, h); y++) {
            for (int xx = 2 * ox; xx < Math.min(2 * ox + 2, w); xx++) {
              best = Math.max(best, x[(ci * h + y) * w + xx]);
            }
          }
          expected[(ci * 3 + oy) * 3 + ox] = best;
        }
      }
    }
    assertArrayEquals(expected, run(TestModels.model(in, List.of(pool), TestModels.tensors()), x));
  }

  @Test
  void avgPoolRoundsHalfAwayFromZeroAroundTheZeroPoint() {
    // 1 channel 2x4, two 2x2 windows.
    // zp 0: window [1,2,3,4] -> 2.5 -> 3; window [-1,-2,-3,-4] -> -2.5 -> -3
    ActivationSpec in = act(list(1, 1, 2, 4), 8, true, 0.1, 0);
    LayerSpec pool = LayerSpec.builder("pool", "avg_pool", "input").output(act(list(1, 1, 1, 2), 8, true, 0.1, 0))
        .kernel(2, 2).stride(2, 2).build();
    assertArrayEquals(new int[] {3, -3},
        run(TestModels.model(in, List.of(pool), TestModels.tensors()), new int[] {1, 2, -1, -2, 3, 4, -3, -4}));
    // zp 1: codes [2,3,4,5] = centered [1,2,3,4] -> 3 + 1 = 4; codes [1,1,1,2] = [0,0,0,1] -> 0.25 -> 0 + 1 = 1
    ActivationSpec in1 = act(list(1, 1, 2, 4), 8, true, 0.1, 1);
    LayerSpec pool1 = LayerSpec.builder("pool", "avg_pool", "input").output(act(list(1, 1, 1, 2), 8, true, 0.1, 1))
        .kernel(2, 2).stride(2, 2).build();
    assertArrayEquals(new int[] {4, 1},
        run(TestModels.model(in1, List.of(pool1), TestModels.tensors()), new int[] {2, 3, 1, 1, 4, 5, 1, 2}));
    // padding 1 on every side, 3x3 kernel stride 3 over a 1x1 input of code 7 (zp 0):
    // count_include_pad false -> 7; true -> 7 / 9 = 0.78 -> 1
    ActivationSpec one = act(list(1, 1, 1, 1), 8, true, 0.1, 0);
    for (boolean include : new boolean[] {false, true}) {
      LayerSpec p = LayerSpec.builder("pool", "avg_pool", "input").output(act(list(1, 1, 1, 1), 8, true, 0.1, 0))
          .kernel(3, 3).stride(3, 3).padding(1, 1, 1, 1).countIncludePad(include).build();
      assertArrayEquals(new int[] {include ? 1 : 7},
          run(TestModels.model(one, List.of(p), TestModels.tensors()), new int[] {7}));
    }
  }

  @Test
  void reluAndClampOnCodes() {
    ActivationSpec in = act(list(1, 5), 8, true, 0.1, -4);
    LayerSpec relu = LayerSpec.builder("relu", "relu", "input").output(in).build();
    LayerSpec clamp = LayerSpec.builder("clamp", "clamp", "relu").output(in).clamp(-2, 60).build();
    ExportModel model = TestModels.model(in, List.of(relu, clamp), TestModels.tensors());
    FastEngineTest.assertSameCodes(model, EngineConfig.INT32, 200, new Random(6));
    IntegerEngine e = new IntegerEngine(model, EngineConfig.INT32);
    Map<String, int[]> all = e.runAll(new int[] {-128, -5, -4, 50, 127});
    assertArrayEquals(new int[] {-4, -4, -4, 50, 127}, all.get("relu"));
    assertArrayEquals(new int[] {-2, -2, -2, 50, 60}, all.get("clamp"));
  }

  @Test
  void residualAddRequantizesBothInputs() {
    Random r = new Random(4);
    double s0 = 0.05, s1 = 0.11, so = 0.12;
    int zp0 = 3, zp1 = -7, zpo = 5, left = 20;
    ActivationSpec in = act(list(1, 2, 2, 2), 8, true, s0, zp0);
    LayerSpec other = LayerSpec.builder("c", "clamp", "input").output(in).clamp(-128, 127).build();
    // second operand: the input requantized by a 1x1 depthwise identity conv to scale s1, zero point zp1
    TensorSpec ws = TestModels.weights("id.npy", list(2, 1, 1, 1), 8, true, "int", 0);
    LayerSpec conv = LayerSpec.builder("b", "depthwise_conv2d", "input").output(act(list(1, 2, 2, 2), 8, true, s1, zp1))
        .weights(ws).requant(Requantizer.requant(s0 / s1)).build();
    double twiceMax = 2 * Math.max(s0, s1);
    LayerSpec add = LayerSpec.builder("add", "add", "c", "b").output(act(list(1, 2, 2, 2), 8, true, so, zpo))
        .inputRequant(Requantizer.multipliers(s0 / twiceMax), Requantizer.multipliers(s1 / twiceMax), left)
        .requant(Requantizer.multipliers(twiceMax / ((1 << left) * so))).build();
    Map<String, IntTensor> t = TestModels.tensors();
    t.put("id.npy", IntTensor.of(ws.shape(), 1, 1));
    ExportModel model = TestModels.model(in, List.of(other, conv, add), t);
    FastEngineTest.assertSameCodes(model, EngineConfig.INT32, 200, r);
    IntegerEngine e = new IntegerEngine(model, EngineConfig.INT32);
    for (int trial = 0; trial < 50; trial++) {
      int[] x = random(r, 8, -128, 127);
      Map<String, int[]> all = e.runAll(x);
      int[] a = all.get("c");
      int[] b = all.get("b");
      int[] y = all.get("add");
      for (int i = 0; i < 8; i++) {
        // exact integer chain
        int sa = Requantizer.apply((a[i] - zp0) << left, Requantizer.quantizeMultiplier(s0 / twiceMax));
        int sb = Requantizer.apply((b[i] - zp1) << left, Requantizer.quantizeMultiplier(s1 / twiceMax));
        int q = Requantizer.apply(sa + sb, Requantizer.quantizeMultiplier(twiceMax / ((1 << left) * so))) + zpo;
        assertEquals(Math.max(-128, Math.min(127, q)), y[i]);
        // and within one LSB of the real-valued sum
        double real = (s0 * (a[i] - zp0) + s1 * (b[i] - zp1)) / so + zpo;
        double clamped = Math.max(-128, Math.min(127, real));
        assertTrue(Math.abs(y[i] - clamped) <= 1.0, "add " + y[i] + " vs real " + real);
      }
    }
  }

  @Test
  void binaryAndTernaryLayersEqualMultiplyByPlusMinusOneOrZero() {
    Random r = new Random(8);
    ActivationSpec in = act(list(1, 2, 4, 4), 8, false, 0.02, 100);
    // ternary conv 3x3 pad 1, weights in {-1, 0, 1}
    TensorSpec tw = new TensorSpec("t.npy", list(3, 2, 3, 3), "int8", 2, true, "ternary", 0,
        List.of(0.3, 0.2, 0.4), List.of(0, 0, 0), null);
    double[] reals = {0.02 * 0.3 / 0.05, 0.02 * 0.2 / 0.05, 0.02 * 0.4 / 0.05};
    LayerSpec tconv = LayerSpec.builder("tconv", "ternary_conv2d", "input")
        .output(act(list(1, 3, 4, 4), 8, true, 0.05, 0)).padding(1, 1, 1, 1).weights(tw)
        .requant(Requantizer.requant(reals)).build();
    LayerSpec flat = LayerSpec.builder("flat", "flatten", "tconv").output(act(list(1, 48), 8, true, 0.05, 0)).build();
    TensorSpec bw = TestModels.binaryWeights("bw.npy", list(5, 48));
    TensorSpec bb = TestModels.bias("bb.npy", 5);
    LayerSpec bfc = LayerSpec.builder("bfc", "binary_dense", "flat").output(act(list(1, 5), 8, true, 0.5, 0))
        .weights(bw).bias(bb).requant(Requantizer.requant(0.05 * 0.5 / 0.5)).build();
    int[] twt = random(r, 54, -1, 1);
    int[] bwt = random(r, 240, 0, 1);
    for (int i = 0; i < bwt.length; i++) {
      bwt[i] = bwt[i] == 0 ? -1 : 1;
    }
    int[] bias = random(r, 5, -50, 50);
    Map<String, IntTensor> t = TestModels.tensors();
    t.put("t.npy", IntTensor.of(tw.shape(), twt));
    t.put("bw.npy", IntTensor.of(bw.shape(), bwt));
    t.put("bb.npy", IntTensor.of(bb.shape(), bias));
    ExportModel model = TestModels.model(in, List.of(tconv, flat, bfc), t);
    FastEngineTest.assertSameCodes(model, EngineConfig.INT32, 200, new Random(7));
    IntegerEngine e = new IntegerEngine(model, EngineConfig.INT32);
    int[] x = random(r, 32, 0, 255);
    Map<String, int[]> all = e.runAll(x);
    int[] conv = referenceConv(x, 2, 4, 4, 100, twt, 3, 2, 3, 3, new int[3], null, 1, 1, new int[] {1, 1, 1, 1},
        1, 1, false, reals, 0, -128, 127);
    assertArrayEquals(conv, all.get("tconv"));
    assertArrayEquals(referenceDense(conv, 0, bwt, new int[5], bias, new double[] {0.05}, 0, -128, 127),
        all.get("bfc"));
    // ternary skips zero weights: additions = nonzero weights x in-bounds positions
    long nonzeroTerms = 0;
    for (int o = 0; o < 3; o++) {
      for (int oy = 0; oy < 4; oy++) {
        for (int ox = 0; ox < 4; ox++) {
          for (int i = 0; i < 2; i++) {
            for (int ky = 0; ky < 3; ky++) {
              for (int kx = 0; kx < 3; kx++) {
                int iy = oy - 1 + ky;
                int ix = ox - 1 + kx;
                if (iy >= 0 && iy < 4 && ix >= 0 && ix < 4 && twt[((o * 2 + i) * 3 + ky) * 3 + kx] != 0) {
                  nonzeroTerms++;
                }
              }
            }
          }
        }
      }
    }
    assertEquals(nonzeroTerms, e.stats().get(0).additions());
    assertEquals(240, e.stats().get(2).additions());
  }

  @Test
  void signOutputsFeedABinaryLayer() throws Exception {
    // dense (int8 weights) -> sign -> binary_dense (binary inputs and weights) -> int8 logits
    Random r = new Random(11);
    ActivationSpec in = act(list(1, 12), 8, false, 1.0 / 255, 0);
    TensorSpec w1 = TestModels.weights("w1.npy", list(6, 12), 8, true, "int", 0);
    TensorSpec b1 = TestModels.bias("b1.npy", 6);
    ActivationSpec hidden = ActivationSpec.binary(list(1, 6), 1.0);
    LayerSpec fc1 = LayerSpec.builder("fc1", "dense", "input").output(hidden).weights(w1).bias(b1)
        .requant(io.qat4j.inference.format.Requant.sign()).build();
    TensorSpec w2 = TestModels.binaryWeights("w2.npy", list(3, 6));
    LayerSpec fc2 = LayerSpec.builder("fc2", "binary_dense", "fc1").output(act(list(1, 3), 8, true, 0.25, 0))
        .weights(w2).requant(Requantizer.requant(0.5 / 0.25)).build();
    int[] wt1 = random(r, 72, -127, 127);
    int[] bias1 = random(r, 6, -20000, 20000);
    int[] wt2 = random(r, 18, 0, 1);
    for (int k = 0; k < wt2.length; k++) {
      wt2[k] = wt2[k] == 0 ? -1 : 1;
    }
    Map<String, IntTensor> t = TestModels.tensors();
    t.put("w1.npy", IntTensor.of(w1.shape(), wt1));
    t.put("b1.npy", IntTensor.of(b1.shape(), bias1));
    t.put("w2.npy", IntTensor.of(w2.shape(), wt2));
    ExportModel m = TestModels.model(in, List.of(fc1, fc2), t);
    FastEngineTest.assertSameCodes(m, EngineConfig.INT32, 200, new Random(12));
    IntegerEngine e = new IntegerEngine(m, EngineConfig.INT32);
    for (int trial = 0; trial < 20; trial++) {
      int[] x = random(r, 12, 0, 255);
      Map<String, int[]> all = e.runAll(x);
      int[] h = new int[6];
      for (int o = 0; o < 6; o++) {
        long acc = bias1[o];
        for (int f = 0; f < 12; f++) {
          acc += (long) x[f] * wt1[o * 12 + f];
        }
        h[o] = acc >= 0 ? 1 : -1;
      }
      assertArrayEquals(h, all.get("fc1"));
      int[] y = new int[3];
      for (int o = 0; o < 3; o++) {
        int acc = 0;
        for (int f = 0; f < 6; f++) {
          acc += h[f] * wt2[o * 6 + f];
        }
        y[o] = Math.max(-128, Math.min(127, 2 * acc));
      }
      assertArrayEquals(y, all.get("fc2"));
    }
    // binary activations survive the manifest round trip, and test vectors hold exactly the engine's codes
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("vectors");
    io.qat4j.inference.format.ExportWriter.write(dir.resolve("export"), m, List.of("npy", "c", "mem"));
    ExportModel back = io.qat4j.inference.format.ExportReader.read(dir.resolve("export"));
    assertEquals(m.manifest().layers(), back.manifest().layers());
    assertTrue(back.manifest().layers().get(0).output().isBinary());
    int[] x = random(r, 12, 0, 255);
    io.qat4j.inference.TestVectors.write(dir.resolve("vectors"), e, List.of(x), new int[] {2});
    assertArrayEquals(e.runAll(x).get("fc1"),
        io.qat4j.inference.format.Npy.read(dir.resolve("vectors/0000/fc1.npy")).data());
    List<String> mem = java.nio.file.Files.readAllLines(dir.resolve("vectors/0000/fc1.mem"));
    assertEquals(7, mem.size());
    for (int k = 0; k < 6; k++) {
      assertEquals(e.runAll(x).get("fc1")[k] > 0 ? "1" : "0", mem.get(k + 1));
    }
    assertEquals(List.of("ff", "80"), List.of(io.qat4j.inference.format.HardwareFiles.word(-1, 8, false),
        io.qat4j.inference.format.HardwareFiles.word(-128, 8, false)));
  }

  @Test
  void binaryLayerRejectsAnIntQuantizer() {
    ActivationSpec in = act(list(1, 2), 8, true, 1, 0);
    TensorSpec ws = TestModels.weights("w.npy", list(1, 2), 8, true, "int", 0);
    LayerSpec fc = LayerSpec.builder("fc", "binary_dense", "input").output(act(list(1, 1), 8, true, 1, 0))
        .weights(ws).requant(Requantizer.requant(1.0)).build();
    Map<String, IntTensor> t = TestModels.tensors();
    t.put("w.npy", IntTensor.of(ws.shape(), 1, -1));
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
        () -> new IntegerEngine(TestModels.model(in, List.of(fc), t), EngineConfig.INT32));
    assertTrue(ex.getMessage().contains("'int'") && ex.getMessage().contains("binary"), ex.getMessage());
  }

  @Test
  void wrongOutputShapeAndBadInputAreRejected() {
    ActivationSpec in = act(list(1, 1, 4, 4), 8, true, 1, 0);
    LayerSpec pool = LayerSpec.builder("pool", "max_pool", "input").output(act(list(1, 1, 3, 3), 8, true, 1, 0))
        .kernel(2, 2).stride(2, 2).build();
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
        () -> new IntegerEngine(TestModels.model(in, List.of(pool), TestModels.tensors()), EngineConfig.INT32));
    assertTrue(ex.getMessage().contains("[1, 1, 2, 2]"), ex.getMessage());
    LayerSpec ok = LayerSpec.builder("pool", "max_pool", "input").output(act(list(1, 1, 2, 2), 8, true, 1, 0))
        .kernel(2, 2).stride(2, 2).build();
    IntegerEngine e = new IntegerEngine(TestModels.model(in, List.of(ok), TestModels.tensors()), EngineConfig.INT32);
    ex = assertThrows(IllegalArgumentException.class, () -> e.run(new int[15]));
    assertTrue(ex.getMessage().contains("15") && ex.getMessage().contains("16"), ex.getMessage());
    int[] x = new int[16];
    x[3] = 300;
    ex = assertThrows(IllegalArgumentException.class, () -> e.run(x));
    assertTrue(ex.getMessage().contains("300") && ex.getMessage().contains("127"), ex.getMessage());
  }

  @Test
  void quantizeAndDequantizeAtTheBoundaries() {
    ActivationSpec a = act(list(1, 4), 8, true, 0.5, 1);
    // x / 0.5 = [0.5 -> 0 (half to even), 1.5 -> 2, -100 -> -200 -> clamp, 3] + zp 1
    assertArrayEquals(new int[] {1, 3, -128, 4}, Quantization.quantizeInput(new float[] {0.25f, 0.75f, -100f, 1.5f}, a));
    assertArrayEquals(new float[] {0f, 1f, -64.5f, 1.5f},
        Quantization.dequantizeOutput(new int[] {1, 3, -128, 4}, a));
  }
}
