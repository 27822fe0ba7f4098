package io.qat4j.layers.bench;

import io.qat4j.layers.observe.Observer;
import io.qat4j.layers.observe.Observers;
import io.qat4j.layers.quant.NdOps;
import io.qat4j.layers.quant.ObserverSpec;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.Quantizer;
import io.qat4j.layers.quant.Quantizers;
import io.qat4j.layers.ste.ClippedSte;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Milliseconds per call of the quantizer hot paths on LeNet-5-sized tensors, Java reference loops
 * versus native ND4J paths, interleaved in one JVM (median of several rounds). Not part of the
 * normal suite: {@code OMP_NUM_THREADS=1 mvn -o -pl qat-layers test -Dqat.excludedGroups=none
 * -Dgroups=bench -Dtest=QuantKernelBench}.
 */
@Tag("bench")
class QuantKernelBench {
  private static final int ROUNDS = Integer.getInteger("bench.rounds", 7);
  private static final int REPS = Integer.getInteger("bench.reps", 5);

  private interface Op {
    void run();
  }

  @Test
  void bench() {
    Nd4j.getRandom().setSeed(1);
    INDArray act = Nd4j.randn(DataType.FLOAT, 64, 20, 24, 24).muli(2).addi(0.5);
    INDArray actGrad = Nd4j.randn(DataType.FLOAT, 64, 20, 24, 24);
    INDArray dense = Nd4j.randn(DataType.FLOAT, 800, 500).muli(0.05);
    INDArray denseF = dense.dup('f');
    INDArray denseGrad = Nd4j.randn(DataType.FLOAT, 800, 500);
    INDArray conv = Nd4j.randn(DataType.FLOAT, 50, 20, 5, 5).muli(0.1);
    INDArray convGrad = Nd4j.randn(DataType.FLOAT, 50, 20, 5, 5);

    Quantizer a4 = Quantizers.of("int(bits=4, signed=false, observer=ema)");
    QuantContext actCtx = QuantContext.perTensor().withRange(Nd4j.create(new float[] {-1.5f}, new long[] {1}, 'c'),
        Nd4j.create(new float[] {4.5f}, new long[] {1}, 'c'));
    Quantizer w4 = Quantizers.of("int(bits=4, narrow=true, axis=channel)");
    Quantizer a8 = Quantizers.of("int(bits=8, signed=false, observer=ema)");
    Observer ema = Observers.of(ObserverSpec.ema(0.01, 0));
    INDArray state = Nd4j.zeros(DataType.FLOAT, ema.stateSize(1));
    ema.update(state, act, -1);
    ClippedSte ste = new ClippedSte();
    QuantResult actFwd = a4.forward(act, actCtx);

    Map<String, Op> ops = new LinkedHashMap<>();
    ops.put("int4 act fwd [64,20,24,24] (observed range)", () -> a4.forward(act, actCtx));
    ops.put("int4 act fwd+bwd [64,20,24,24]", () -> {
      QuantResult r = a4.forward(act, actCtx);
      a4.backward(act, actGrad, r);
    });
    ops.put("int8 act fwd+bwd [64,20,24,24]", () -> {
      QuantResult r = a8.forward(act, actCtx);
      a8.backward(act, actGrad, r);
    });
    ops.put("ClippedSte bwd [64,20,24,24]", () -> ste.backward(act, actGrad, actFwd));
    ops.put("EMA observer update [64,20,24,24]", () -> ema.update(state, act, -1));
    ops.put("EMA observer update, ReLU'd [64,20,24,24]", () -> ema.update(state, RELU[0], -1));
    ops.put("int4 ch fwd+bwd [800,500] axis 1 (c)", () -> {
      QuantResult r = w4.forward(dense, QuantContext.of(1));
      w4.backward(dense, denseGrad, r);
    });
    ops.put("int4 ch fwd+bwd [800,500] axis 1 (f view)", () -> {
      QuantResult r = w4.forward(denseF, QuantContext.of(1));
      w4.backward(denseF, denseGrad, r);
    });
    ops.put("int4 ch fwd+bwd [50,20,5,5] axis 0", () -> {
      QuantResult r = w4.forward(conv, QuantContext.of(0));
      w4.backward(conv, convGrad, r);
    });
    RELU[0] = org.nd4j.linalg.ops.transforms.Transforms.relu(act, true);

    Map<String, List<Double>> ref = new LinkedHashMap<>();
    Map<String, List<Double>> nat = new LinkedHashMap<>();
    for (int round = -1; round < ROUNDS; round++) {
      for (Map.Entry<String, Op> e : ops.entrySet()) {
        for (boolean vec : new boolean[] {false, true}) {
          NdOps.setVectorized(vec);
          long t0 = System.nanoTime();
          for (int i = 0; i < REPS; i++) {
            e.getValue().run();
          }
          double ms = (System.nanoTime() - t0) / 1e6 / REPS;
          if (round >= 0) {
            (vec ? nat : ref).computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(ms);
          }
        }
      }
    }
    NdOps.setVectorized(true);
    StringBuilder sb = new StringBuilder("\n| operation | Java loops (ms) | native (ms) | speed-up |\n|---|---:|---:|---:|\n");
    for (String k : ops.keySet()) {
      double r = median(ref.get(k));
      double n = median(nat.get(k));
      sb.append(String.format("| %s | %.2f | %.2f | %.1fx |%n", k, r, n, r / n));
    }
    System.out.println(sb);
  }

  private static final INDArray[] RELU = new INDArray[1];

  private static double median(List<Double> v) {
    double[] a = v.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(a);
    return a[a.length / 2];
  }
}
