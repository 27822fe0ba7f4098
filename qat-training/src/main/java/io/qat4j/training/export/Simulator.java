package io.qat4j.training.export;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.qat4j.inference.Quantization;
import io.qat4j.inference.engine.EngineConfig;
import io.qat4j.inference.engine.IntegerEngine;
import io.qat4j.inference.engine.LayerStats;
import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.LayerSpec;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
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
 * ({@code net.feedForward(x, false)}) and its logits ({@link Exporter#fakeQuantLogits}). Codes are compared in
 * LSBs of each layer's output quantization: the fake-quant value v becomes clamp(rint(v·(1/s)) + z) (float32, as the
 * quantizers compute it), the logits rint(v / s_out). Top-1 agreement compares the engine's argmax over its int32
 * logits with the fake-quant model's argmax.
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
      @JsonProperty("output_scale") double outputScale,
      @JsonProperty("output_max_abs_diff_lsb") long outputMaxAbsDiffLsb,
      @JsonProperty("output_mean_abs_diff_lsb") double outputMeanAbsDiffLsb,
      @JsonProperty("output_within_1_lsb_fraction") double outputWithin1LsbFraction,
      @JsonProperty("logits8_scale") double logits8Scale,
      @JsonProperty("logits8_max_abs_diff_lsb") long logits8MaxAbsDiffLsb,
      @JsonProperty("logits8_within_1_lsb_fraction") double logits8Within1LsbFraction,
      @JsonProperty("logits8_identical_fraction") double logits8IdenticalFraction,
      @JsonProperty("accumulator_bits") int accumulatorBits,
      @JsonProperty("overflow") String overflow,
      @JsonProperty("engine_images_per_second") double engineImagesPerSecond,
      @JsonProperty("layers") List<LayerAgreement> layers,
      @JsonProperty("accumulators") List<Accumulators> accumulators) {}

  /**
   * Simulates {@code limit} images (0 = all) of {@code data}.
   *
   * @param sources exported layer name to the DL4J layer index it corresponds to ({@link Exporter.Result})
   */
  public static Report run(ExportModel export, MultiLayerNetwork net, Map<String, Integer> sources,
      DataSetIterator data, long limit, EngineConfig config) {
    IntegerEngine engine = new IntegerEngine(export, config);
    ActivationSpec input = export.manifest().input();
    LayerSpec outLayer = export.manifest().outputLayer();
    double sOut = outLayer.output().scale();
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
    long outMax = 0;
    double outSum = 0;
    long engineNanos = 0;
    List<int[]> engineLogits = new ArrayList<>();
    List<float[]> fakeLogits = new ArrayList<>();
    float maxAbsLogit = 0;
    data.reset();
    while (data.hasNext() && (limit <= 0 || n < limit)) {
      DataSet ds = data.next();
      INDArray x = ds.getFeatures();
      int batch = (int) x.size(0);
      List<INDArray> acts = net.feedForward(x, false);
      float[][] logits = Exporter.fakeQuantLogits(net, acts).toFloatMatrix();
      float[][] xs = x.reshape('c', batch, x.length() / batch).toFloatMatrix();
      long[] labels = ds.getLabels().argMax(1).toLongVector();
      float[][][] layerActs = new float[compared.size()][][];
      for (int k = 0; k < compared.size(); k++) {
        INDArray a = acts.get(sources.get(compared.get(k).name()) + 1);
        layerActs[k] = a.dup('c').reshape('c', batch, a.length() / batch).toFloatMatrix();
      }
      for (int b = 0; b < batch && (limit <= 0 || n < limit); b++, n++) {
        int[] codes = Quantization.quantizeInput(xs[b], input);
        long t0 = System.nanoTime();
        Map<String, int[]> outs = engine.runAll(codes);
        engineNanos += System.nanoTime() - t0;
        int[] q = outs.get(outLayer.name());
        engineLogits.add(q);
        fakeLogits.add(logits[b]);
        for (float v : logits[b]) {
          maxAbsLogit = Math.max(maxAbsLogit, Math.abs(v));
        }
        int eArg = argMax(q);
        int fArg = argMax(logits[b]);
        engineCorrect += eArg == labels[b] ? 1 : 0;
        fakeCorrect += fArg == labels[b] ? 1 : 0;
        agree += eArg == fArg ? 1 : 0;
        for (int c = 0; c < q.length; c++) {
          long d = Math.abs(q[c] - (long) Math.rint(logits[b][c] / sOut));
          outValues++;
          outWithin1 += d <= 1 ? 1 : 0;
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
            float r = (float) Math.rint(v[i] * inv) + o.zeroPoint();
            long f = (long) Math.max(o.qmin(), Math.min(o.qmax(), r));
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
      String dl4j = net.getLayerWiseConfigurations().getConf(sources.get(l.name())).getLayer().getLayerName();
      la.add(new LayerAgreement(l.name(), l.op(), dl4j, layerCounts[k][0], (double) layerCounts[k][1] / v,
          (double) layerCounts[k][2] / v, layerMax[k], layerSum[k] / v));
    }
    List<Accumulators> acc = new ArrayList<>();
    for (LayerStats s : engine.stats()) {
      if (s.additions() > 0) {
        acc.add(new Accumulators(s.name(), s.op(), s.additions(), s.overflows(), s.bitsSeen(), s.bitsDeclared()));
      }
    }
    // The same comparison at an 8-bit logit scale: s8 = max |fake-quant logit| / 127 (what a symmetric int8
    // output site with a min/max observer over these images would use).
    double s8 = maxAbsLogit > 0 ? maxAbsLogit / 127.0 : 1;
    long max8 = 0;
    long within8 = 0;
    long same8 = 0;
    for (int i = 0; i < engineLogits.size(); i++) {
      int[] q = engineLogits.get(i);
      for (int c = 0; c < q.length; c++) {
        long d = Math.abs(Math.round(q[c] * sOut / s8) - Math.round(fakeLogits.get(i)[c] / s8));
        max8 = Math.max(max8, d);
        within8 += d <= 1 ? 1 : 0;
        same8 += d == 0 ? 1 : 0;
      }
    }
    double dn = Math.max(1, n);
    return new Report(n, engineCorrect / dn, fakeCorrect / dn, agree / dn, sOut, outMax, outSum / Math.max(1, outValues),
        (double) outWithin1 / Math.max(1, outValues), s8, max8, (double) within8 / Math.max(1, outValues),
        (double) same8 / Math.max(1, outValues), config.accumulatorBits(), config.overflow().specName(),
        n / (engineNanos / 1e9), la, acc);
  }

  static int argMax(int[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
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
