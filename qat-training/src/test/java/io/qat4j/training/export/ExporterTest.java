package io.qat4j.training.export;

import io.qat4j.export.ExportNetwork;
import io.qat4j.export.Exporter;

import io.qat4j.inference.engine.EngineConfig;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.ExportReader;
import io.qat4j.inference.format.ExportWriter;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.layers.nn.DeviationBatchNorm;
import io.qat4j.layers.nn.NormKind;
import io.qat4j.layers.nn.QuantActivation;
import io.qat4j.layers.nn.QuantConv2D;
import io.qat4j.layers.nn.QuantConvBN2D;
import io.qat4j.layers.nn.QuantDense;
import io.qat4j.layers.nn.QuantDenseBN;
import io.qat4j.layers.nn.QuantOutput;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Exports a tiny trained quantized network and checks the integer engine against DL4J's fake-quant model. */
class ExporterTest {
  private static MultiLayerNetwork net;
  private static DataSet images;

  /** uint8-valued images x/255, shape [n, 1·8·8], and one-hot labels of 3 classes. */
  static DataSet randomImages(int n, long seed) {
    Random r = new Random(seed);
    float[][] x = new float[n][64];
    float[][] y = new float[n][3];
    for (int i = 0; i < n; i++) {
      int label = r.nextInt(3);
      y[i][label] = 1;
      for (int k = 0; k < 64; k++) {
        // class-dependent bright region, so the network learns something
        int code = r.nextInt(256) / (k % 3 == label ? 1 : 3);
        x[i][k] = code / 255f;
      }
    }
    return new DataSet(Nd4j.create(x), Nd4j.create(y));
  }

