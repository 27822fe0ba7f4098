package io.qat4j.inference.engine;

import io.qat4j.inference.format.LayerSpec;
import java.util.function.Supplier;

/**
 * A layer of {@link FastEngine} computed by its reference op, one sample at a time, with one op (and accumulator)
 * per thread: used where int32 accumulation is not provably exact ({@link FastAccumulate#int32IsExact}).
 */
final class ReferenceFallback extends FastOp {
  private final ThreadLocal<LayerOp> op;
  private final int outSize;

  ReferenceFallback(LayerSpec spec, Supplier<LayerOp> factory) {
    super(spec);
    this.op = ThreadLocal.withInitial(factory);
    this.outSize = spec.output().size();
  }

  @Override
  int[][] run(int[][][] inputs, int n) {
    LayerOp ref = op.get();
    int[][] y = new int[outSize][n];
    int[][] sample = new int[inputs.length][];
    for (int b = 0; b < n; b++) {
      for (int k = 0; k < inputs.length; k++) {
        int[][] rows = inputs[k];
        sample[k] = new int[rows.length];
        for (int f = 0; f < rows.length; f++) {
          sample[k][f] = rows[f][b];
        }
      }
      int[] out = ref.run(sample);
      for (int f = 0; f < outSize; f++) {
        y[f][b] = out[f];
      }
    }
    return y;
  }
}
