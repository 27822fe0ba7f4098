package io.qat4j.inference.bench;

import io.qat4j.inference.Requantizer;
import io.qat4j.inference.TestModels;
import io.qat4j.inference.engine.EngineConfig;
import io.qat4j.inference.engine.FastEngine;
import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.IntTensor;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.inference.format.TensorSpec;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Multiply-accumulate rate (per second of the thread's CPU time) of three loop layouts for LeNet-5's conv2 (20x12x12
 * input, 50 filters 5x5, 1.6 M MACs per image), the accumulation alone (no requantization):
 * <ol>
 *   <li>one image at a time, inner loop over the 50 output channels: acc[pos][o] += x * w[tap][o], weights as int,
 *   short or byte rows (the JIT of Java 17 vectorizes only the int rows: its loop vectorizer does not mix element
 *   sizes);</li>
 *   <li>one image at a time, inner loop over contiguous input rows: acc[o][oy][ox] += w * x[i][oy + ky][ox + kx]
 *   (the offset kx between the two arrays keeps the JIT from vectorizing);</li>
 *   <li>the fast engine's layout: 128 images side by side, inner loop over the images, four output channels per
 *   pass (measured through {@link FastEngine} on a one-layer export, requantization included).</li>
 * </ol>
 * Usage: {@code java -cp ... io.qat4j.inference.bench.LayoutBench [rounds]}.
 */
public final class LayoutBench {
  private LayoutBench() {}

  private static final int C = 20;
  private static final int H = 12;
  private static final int O = 50;
  private static final int K = 5;
  private static final int OH = H - K + 1;
  private static final long MACS = (long) O * OH * OH * C * K * K;

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    Random r = new Random(1);
    int[] w = TestModels.random(r, O * C * K * K, -127, 127);
    int[][] wInt = new int[C * K * K][O];
    short[][] wShort = new short[C * K * K][O];
    byte[][] wByte = new byte[C * K * K][O];
    for (int o = 0; o < O; o++) {
      for (int t = 0; t < C * K * K; t++) {
        wInt[t][o] = w[o * C * K * K + t];
        wShort[t][o] = (short) wInt[t][o];
        wByte[t][o] = (byte) wInt[t][o];
      }
    }
    int images = 256;
    int[][] x = new int[images][];
    for (int i = 0; i < images; i++) {
      x[i] = TestModels.random(r, C * H * H, -127, 127);
    }
    ExportModel conv = convExport(w);
    java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
    try (FastEngine fast = new FastEngine(conv, EngineConfig.INT32, 1)) {
      for (int round = -2; round < rounds; round++) {
        long sink = 0;
        long t0 = cpu.getCurrentThreadCpuTime();
        for (int[] img : x) {
          sink += channelsInner(img, wInt, null, null);
        }
        long t1 = cpu.getCurrentThreadCpuTime();
        for (int[] img : x) {
          sink += channelsInner(img, null, wShort, null);
        }
        long t2 = cpu.getCurrentThreadCpuTime();
        for (int[] img : x) {
          sink += channelsInner(img, null, null, wByte);
        }
        long t3 = cpu.getCurrentThreadCpuTime();
        for (int[] img : x) {
          sink += rowsInner(img, w);
        }
        long t4 = cpu.getCurrentThreadCpuTime();
        sink += fast.run(x)[0][0];
        long t5 = cpu.getCurrentThreadCpuTime();
        double m = (double) MACS * images;
        System.out.printf(Locale.ROOT, "round %d GMAC per CPU second: channels inner int %.1f, short %.1f, byte %.1f; input rows "
            + "inner %.1f; fast engine (images inner, with requantization) %.1f%s%n", round, m / (t1 - t0),
            m / (t2 - t1), m / (t3 - t2), m / (t4 - t3), m / (t5 - t4), sink == 42 ? " " : "");
      }
    }
  }

  /** One image, inner loop over output channels; one of the weight arrays is given. */
  private static long channelsInner(int[] x, int[][] wi, short[][] ws, byte[][] wb) {
    int[][] acc = new int[OH * OH][O];
    for (int oy = 0; oy < OH; oy++) {
      for (int ox = 0; ox < OH; ox++) {
        int[] a = acc[oy * OH + ox];
        for (int i = 0; i < C; i++) {
          for (int ky = 0; ky < K; ky++) {
            for (int kx = 0; kx < K; kx++) {
              int v = x[(i * H + oy + ky) * H + ox + kx];
              int t = (i * K + ky) * K + kx;
              if (wi != null) {
                int[] wr = wi[t];
                for (int o = 0; o < a.length; o++) {
                  a[o] += v * wr[o];
                }
              } else if (ws != null) {
                short[] wr = ws[t];
                for (int o = 0; o < a.length; o++) {
                  a[o] += v * wr[o];
                }
              } else {
                byte[] wr = wb[t];
                for (int o = 0; o < a.length; o++) {
                  a[o] += v * wr[o];
                }
              }
            }
          }
        }
      }
    }
    return acc[5][7];
  }

  /** One image, inner loop over a row of output positions and the matching input row (offset kx). */
  private static long rowsInner(int[] x, int[] w) {
    int[] acc = new int[O * OH * OH];
    for (int o = 0; o < O; o++) {
      for (int i = 0; i < C; i++) {
        for (int ky = 0; ky < K; ky++) {
          for (int kx = 0; kx < K; kx++) {
            int wv = w[((o * C + i) * K + ky) * K + kx];
            for (int oy = 0; oy < OH; oy++) {
              int ab = (o * OH + oy) * OH;
              int xb = (i * H + oy + ky) * H + kx;
              for (int ox = 0; ox < OH; ox++) {
                acc[ab + ox] += wv * x[xb + ox];
              }
            }
          }
        }
      }
    }
    return acc[77];
  }

  private static ExportModel convExport(int[] w) {
    ActivationSpec in = TestModels.act(TestModels.list(1, C, H, H), 8, true, 0.01, 0);
    TensorSpec ws = new TensorSpec("w.npy", TestModels.list(O, C, K, K), "int8", 8, true, "int", 0,
        Collections.nCopies(O, 0.01), Collections.nCopies(O, 0), null);
    LayerSpec conv = LayerSpec.builder("conv2", "conv2d", "input").output(TestModels.act(TestModels.list(1, O, OH, OH),
        8, true, 0.05, 0)).weights(ws).requant(Requantizer.multipliers(true, 0.0001)).build();
    java.util.Map<String, IntTensor> t = TestModels.tensors();
    t.put("w.npy", IntTensor.of(ws.shape(), w));
    return TestModels.model(in, List.of(conv), t);
  }
}