  /** conv(relu) → max pool → uint8 activation → dense(relu, uint8 output) → output(softmax), weights int8. */
  static MultiLayerNetwork tinyNet() {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(7).updater(new Adam(0.01))
        .dataType(DataType.FLOAT).list()
        .layer(new QuantConv2D.Builder(3, 3).name("conv1").nOut(4).activation(Activation.RELU)
            .weightQuant("int(bits=8, narrow=true, axis=channel)").build())
        .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name("pool1").kernelSize(2, 2)
            .stride(2, 2).build())
        .layer(new QuantActivation.Builder().name("pool1_act").activation(Activation.IDENTITY)
            .quant("int(bits=8, signed=false, observer=ema)").build())
        .layer(new QuantDense.Builder().name("fc1").nOut(6).activation(Activation.RELU)
            .weightQuant("int(bits=8, narrow=true, axis=channel)").outputQuant("int(bits=8, signed=false, observer=ema)")
            .build())
        .layer(new QuantOutput.Builder(LossFunctions.LossFunction.MCXENT).name("output").nOut(3)
            .activation(Activation.SOFTMAX).weightQuant("int(bits=8, narrow=true, axis=channel)").build())
        .setInputType(InputType.convolutionalFlat(8, 8, 1)).build();
    MultiLayerNetwork n = new MultiLayerNetwork(conf);
    n.init();
    return n;
  }

  @BeforeAll
  static void train() {
    net = tinyNet();
    DataSet train = randomImages(64, 1);
    for (int i = 0; i < 30; i++) {
      net.fit(train);
    }
    images = randomImages(48, 2);
  }

  @Test
  void exportedLayersDescribeTheNetwork() {
    ExportModel m = Exporter.export(net, "tiny").model();
    List<String> ops = m.manifest().layers().stream().map(LayerSpec::op).toList();
    assertEquals(List.of("conv2d", "max_pool", "flatten", "dense", "dense"), ops);
    assertEquals(List.of(1, 1, 8, 8), m.manifest().input().shape());
    LayerSpec conv = m.manifest().layers().get(0);
    assertEquals(List.of(1, 4, 6, 6), conv.output().shape());
    assertEquals(conv.output().zeroPoint(), conv.clampMin()); // ReLU folded into the clamp
    assertEquals(List.of(4, 1, 3, 3), conv.weights().shape());
    assertEquals(List.of(6, 36), m.manifest().layers().get(3).weights().shape()); // dense transposed to [O, F]
    assertEquals(32, m.manifest().outputLayer().output().bits());
  }

  @Test
  void engineAgreesWithFakeQuantModel() {
    Exporter.Result r = Exporter.export(net, "tiny",
        Exporter.OutputQuant.covering(8, Exporter.maxAbsLogit(net, randomImages(64, 1).getFeatures())));
    assertEquals(8, r.model().manifest().outputLayer().output().bits());
    Simulator.Report rep = Simulator.run(r.model(), net, r.dl4jSources(),
        new ListDataSetIterator<>(images.asList(), 16), 0, EngineConfig.INT32);
    assertEquals(48, rep.examples());
    assertTrue(rep.top1Agreement() >= 0.95, "top-1 agreement " + rep.top1Agreement());
    for (Simulator.LayerAgreement l : rep.layers()) {
      assertEquals(1.0, l.within1LsbFraction(), l.name() + ": hidden codes within 1 LSB");
      assertTrue(l.identicalFraction() >= 0.95, l.name() + ": identical " + l.identicalFraction());
    }
    assertTrue(rep.outputWithin1LsbFraction() >= 0.99, "logits within 1 LSB at 8 bits: "
        + rep.outputWithin1LsbFraction());
    assertTrue(rep.accumulators().stream().allMatch(a -> a.overflows() == 0 && a.bitsSeen() <= a.bitsNeeded()));
  }

  @Test
  void exportFilesRoundTrip(@TempDir Path dir) throws Exception {
    ExportModel m = Exporter.export(net, "tiny").model();
    ExportWriter.write(dir, m, List.of("npy", "c", "mem", "coe"));
    ExportModel back = ExportReader.read(dir);
    assertEquals(m.manifest().layers(), back.manifest().layers());
    assertEquals(m.manifest().input(), back.manifest().input());
    assertEquals(m.tensors(), back.tensors());
  }

  @Test
  void logitsOfTheEngineMatchTheFakeQuantLogits() {
    ExportModel m = Exporter.export(net, "tiny").model();
    io.qat4j.inference.engine.IntegerEngine engine = new io.qat4j.inference.engine.IntegerEngine(m, EngineConfig.INT32);
    INDArray x = images.getFeatures();
    float[][] fake = ExportNetwork.of(net).logits(x).toFloatMatrix();
    float[][] xs = x.toFloatMatrix();
    double s = m.manifest().outputLayer().output().scale();
    int equalArgmax = 0;
    for (int i = 0; i < xs.length; i++) {
      int[] q = engine.run(io.qat4j.inference.Quantization.quantizeInput(xs[i], m.manifest().input()));
      float[] y = io.qat4j.inference.Quantization.dequantizeOutput(q, m.manifest().outputLayer().output());
      equalArgmax += Simulator.argMax(q) == Simulator.argMax(fake[i]) ? 1 : 0;
      for (int c = 0; c < y.length; c++) {
        // a hidden code that differs by 1 LSB moves a logit by about |w|·s_hidden; allow a few of those
        assertEquals(fake[i][c], y[c], 0.05 + 0.02 * Math.abs(fake[i][c]), "image " + i + " class " + c);
      }
      assertTrue(s > 0);
    }
    assertTrue(equalArgmax >= xs.length - 2, equalArgmax + " of " + xs.length);
  }

  /**
   * The zoo's folded batch-norm layout: conv+BN (frozen after 20 iterations) → ReLU → max pool → uint8 →
   * dense+BN → ReLU + uint8 → output. Exported with the layers' inference-mode folded weights.
   */
  @Test
  void foldedBatchNormLayersExportAsPlainLayersThatAgreeWithTheFakeQuantModel() {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(7).updater(new Adam(0.01))
        .dataType(DataType.FLOAT).list()
        .layer(new QuantConvBN2D.Builder(3, 3).name("conv1").nOut(4).freezeBnAfter(20)
            .weightQuant("int(bits=8, narrow=true, axis=channel)").build())
        .layer(new ActivationLayer.Builder().name("conv1_relu").activation(Activation.RELU).build())
        .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name("pool1").kernelSize(2, 2)
            .stride(2, 2).build())
        .layer(new QuantActivation.Builder().name("pool1_act").activation(Activation.IDENTITY)
            .quant("int(bits=8, signed=false, observer=ema)").build())
        .layer(new QuantDenseBN.Builder().name("fc1").nOut(6).freezeBnAfter(20)
            .weightQuant("int(bits=8, narrow=true, axis=channel)").build())
        .layer(new QuantActivation.Builder().name("fc1_act").activation(Activation.RELU)
            .quant("int(bits=8, signed=false, observer=ema)").build())
        .layer(new QuantOutput.Builder(LossFunctions.LossFunction.MCXENT).name("output").nOut(3)
            .activation(Activation.SOFTMAX).weightQuant("int(bits=8, narrow=true, axis=channel)").build())
        .setInputType(InputType.convolutionalFlat(8, 8, 1)).build();
    MultiLayerNetwork fused = new MultiLayerNetwork(conf);
    fused.init();
    DataSet train = randomImages(64, 1);
    for (int i = 0; i < 30; i++) {
      fused.fit(train);
    }
    Exporter.Result r = Exporter.export(fused, "tiny-bn");
    List<String> ops = r.model().manifest().layers().stream().map(LayerSpec::op).toList();
    assertEquals(List.of("conv2d", "max_pool", "flatten", "dense", "dense"), ops);
    LayerSpec conv = r.model().manifest().layers().get(0);
    assertTrue(conv.bias() != null, "the folded bias β − γμ/σ is exported");
    assertEquals(conv.output().zeroPoint(), conv.clampMin(), "ReLU folded into the clamp");
    Simulator.Report rep = Simulator.run(r.model(), fused, r.dl4jSources(),
        new ListDataSetIterator<>(images.asList(), 16), 0, EngineConfig.INT32);
    assertTrue(rep.top1Agreement() >= 0.95, "top-1 agreement " + rep.top1Agreement());
    for (Simulator.LayerAgreement l : rep.layers()) {
      assertEquals(1.0, l.within1LsbFraction(), l.name() + ": hidden codes within 1 LSB");
      assertTrue(l.identicalFraction() >= 0.95, l.name() + ": identical " + l.identicalFraction());
    }
  }

  /**
   * RangeBN / L1BN after a convolution are folded into it on export like DL4J's batch normalization
   * (after weight quantization: the codes stay, the channel scales and the bias change), and the integer
   * engine agrees with the fake-quant model.
   */
  @ParameterizedTest
  @EnumSource(NormKind.class)
  void deviationBatchNormIsFoldedOnExport(NormKind kind) {
    MultiLayerNetwork n = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(7).updater(new Adam(0.01))
        .dataType(DataType.FLOAT).list()
        .layer(new QuantConv2D.Builder(3, 3).name("conv1").nOut(4).hasBias(false).activation(Activation.IDENTITY)
            .weightQuant("int(bits=8, narrow=true, axis=channel)").build())
        .layer(new DeviationBatchNorm.Builder(kind).name("bn1").activation(Activation.RELU).build())
        .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name("pool1").kernelSize(2, 2)
            .stride(2, 2).build())
        .layer(new QuantActivation.Builder().name("pool1_act").activation(Activation.IDENTITY)
            .quant("int(bits=8, signed=false, observer=ema)").build())
        .layer(new QuantOutput.Builder(LossFunctions.LossFunction.MCXENT).name("output").nOut(3)
            .activation(Activation.SOFTMAX).weightQuant("int(bits=8, narrow=true, axis=channel)").build())
        .setInputType(InputType.convolutionalFlat(8, 8, 1)).build());
    n.init();
    DataSet train = randomImages(64, 1);
    for (int i = 0; i < 30; i++) {
      n.fit(train);
    }
    Exporter.Result r = Exporter.export(n, "bn");
    List<LayerSpec> layers = r.model().manifest().layers();
    assertEquals(List.of("conv2d", "max_pool", "flatten", "dense"), layers.stream().map(LayerSpec::op).toList());
    assertEquals(layers.get(0).output().zeroPoint(), layers.get(0).clampMin(), "the normalization's ReLU is the clamp");
    Simulator.Report rep = Simulator.run(r.model(), n, r.dl4jSources(),
        new ListDataSetIterator<>(images.asList(), 16), 0, EngineConfig.INT32);
    assertTrue(rep.top1Agreement() >= 0.95, "top-1 agreement " + rep.top1Agreement());
  }

  @Test
  void unsupportedLayersAreNamed() {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().list()
        .layer(new DenseLayer.Builder().name("plain").nIn(4).nOut(3).build())
        .layer(new QuantOutput.Builder(LossFunctions.LossFunction.MCXENT).name("output").nOut(2)
            .activation(Activation.SOFTMAX).weightQuant("int8").build())
        .setInputType(InputType.feedForward(4)).build();
    MultiLayerNetwork plain = new MultiLayerNetwork(conf);
    plain.init();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Exporter.export(plain, "x"));
    assertTrue(e.getMessage().contains("plain") && e.getMessage().contains("supported"), e.getMessage());
  }

  @Test
  void untrainedObserversAreRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Exporter.export(tinyNet(), "x"));
    assertTrue(e.getMessage().contains("pool1_act") && e.getMessage().contains("seen no data"), e.getMessage());
  }
}
