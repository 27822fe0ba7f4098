package io.qat4j.inference.engine;

import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.ExportReader;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.inference.format.Manifest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Bit-accurate, integer-only inference over an export ({@code docs/export-format.md}): the hardware
 * reference model.
 *
 * <p>{@link #run} takes the input codes (see {@code io.qat4j.inference.Quantization.quantizeInput}) and
 * returns the last layer's output codes, using int / long arithmetic only: B-bit accumulators
 * ({@link EngineConfig}, wrap or saturate, overflows counted per layer), requantization by integer
 * multiplier and rounding right shift (gemmlowp), integer clamp, pools, channel padding and residual add. One
 * sample at a time (N = 1). Jacob et al., arXiv:1712.05877; Sakr et al., arXiv:1901.06588. Example:
 * {@code IntegerEngine.load(dir, EngineConfig.INT32).run(codes)}. Not thread-safe (statistics).
 */
public final class IntegerEngine {
  private final Manifest manifest;
  private final List<LayerOp> ops = new ArrayList<>();
  private final List<int[]> inputIndex = new ArrayList<>();
  private final int inputSize;
  private final int inputMin;
  private final int inputMax;

  /** Builds the engine, validating every layer against its inputs. */
  public IntegerEngine(ExportModel model, EngineConfig config) {
    this.manifest = model.manifest();
    ActivationSpec in = manifest.input();
    this.inputSize = in.size();
    this.inputMin = in.qmin();
    this.inputMax = in.qmax();
    Map<String, Integer> index = new HashMap<>();
    Map<String, ActivationSpec> acts = new HashMap<>();
    index.put("input", -1);
    acts.put("input", in);
    for (int li = 0; li < manifest.layers().size(); li++) {
      LayerSpec l = manifest.layers().get(li);
      int[] idx = new int[l.inputs().size()];
      for (int k = 0; k < idx.length; k++) {
        idx[k] = index.get(l.inputs().get(k));
      }
      ops.add(create(l, acts, model, config));
      inputIndex.add(idx);
      index.put(l.name(), li);
      acts.put(l.name(), l.output());
    }
  }

  /** Reads an export directory and builds the engine. */
  public static IntegerEngine load(Path dir, EngineConfig config) throws IOException {
    return new IntegerEngine(ExportReader.read(dir), config);
  }

  /** The one switch from op type to implementation (also validates the layer for {@link FastEngine}). */
  static LayerOp create(LayerSpec l, Map<String, ActivationSpec> acts, ExportModel model,
      EngineConfig config) {
    ActivationSpec x = acts.get(l.inputs().get(0));
    int[] shape = LayerOp.ints(x.shape());
    return switch (l.op()) {
      case "conv2d", "depthwise_conv2d", "binary_conv2d", "ternary_conv2d" -> new ConvOp(l, shape, x.zeroPoint(),
          model.tensor(l.weights()), l.bias() == null ? null : model.tensor(l.bias()), config);
      case "dense", "binary_dense", "ternary_dense" -> new DenseOp(l, x.size(), x.zeroPoint(),
          model.tensor(l.weights()), l.bias() == null ? null : model.tensor(l.bias()), config);
      case "max_pool", "avg_pool" -> new PoolOp(l, shape, x.zeroPoint());
      case "global_avg_pool" -> new GlobalAvgPoolOp(l, x);
      case "pad_channels" -> new PadChannelsOp(l, shape);
      case "relu", "clamp" -> new ClampOp(l);
      case "add" -> {
        ActivationSpec x1 = acts.get(l.inputs().get(1));
        yield new AddOp(l, shape, LayerOp.ints(x1.shape()), x.zeroPoint(), x1.zeroPoint());
      }
      case "flatten" -> new FlattenOp(l, x.size());
      default -> throw new IllegalArgumentException("op '" + l.op() + "' of layer " + l.name()
          + " not allowed; allowed: " + LayerSpec.OPS);
    };
  }

  /** The manifest this engine runs. */
  public Manifest manifest() {
    return manifest;
  }

  /** Output codes of the last layer for one sample's input codes (C order, the manifest's input shape). */
  public int[] run(int[] input) {
    int[][] outs = forward(input);
    return outs[outs.length - 1];
  }

  /** Every layer's output codes, by layer name in execution order (for test vectors). */
  public Map<String, int[]> runAll(int[] input) {
    int[][] outs = forward(input);
    Map<String, int[]> m = new LinkedHashMap<>();
    for (int i = 0; i < outs.length; i++) {
      m.put(manifest.layers().get(i).name(), outs[i]);
    }
    return m;
  }

  private int[][] forward(int[] input) {
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
    int[][] outs = new int[ops.size()][];
    for (int i = 0; i < ops.size(); i++) {
      int[] idx = inputIndex.get(i);
      int[][] ins = new int[idx.length][];
      for (int k = 0; k < idx.length; k++) {
        ins[k] = idx[k] < 0 ? input : outs[idx[k]];
      }
      outs[i] = ops.get(i).run(ins);
    }
    return outs;
  }

  /** Accumulator statistics per layer since construction or the last {@link #resetStats()}. */
  public List<LayerStats> stats() {
    List<LayerStats> out = new ArrayList<>();
    for (LayerOp op : ops) {
      Accumulator a = op.accumulator();
      int declared = op.spec.accumulatorBits() == null ? 0 : op.spec.accumulatorBits();
      out.add(a == null ? new LayerStats(op.spec.name(), op.spec.op(), 0, 0, 0, declared)
          : new LayerStats(op.spec.name(), op.spec.op(), a.additions(), a.overflows(), a.bitsSeen(), declared));
    }
    return out;
  }

  /** Clears the per-layer statistics. */
  public void resetStats() {
    for (LayerOp op : ops) {
      if (op.accumulator() != null) {
        op.accumulator().reset();
      }
    }
  }
}
