package io.qat4j.inference.engine;

import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.ExportReader;
import io.qat4j.inference.format.IntTensor;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.inference.format.Manifest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The fast mode of the integer engine: for every input, exactly the output codes of {@link IntegerEngine} with the
 * same {@link EngineConfig} (every op, every requantization kind, wrap or saturate, any accumulator width), computed
 * for a batch of samples on several threads, without overflow statistics.
 *
 * <p>How: the batch is cut into chunks of at most {@code chunk} samples (at least one chunk per thread), and the
 * chunks are spread over {@code threads} worker threads. Within a chunk every activation is {@code int[F][n]}, one
 * row per feature holding that feature of the n samples ({@link FastOp}), so each layer's inner loops run over
 * contiguous int rows that the JIT vectorizes: conv / dense multiply one input row by four pre-centered weights
 * (packed into int8 / int16 where the codes fit) into four accumulator rows ({@link FastAccumulate}), with no
 * per-addition bookkeeping. conv and dense accumulate in int32, which is exact with wrap at any width and,
 * with saturate, when a load-time bound shows that no partial sum can leave the accumulator range (the proof is in
 * {@link FastAccumulate}); otherwise that layer is run by its reference op ({@link #referenceLayers()}).
 * Requantization, pools, add and the other ops apply the reference's {@link FixedPoint} functions to the same
 * integers.
 *
 * <p>Layouts measured ({@code bench.LayoutBench} in the tests, LeNet-5's conv2, per CPU second on the 2-core
 * build machine under load): one image at a time with the inner loop over the 50 output channels, 3.5-4.7 G
 * multiply-accumulates/s with int weight rows and about 2 with int16 or int8 rows (Java 17's loop vectorizer does
 * not mix element sizes, so narrow weights help only the cache, here as scalars); one image at a time with the
 * inner loop over contiguous input rows, about 1.8 (an offset between the two arrays keeps the loop scalar); the
 * samples side by side as here, 10-13 including requantization. Chunks of 256 samples beat 128 by about 10% and
 * 64 by 2x; four accumulator rows per pass vectorize, six or eight do not.
 *
 * <p>Example: {@code try (FastEngine e = FastEngine.load(dir, EngineConfig.INT32, 2)) { int[][] y = e.run(x); }}.
 * {@code run} may be called from several threads at once; {@link #close()} stops the worker threads (daemon
 * threads, so an engine that is not closed does not keep the JVM alive).
 */
public final class FastEngine implements AutoCloseable {
  /** Default number of samples computed side by side. */
  public static final int DEFAULT_CHUNK = 256;

  private final Manifest manifest;
  private final List<FastOp> ops = new ArrayList<>();
  private final List<int[]> inputIndex = new ArrayList<>();
  private final int[] lastUse;
  private final List<String> referenceLayers = new ArrayList<>();
  private final int threads;
  private final int chunk;
  private final ExecutorService pool;
  private final int inputSize;
  private final int inputMin;
  private final int inputMax;

  /** An engine with {@link #DEFAULT_CHUNK} samples per chunk. */
  public FastEngine(ExportModel model, EngineConfig config, int threads) {
    this(model, config, threads, DEFAULT_CHUNK);
  }

  /** Builds the engine (validating every layer as {@link IntegerEngine} does) with the given threads and chunk. */
  public FastEngine(ExportModel model, EngineConfig config, int threads, int chunk) {
    if (threads < 1 || chunk < 1) {
      throw new IllegalArgumentException("threads " + threads + ", chunk " + chunk + " not allowed; allowed: >= 1");
    }
    this.manifest = model.manifest();
    this.threads = threads;
    this.chunk = chunk;
    ActivationSpec in = manifest.input();
    this.inputSize = in.size();
    this.inputMin = in.qmin();
    this.inputMax = in.qmax();
    Map<String, Integer> index = new HashMap<>();
    Map<String, ActivationSpec> acts = new HashMap<>();
    index.put("input", -1);
    acts.put("input", in);
    int layers = manifest.layers().size();
    this.lastUse = new int[layers];
    for (int li = 0; li < layers; li++) {
      LayerSpec l = manifest.layers().get(li);
      int[] idx = new int[l.inputs().size()];
      for (int k = 0; k < idx.length; k++) {
        idx[k] = index.get(l.inputs().get(k));
        if (idx[k] >= 0) {
          lastUse[idx[k]] = li;
        }
      }
      LayerOp ref = IntegerEngine.create(l, acts, model, config);
      ops.add(fast(l, Map.copyOf(acts), model, config, ref));
      inputIndex.add(idx);
      index.put(l.name(), li);
      acts.put(l.name(), l.output());
    }
    this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "qat4j-fast-engine");
      t.setDaemon(true);
      return t;
    });
  }

  /** Reads an export directory and builds the engine. */
  public static FastEngine load(Path dir, EngineConfig config, int threads) throws IOException {
    return new FastEngine(ExportReader.read(dir), config, threads);
  }

  /** The one switch from op type to fast implementation; {@code ref} is the validated reference op. */
  private FastOp fast(LayerSpec l, Map<String, ActivationSpec> acts, ExportModel model, EngineConfig config,
      LayerOp ref) {
    ActivationSpec x = acts.get(l.inputs().get(0));
    return switch (l.op()) {
      case "conv2d", "depthwise_conv2d", "binary_conv2d", "ternary_conv2d", "dense", "binary_dense",
          "ternary_dense" -> {
        IntTensor w = model.tensor(l.weights());
        IntTensor b = l.bias() == null ? null : model.tensor(l.bias());
        if (FastAccumulate.int32IsExact(l, x, w, b, config)) {
          yield new FastAccumulate(l, x, w, b, config);
        }
        referenceLayers.add(l.name());
        yield new ReferenceFallback(l, () -> IntegerEngine.create(l, acts, model, config));
      }
      case "max_pool", "avg_pool", "global_avg_pool" -> new FastPool(l, x, ref);
      case "relu", "clamp" -> new FastElementwise.Clamp(l);
      case "add" -> new FastElementwise.Add(l, x.zeroPoint(), acts.get(l.inputs().get(1)).zeroPoint());
      case "flatten" -> new FastElementwise.Flatten(l);
      case "pad_channels" -> new FastElementwise.PadChannels(l, x);
      default -> throw new IllegalArgumentException("op '" + l.op() + "' of layer " + l.name()
          + " not allowed; allowed: " + LayerSpec.OPS);
    };
  }

  /** The manifest this engine runs. */
  public Manifest manifest() {
    return manifest;
  }

  /** Number of worker threads. */
  public int threads() {
    return threads;
  }

  /** Names of the layers computed by their reference op (saturating accumulators that might overflow). */
  public List<String> referenceLayers() {
    return List.copyOf(referenceLayers);
  }

  /** Output codes of the last layer for one sample. */
  public int[] run(int[] input) {
    return run(new int[][] {input})[0];
  }

  /** Output codes of the last layer for each sample of the batch (C order, the manifest's input shape). */
  public int[][] run(int[][] inputs) {
    int[][][] outs = compute(inputs, false);
    int[][] y = new int[inputs.length][];
    for (int s = 0; s < y.length; s++) {
      y[s] = outs[s][ops.size() - 1];
    }
    return y;
  }

  /** Every layer's output codes for each sample, by layer name in execution order (as {@link IntegerEngine#runAll}). */
  public List<Map<String, int[]>> runAll(int[][] inputs) {
    int[][][] outs = compute(inputs, true);
    List<Map<String, int[]>> all = new ArrayList<>();
    for (int[][] sample : outs) {
      Map<String, int[]> m = new LinkedHashMap<>();
      for (int i = 0; i < sample.length; i++) {
        m.put(manifest.layers().get(i).name(), sample[i]);
      }
      all.add(m);
    }
    return all;
  }

  /** Per sample, per layer output codes (only the last layer's unless {@code all}). */
  private int[][][] compute(int[][] inputs, boolean all) {
    for (int[] x : inputs) {
      check(x);
    }
    int n = inputs.length;
    int[][][] outs = new int[n][ops.size()][];
    int chunks = Math.max((n + chunk - 1) / chunk, Math.min(n, threads));
    if (pool == null || chunks <= 1) {
      for (int c = 0; c < chunks; c++) {
        forward(inputs, c * n / chunks, (c + 1) * n / chunks, all, outs);
      }
      return outs;
    }
    List<Future<?>> tasks = new ArrayList<>();
    for (int c = 0; c < chunks; c++) {
      int from = c * n / chunks;
      int to = (c + 1) * n / chunks;
      tasks.add(pool.submit(() -> forward(inputs, from, to, all, outs)));
    }
    try {
      for (Future<?> t : tasks) {
        t.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the fast engine's threads", e);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
    }
    return outs;
  }

  private void check(int[] input) {
    if (input.length != inputSize) {
      throw new IllegalArgumentException("input has " + input.length + " codes; allowed: " + inputSize
          + " (shape " + manifest.input().shape() + ")");
    }
    for (int v : input) {
      if (v < inputMin || v > inputMax) {
        throw new IllegalArgumentException("input code " + v + " not allowed; allowed: [" + inputMin + ", "
            + inputMax + "]");
      }
    }
  }

  /** Runs samples [from, to) through every layer and stores their codes in {@code outs[sample][layer]}. */
  private void forward(int[][] inputs, int from, int to, boolean all, int[][][] outs) {
    int n = to - from;
    int[][] x = new int[inputSize][n];
    for (int b = 0; b < n; b++) {
      int[] sample = inputs[from + b];
      for (int f = 0; f < inputSize; f++) {
        x[f][b] = sample[f];
      }
    }
    int last = ops.size() - 1;
    int[][][] acts = new int[ops.size()][][];
    for (int i = 0; i <= last; i++) {
      int[] idx = inputIndex.get(i);
      int[][][] ins = new int[idx.length][][];
      for (int k = 0; k < idx.length; k++) {
        ins[k] = idx[k] < 0 ? x : acts[idx[k]];
      }
      acts[i] = ops.get(i).run(ins, n);
      if (all || i == last) {
        for (int b = 0; b < n; b++) {
          outs[from + b][i] = column(acts[i], b);
        }
      }
      for (int k = 0; k < idx.length; k++) {
        if (!all && idx[k] >= 0 && lastUse[idx[k]] == i) {
          acts[idx[k]] = null;
        }
      }
    }
  }

  private static int[] column(int[][] rows, int b) {
    int[] v = new int[rows.length];
    for (int f = 0; f < v.length; f++) {
      v[f] = rows[f][b];
    }
    return v;
  }

  /** Stops the worker threads. */
  @Override
  public void close() {
    if (pool != null) {
      pool.shutdownNow();
    }
  }
}
