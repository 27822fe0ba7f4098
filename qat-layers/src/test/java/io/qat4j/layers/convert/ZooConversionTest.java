package io.qat4j.layers.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qat4j.layers.convert.ConversionReport.Status;
import io.qat4j.layers.nn.QuantSites;
import java.io.File;
import java.nio.file.Path;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.deeplearning4j.zoo.model.Darknet19;
import org.deeplearning4j.zoo.model.FaceNetNN4Small2;
import org.deeplearning4j.zoo.model.LeNet;
import org.deeplearning4j.zoo.model.SimpleCNN;
import org.deeplearning4j.zoo.model.SqueezeNet;
import org.deeplearning4j.zoo.model.VGG16;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Networks of deeplearning4j-zoo (random initialization, reduced input sizes) converted to W8A8 twins: 8-bit
 * per-channel weights, 8-bit activations with an EMA observer, batch normalization folded, additions quantized. Each
 * twin runs forward, trains (where the zoo configuration has an output layer) and reloads with identical outputs.
 * {@code scripts/check-zoo} does the same for every zoo network ({@code docs/zoo-conversion.md}).
 */
class ZooConversionTest {
  static final String UINT8 = "int(bits=8, signed=false, observer=ema)";
  static final QuantizationRule W8A8 = QuantizationRule.uniform(QuantSites.of(UINT8,
      "int(bits=8, narrow=true, axis=channel)", "float", "float"));
  static final QatConverter.Options OPTIONS = QatConverter.Options.DEFAULTS.withFoldBatchNorm(true)
      .withBnStart(QatConverter.BnStart.BATCH_STATISTICS).withAddSpec(UINT8);

  /**
   * One zoo network and how far the test takes its twin (the large ones only run forward: their save / reload and
   * training take tens of seconds here, and {@code scripts/check-zoo} does them).
   *
   * @param counts layers / vertices expected to be converted, folded, kept float
   * @param trains whether the twin trains two steps (the zoo configuration must have an output layer)
   * @param reloads whether the twin is saved and reloaded
   */
  record Case(String name, Supplier<Model> build, int[] shape, long[] counts, boolean trains, boolean reloads) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Case> cases() {
    return Stream.of(
        new Case("LeNet", () -> LeNet.builder().numClasses(10).build().init(), new int[] {1, 28, 28},
            new long[] {4, 0, 2}, true, true),
        // ends with a softmax activation layer, no output layer: nothing to train with
        new Case("SimpleCNN 32x32", () -> SimpleCNN.builder().numClasses(10).inputShape(new int[] {3, 32, 32}).build()
            .init(), new int[] {3, 32, 32}, new long[] {10, 9, 14}, false, true),
        new Case("SqueezeNet 32x32", () -> SqueezeNet.builder().numClasses(10).inputShape(new int[] {3, 32, 32})
            .build().init(), new int[] {3, 32, 32}, new long[] {26, 0, 41}, true, true),
        new Case("Darknet19 32x32", () -> Darknet19.builder().numClasses(10).inputShape(new int[] {3, 32, 32}).build()
            .init(), new int[] {3, 32, 32}, new long[] {19, 18, 26}, false, false),
        new Case("FaceNetNN4Small2 96x96", () -> FaceNetNN4Small2.builder().numClasses(10).build().init(),
            new int[] {3, 96, 96}, new long[] {38, 37, 58}, false, false),
        new Case("VGG16 32x32", () -> VGG16.builder().numClasses(10).inputShape(new int[] {3, 32, 32}).build().init(),
            new int[] {3, 32, 32}, new long[] {16, 0, 5}, false, false));
  }

  static INDArray output(Model m, INDArray x) {
    return m instanceof ComputationGraph g ? g.output(false, x)[0] : ((MultiLayerNetwork) m).output(x, false);
  }

  static boolean finite(INDArray y) {
    return !y.isNaN().any() && !y.isInfinite().any();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void w8a8TwinRunsTrainsAndReloads(Case c, @TempDir Path dir) throws Exception {
    Model f = c.build().get();
    Nd4j.getRandom().setSeed(1);
    INDArray x = Nd4j.rand(DataType.FLOAT, 2, c.shape()[0], c.shape()[1], c.shape()[2]);
    INDArray fo = output(f, x);
    assertTrue(finite(fo));

    Model q;
    ConversionReport rep;
    if (f instanceof ComputationGraph g) {
      QatConverter.Result<ComputationGraph> r = QatConverter.convert(g, W8A8, OPTIONS);
      q = r.model();
      rep = r.report();
    } else {
      QatConverter.Result<MultiLayerNetwork> r = QatConverter.convert((MultiLayerNetwork) f, W8A8, OPTIONS);
      q = r.model();
      rep = r.report();
    }
    assertEquals(c.counts()[0], rep.converted(), rep.toString());
    assertEquals(c.counts()[1], rep.count(Status.FOLDED), rep.toString());
    assertEquals(c.counts()[2], rep.keptFloat(), rep.toString());
    INDArray qo = output(q, x);
    assertTrue(finite(qo));
    assertTrue(java.util.Arrays.equals(fo.shape(), qo.shape()));

    if (c.trains()) {
      INDArray labels = Nd4j.zeros(DataType.FLOAT, qo.shape());
      labels.putScalar(0, 1, 1.0);
      labels.putScalar(1, 2, 1.0);
      MultiDataSet d = new MultiDataSet(x, labels);
      for (int i = 0; i < 2; i++) {
        if (q instanceof ComputationGraph g) {
          g.fit(d);
        } else {
          ((MultiLayerNetwork) q).fit(new org.nd4j.linalg.dataset.DataSet(x, labels));
        }
      }
      assertTrue(Double.isFinite(q.score()), "score " + q.score());
    }

    if (!c.reloads()) {
      return;
    }
    File zip = dir.resolve("twin.zip").toFile();
    ModelSerializer.writeModel(q, zip, true);
    Model back = q instanceof ComputationGraph ? ModelSerializer.restoreComputationGraph(zip, true)
        : ModelSerializer.restoreMultiLayerNetwork(zip, true);
    assertEquals(q.params(), back.params());
    assertEquals(output(q, x), output(back, x));
  }
}
