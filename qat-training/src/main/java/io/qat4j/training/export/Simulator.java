package io.qat4j.training.export;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.qat4j.inference.Quantization;
import io.qat4j.inference.engine.EngineConfig;
import io.qat4j.inference.engine.FastEngine;
import io.qat4j.inference.engine.IntegerEngine;
import io.qat4j.inference.engine.LayerStats;
import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.export.ExportNetwork;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs the integer engine and the DL4J fake-quant model on the same images and measures how well they agree.
 *
 * <p>Per image: the input codes are {@code Quantization.quantizeInput(x)}; the engine computes every layer's codes
 * ({@link IntegerEngine#runAll}); the fake-quant model computes its float activations
 * ({@link ExportNetwork#activations}) and its logits ({@link ExportNetwork#logits}). Codes are compared in
 * LSBs of each layer's output quantization: the fake-quant value v becomes clamp(rint(v·(1/s)) + z) (float32, as the
 * quantizers compute it; binary layers: v &gt;= 0 ? +1 : -1), the logits clamp(rint(v / s_out)) at the export's
 * output quantization. Top-1 agreement compares the engine's argmax over its logit codes with the fake-quant
 * model's argmax (ties in the engine's codes go to the lowest class). The engine is the reference
 * {@link IntegerEngine} (with accumulator statistics) or the fast {@link FastEngine} (the same codes, batched and
 * multi-threaded, no statistics).
 */
public final class Simulator {
  private Simulator() {}

  /** Agreement of one layer's codes with the fake-quant activation at the same quantization. */
  public record LayerAgreement(
      @JsonProperty("name") String name,
      @JsonProperty("op") String op,
      @JsonProperty("compared_with") String comparedWith,
      @JsonProperty("values") long values,
      @JsonProperty("identical_fraction") double identicalFraction,
      @JsonProperty("within_1_lsb_fraction") double within1LsbFraction,
      @JsonProperty("max_abs_diff_lsb") long maxAbsDiffLsb,
      @JsonProperty("mean_abs_diff_lsb") double meanAbsDiffLsb) {}

  /** Accumulator statistics of one layer (IntegerEngine.stats). */
  public record Accumulators(
      @JsonProperty("name") String name,
      @JsonProperty("op") String op,
      @JsonProperty("additions") long additions,
      @JsonProperty("overflows") long overflows,
      @JsonProperty("bits_seen") int bitsSeen,
      @JsonProperty("bits_needed") int bitsNeeded) {}

  /** What {@code simulate.json} holds. */
  public record Report(
      @JsonProperty("examples") long examples,
      @JsonProperty("engine_accuracy") double engineAccuracy,
      @JsonProperty("fake_quant_accuracy") double fakeQuantAccuracy,
      @JsonProperty("top1_agreement") double top1Agreement,
      @JsonProperty("output_bits") int outputBits,
      @JsonProperty("output_scale") double outputScale,
      @JsonProperty("output_max_abs_diff_lsb") long outputMaxAbsDiffLsb,
      @JsonProperty("output_mean_abs_diff_lsb") double outputMeanAbsDiffLsb,
      @JsonProperty("output_within_1_lsb_fraction") double outputWithin1LsbFraction,
      @JsonProperty("output_identical_fraction") double outputIdenticalFraction,
      @JsonProperty("accumulator_bits") int accumulatorBits,
      @JsonProperty("overflow") String overflow,
      @JsonProperty("engine_images_per_second") double engineImagesPerSecond,
      @JsonProperty("layers") List<LayerAgreement> layers,
      @JsonProperty("accumulators") List<Accumulators> accumulators,
      @JsonProperty("engine") String engine) {}

  /**
   * Simulates {@code limit} images (0 = all) of {@code data}.
   *
   * @param sources exported layer name to the DL4J node it corresponds to ({@code io.qat4j.export.Exporter.Result})
   */
  public static Report run(ExportModel export, Model net, Map<String, String> sources,
      DataSetIterator data, long limit, EngineConfig config) {
    return run(export, net, sources, data, limit, config, false);
  }

  /**
   * As {@link #run(ExportModel, Model, Map, DataSetIterator, long, EngineConfig)}; with {@code fast} the
   * engine is {@link FastEngine} on all available processors (a batch at a time; no accumulator statistics).
   */
  public static Report run(ExportModel export, Model net, Map<String, String> sources,
      DataSetIterator data, long limit, EngineConfig config, boolean fast) {
    try (FastEngine fastEngine = fast ? new FastEngine(export, config, Runtime.getRuntime().availableProcessors())
        : null) {
      return run(export, net, sources, data, limit, config, fastEngine);
    }
  }

  private static Report run(ExportModel export, Model net, Map<String, String> sources,
      DataSetIterator data, long limit, EngineConfig config, FastEngine fast) {
    IntegerEngine engine = fast == null ? new IntegerEngine(export, config) : null;
    ExportNetwork network = ExportNetwork.of(net);
    ActivationSpec input = export.manifest().input();
    LayerSpec outLayer = export.manifest().outputLayer();
    ActivationSpec outSpec = outLayer.output();
    double sOut = outSpec.scale();
    List<LayerSpec> compared = new ArrayList<>();
    for (LayerSpec l : export.manifest().layers()) {
      if (l != outLayer && sources.containsKey(l.name())) {
        compared.add(l);
      }
    }
    long[][] layerCounts = new long[compared.size()][3]; // values, identical, within 1
    long[] layerMax = new long[compared.size()];
    double[] layerSum = new double[compared.size()];
    long n = 0;
    long engineCorrect = 0;
    long fakeCorrect = 0;
    long agree = 0;
    long outValues = 0;
    long outWithin1 = 0;
    long outSame = 0;
    long outMax = 0;
    double outSum = 0;
    long engineNanos = 0;
    data.reset();
    while (data.hasNext() && (limit <= 0 || n < limit)) {
      DataSet ds = data.next();
      INDArray x = ds.getFeatures();
      int batch = (int) x.size(0);
      Map<String, INDArray> acts = network.activations(x.castTo(net.params().dataType()));
      float[][] logits = network.logits(acts).toFloatMatrix();
      float[][] xs = x.reshape('c', batch, x.length() / batch).toFloatMatrix();
      long[] labels = ds.getLabels().argMax(1).toLongVector();
      float[][][] layerActs = new float[compared.size()][][];
      for (int k = 0; k < compared.size(); k++) {
        INDArray a = acts.get(sources.get(compared.get(k).name()));
        layerActs[k] = a.dup('c').reshape('c', batch, a.length() / batch).toFloatMatrix();
      }
      List<Map<String, int[]>> batchOuts = null;
      if (fast != null) {
        int[][] codes = new int[(int) (limit <= 0 ? batch : Math.min(batch, limit - n))][];
        for (int b = 0; b < codes.length; b++) {
          codes[b] = Quantization.quantizeInput(xs[b], input);
        }
        long t0 = System.nanoTime();
        batchOuts = fast.runAll(codes);
        engineNanos += System.nanoTime() - t0;
      }
      for (int b = 0; b < batch && (limit <= 0 || n < limit); b++, n++) {
        Map<String, int[]> outs;
        if (batchOuts != null) {
          outs = batchOuts.get(b);
        } else {
          int[] codes = Quantization.quantizeInput(xs[b], input);
          long t0 = System.nanoTime();
          outs = engine.runAll(codes);
          engineNanos += System.nanoTime() - t0;
        }
        int[] q = outs.get(outLayer.name());
        int eArg = argMax(q);
        int fArg = argMax(logits[b]);
        engineCorrect += eArg == labels[b] ? 1 : 0;
        fakeCorrect += fArg == labels[b] ? 1 : 0;
        agree += eArg == fArg ? 1 : 0;
        for (int c = 0; c < q.length; c++) {
          double f = Math.max(outSpec.qmin(), Math.min(outSpec.qmax(), Math.rint(logits[b][c] / sOut)));
          long d = Math.abs(q[c] - (long) f);
          outValues++;
          outWithin1 += d <= 1 ? 1 : 0;
          outSame += d == 0 ? 1 : 0;
          outMax = Math.max(outMax, d);
          outSum += d;
        }
        for (int k = 0; k < compared.size(); k++) {
          ActivationSpec o = compared.get(k).output();
          int[] e = outs.get(compared.get(k).name());
          float[] v = layerActs[k][b];
          if (v.length != e.length) {
            throw new IllegalStateException("layer " + compared.get(k).name() + " has " + e.length
                + " codes but its DL4J counterpart " + v.length + " values");
          }
          float inv = 1f / (float) o.scale();
          for (int i = 0; i < e.length; i++) {
            long f;
            if (o.isBinary()) {
              f = v[i] >= 0 ? 1 : -1;
            } else {
              float r = (float) Math.rint(v[i] * inv) + o.zeroPoint();
              f = (long) Math.max(o.qmin(), Math.min(o.qmax(), r));
            }
            long d = Math.abs(e[i] - f);
            layerCounts[k][0]++;
            layerCounts[k][1] += d == 0 ? 1 : 0;
            layerCounts[k][2] += d <= 1 ? 1 : 0;
            layerMax[k] = Math.max(layerMax[k], d);
            layerSum[k] += d;
          }
        }
      }
    }
    List<LayerAgreement> la = new ArrayList<>();
    for (int k = 0; k < compared.size(); k++) {
      long v = Math.max(1, layerCounts[k][0]);
      LayerSpec l = compared.get(k);
      String dl4j = sources.get(l.name());
      la.add(new LayerAgreement(l.name(), l.op(), dl4j, layerCounts[k][0], (double) layerCounts[k][1] / v,
          (double) layerCounts[k][2] / v, layerMax[k], layerSum[k] / v));
    }
    List<Accumulators> acc = new ArrayList<>();
    for (LayerStats s : engine == null ? List.<LayerStats>of() : engine.stats()) {
      if (s.additions() > 0) {
        acc.add(new Accumulators(s.name(), s.op(), s.additions(), s.overflows(), s.bitsSeen(), s.bitsDeclared()));
      }
    }
    double dn = Math.max(1, n);
    return new Report(n, engineCorrect / dn, fakeCorrect / dn, agree / dn, outSpec.bits(), sOut, outMax,
        outSum / Math.max(1, outValues), (double) outWithin1 / Math.max(1, outValues),
        (double) outSame / Math.max(1, outValues), config.accumulatorBits(), config.overflow().specName(),
        n / (engineNanos / 1e9), la, acc, fast == null ? "reference" : "fast");
  }

  /**
   * Makes the DL4J model use the export's int32 biases (times their scales) instead of its trained float biases:
   * a layer's bias {@code b} is replaced, and where a batch normalization was folded into the layer, its β is set so
   * that g·(b − μ) + β equals the exported bias (layers matched by name). With these biases the fake-quant model
   * computes what the integer-only model computes, up to the float rounding of the fake-quant arithmetic: this
   * isolates the effect of bias rounding. Returns the names of the layers changed.
   */
  public static List<String> useExportedBiases(ExportModel export, Model net) {
    ExportNetwork network = ExportNetwork.of(net);
    List<String> changed = new ArrayList<>();
    for (LayerSpec l : export.manifest().layers()) {
      ExportNetwork.Node node = network.nodes().stream().filter(x -> x.name().equals(l.name())).findFirst()
          .orElse(null);
      if (l.bias() == null || node == null || node.impl() == null) {
        continue;
      }
      int[] q = export.tensors().get(l.bias().file()).data();
      INDArray b = node.impl().paramTable().get("b");
      ExportNetwork.Node bn = network.nodes().stream().filter(x -> x.inputs().equals(List.of(l.name()))
          && x.layer() != null && io.qat4j.layers.fold.BatchNormFold.isNormalization(x.layer())).findFirst()
          .orElse(null);
      if (bn != null) {
        org.deeplearning4j.nn.api.Layer bnLayer = bn.impl();
        INDArray beta = bnLayer.paramTable().get("beta");
        if (beta == null || beta.length() != q.length) {
          continue;
        }
        io.qat4j.layers.fold.BatchNormFold.Stats st = io.qat4j.layers.fold.BatchNormFold.Stats.of(bnLayer);
        INDArray g = st.factor();
        for (int c = 0; c < q.length; c++) {
          double bc = b == null ? 0 : b.getDouble(c);
          beta.putScalar(c, q[c] * l.bias().scale().get(c) - g.getDouble(c) * (bc - st.mean().getDouble(c)));
        }
      } else {
        if (b == null || b.length() != q.length) {
          continue;
        }
        // A constant output scale (WAGE's 1/α) was folded into the exported bias scale: b = q·scale / c.
        double c0 = outputScale(node.layer());
        for (int c = 0; c < q.length; c++) {
          b.putScalar(c, q[c] * l.bias().scale().get(c) / c0);
        }
      }
      changed.add(l.name());
    }
    return changed;
  }

  /** The constant scale c of a layer's {@link io.qat4j.layers.train.ScaledActivation} (1 without one). */
  private static double outputScale(org.deeplearning4j.nn.conf.layers.Layer l) {
    return l instanceof org.deeplearning4j.nn.conf.layers.BaseLayer bl
        && bl.getActivationFn() instanceof io.qat4j.layers.train.ScaledActivation sa ? sa.scale() : 1;
  }

  static int argMax(int[] v) {
    return io.qat4j.inference.TestVectors.argMax(v);
  }

  static int argMax(float[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }
}
