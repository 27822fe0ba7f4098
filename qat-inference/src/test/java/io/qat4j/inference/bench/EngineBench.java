package io.qat4j.inference.bench;

import io.qat4j.inference.TestModels;
import io.qat4j.inference.engine.EngineConfig;
import io.qat4j.inference.engine.FastEngine;
import io.qat4j.inference.engine.IntegerEngine;
import io.qat4j.inference.format.ExportModel;
import java.util.Locale;
import java.util.Random;

/**
 * Images per second of the reference engine (one image at a time, overflow statistics on) and of the fast engine
 * (1 and 2 threads) on the LeNet-5-sized export of {@link LeNetExport}, measured in turns over several rounds in one
 * process, so that the ratios hold on a shared machine; the single-thread runs also per second of the thread's CPU
 * time, which other processes do not inflate.
 *
 * <p>Usage (from qat-inference after {@code mvn test-compile}):
 * {@code java -cp target/classes:target/test-classes:JACKSON io.qat4j.inference.bench.EngineBench [images] [rounds]
 * [chunk]}.
 */
public final class EngineBench {
  private EngineBench() {}

  public static void main(String[] args) {
    int images = args.length > 0 ? Integer.parseInt(args[0]) : 2048;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    int chunk = args.length > 2 ? Integer.parseInt(args[2]) : FastEngine.DEFAULT_CHUNK;
    ExportModel m = LeNetExport.create(42);
    Random r = new Random(1);
    int[][] x = new int[images][];
    for (int i = 0; i < images; i++) {
      x[i] = TestModels.random(r, 784, -128, 127);
    }
    IntegerEngine ref = new IntegerEngine(m, EngineConfig.INT32);
    int refImages = Math.min(images, 500);
    java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
    double[] sec = new double[5]; // wall: reference, fast 1 thread, fast 2 threads; CPU: reference, fast 1 thread
    long sink = 0;
    try (FastEngine one = new FastEngine(m, EngineConfig.INT32, 1, chunk);
        FastEngine two = new FastEngine(m, EngineConfig.INT32, 2, chunk)) {
      for (int round = -3; round < rounds; round++) {
        long c0 = cpu.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        for (int i = 0; i < refImages; i++) {
          sink += ref.run(x[i])[0];
        }
        long c1 = cpu.getCurrentThreadCpuTime();
        long t1 = System.nanoTime();
        sink += one.run(x)[0][0];
        long c2 = cpu.getCurrentThreadCpuTime();
        long t2 = System.nanoTime();
        sink += two.run(x)[0][0];
        long t3 = System.nanoTime();
        if (round >= 0) {
          sec[0] += (t1 - t0) / 1e9;
          sec[1] += (t2 - t1) / 1e9;
          sec[2] += (t3 - t2) / 1e9;
          sec[3] += (c1 - c0) / 1e9;
          sec[4] += (c2 - c1) / 1e9;
        }
        System.out.printf(Locale.ROOT, "round %d: reference %.0f img/s (%.0f per CPU s), fast 1 thread %.0f img/s "
            + "(%.0f per CPU s), 2 threads %.0f img/s%n", round, refImages / ((t1 - t0) / 1e9),
            refImages / ((c1 - c0) / 1e9), images / ((t2 - t1) / 1e9), images / ((c2 - c1) / 1e9),
            images / ((t3 - t2) / 1e9));
      }
      int[][] check = two.run(java.util.Arrays.copyOf(x, 64));
      for (int i = 0; i < check.length; i++) {
        if (!java.util.Arrays.equals(check[i], ref.run(x[i]))) {
          throw new IllegalStateException("fast and reference engines differ on image " + i);
        }
      }
    }
    double refRate = (double) refImages * rounds / sec[0];
    double oneRate = (double) images * rounds / sec[1];
    double twoRate = (double) images * rounds / sec[2];
    double refCpu = (double) refImages * rounds / sec[3];
    double oneCpu = (double) images * rounds / sec[4];
    System.out.printf(Locale.ROOT, "LeNet-5 (%d images, batch %d, chunk %d, %d rounds), wall: reference %.0f img/s, "
        + "fast 1 thread %.0f img/s (%.1fx), fast 2 threads %.0f img/s (%.1fx); per CPU second: reference %.0f, "
        + "fast 1 thread %.0f (%.1fx)%s%n", refImages, images, chunk, rounds, refRate, oneRate, oneRate / refRate,
        twoRate, twoRate / refRate, refCpu, oneCpu, oneCpu / refCpu, sink == 42 ? " " : "");
  }
}
