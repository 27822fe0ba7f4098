package io.qat4j.training.export;

import io.qat4j.export.ExportNetwork;
import io.qat4j.export.Exporter;

import io.qat4j.inference.engine.EngineConfig;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.layers.nn.QuantActivation;
import io.qat4j.layers.nn.QuantConv2D;
import io.qat4j.layers.nn.QuantDense;
import io.qat4j.layers.nn.QuantOutput;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Batch normalization folded after weight quantization (including channels with γ &lt; 0, whose codes are
 * negated), binary weights and binary (sign) activations: the engine must reproduce the fake-quant model's codes.
 */
class ExporterFoldAndBinaryTest {

  /** Flips the sign of γ in every other channel of a BN layer, so the fold has to handle negative scales. */
  private static void negateSomeGammas(MultiLayerNetwork net, int layer) {
    INDArray g = net.getLayer(layer).getParam("gamma");
    for (long c = 0; c < g.length(); c += 2) {
      g.putScalar(c, -g.getDouble(c));
    }
  }

  private static Simulator.Report simulate(MultiLayerNetwork net, DataSet images, Exporter.Result r) {
    // compared in float64, as `qat simulate` does by default
    return Simulator.run(r.model(), net.convertDataType(DataType.DOUBLE), r.dl4jSources(), new ListDataSetIterator<>(images.asList(), 16), 0,
        EngineConfig.INT32);
  }

  @Test
  void intWeightsWithFoldedBatchNormKeepTheirCodes() {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(3).updater(new Adam(0.01))
        .dataType(DataType.FLOAT).list()
        .layer(new QuantConv2D.Builder(3, 3).name("conv1").nOut(6).activation(Activation.IDENTITY).hasBias(false)
            .weightQuant("int(bits=4, narrow=true, axis=channel)").build())
        .layer(new BatchNormalization.Builder().name("bn1").build())
        .layer(new ActivationLayer.Builder().name("bn1_relu").activation(Activation.RELU).build())
        .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name("pool1").kernelSize(2, 2)
            .stride(2, 2).build())
        .layer(new QuantActivation.Builder().name("pool1_act").activation(Activation.IDENTITY)
            .quant("int(bits=4, signed=false, observer=ema)").build())
        .layer(new QuantOutput.Builder(LossFunctions.LossFunction.MCXENT).name("output").nOut(3)
            .activation(Activation.SOFTMAX).weightQuant("int(bits=8, narrow=true, axis=channel)").build())
        .setInputType(InputType.convolutionalFlat(8, 8, 1)).build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    DataSet train = ExporterTest.randomImages(64, 5);
    for (int i = 0; i < 20; i++) {
      net.fit(train);
    }
    negateSomeGammas(net, 1);
    for (int i = 0; i < 5; i++) {
      net.fit(train); // the observers see the network with negative γ
    }
    Exporter.Result r = Exporter.export(net, "bn",
        Exporter.OutputQuant.covering(8, Exporter.maxAbsLogit(net, train.getFeatures())));
    LayerSpec conv = r.model().manifest().layers().get(0);
    assertEquals("conv2d", conv.op());
    assertTrue(conv.weights().scale().stream().allMatch(s -> s > 0), "positive folded scales " + conv.weights().scale());
    // the folded layer's codes are the fake-quant weight codes, negated where γ < 0
    INDArray fq = ExportNetwork.fakeQuantWeights(ExportNetwork.of(net).nodes().get(0));
    int[] codes = r.model().tensors().get(conv.weights().file()).data();
    INDArray gamma = net.getLayer(1).getParam("gamma");
    INDArray factor = io.qat4j.layers.fold.BatchNormFold.Stats.of(
        (org.deeplearning4j.nn.layers.normalization.BatchNormalization) net.getLayer(1)).factor();
    int per = codes.length / 6;
    for (int c = 0; c < 6; c++) {
      double sw = conv.weights().scale().get(c);
      double sign = Math.signum(gamma.getDouble(c));
      double g = Math.abs(factor.getDouble(c));
      for (int k = 0; k < per; k++) {
        double w = fq.reshape(6, per).getDouble(c, k);
        assertEquals(w * g, sign * codes[c * per + k] * sw, 1e-6 * Math.max(1, Math.abs(w * g)), "channel " + c);
      }
    }
    DataSet test = ExporterTest.randomImages(64, 6);
    Simulator.Report rep = simulate(net, test, r);
    assertTrue(rep.top1Agreement() >= 0.95, "top-1 agreement " + rep.top1Agreement());
    for (Simulator.LayerAgreement l : rep.layers()) {
      assertEquals(1.0, l.within1LsbFraction(), l.name() + " within 1 LSB");
      assertTrue(l.identicalFraction() >= 0.98, l.name() + " identical " + l.identicalFraction());
    }
    // with the exported int32 biases (β adjusted for the folded BN) the fake-quant model computes what the engine
    // computes: every hidden code identical, logits within 1 LSB
    MultiLayerNetwork snapped = net.clone();
    assertEquals(List.of("conv1", "output"), Simulator.useExportedBiases(r.model(), snapped));
    Simulator.Report exact = simulate(snapped, test, r);
    for (Simulator.LayerAgreement l : exact.layers()) {
      assertEquals(1.0, l.identicalFraction(), l.name() + " identical with exported biases");
    }
    assertEquals(1.0, exact.outputWithin1LsbFraction(), "output codes with exported biases");
    assertEquals(1.0, exact.top1Agreement(), 0.02);
  }

  @Test
  void binaryNetworkIsReproducedExactly() {
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(4).updater(new Adam(0.01))
        .dataType(DataType.FLOAT).list()
        .layer(new QuantConv2D.Builder(3, 3).name("conv1").nOut(8).activation(Activation.IDENTITY).hasBias(false)
            .weightQuant("int(bits=8, narrow=true, axis=channel)").build())
        .layer(new BatchNormalization.Builder().name("bn1").build())
        .layer(new ActivationLayer.Builder().name("bn1_hardtanh").activation(Activation.HARDTANH).build())
        .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name("pool1").kernelSize(2, 2)
            .stride(2, 2).build())
        .layer(new QuantActivation.Builder().name("pool1_act").activation(Activation.IDENTITY).quant("binary")
            .build())
        .layer(new QuantDense.Builder().name("fc1").nOut(16).activation(Activation.IDENTITY).hasBias(false)
            .weightQuant("binary(scale=channel)").build())
        .layer(new BatchNormalization.Builder().name("bn2").build())
        .layer(new QuantActivation.Builder().name("bn2_act").activation(Activation.HARDTANH).quant("binary").build())
        .layer(new QuantOutput.Builder(LossFunctions.LossFunction.MCXENT).name("output").nOut(3)
            .activation(Activation.SOFTMAX).weightQuant("int(bits=8, narrow=true, axis=channel)").build())
        .setInputType(InputType.convolutionalFlat(8, 8, 1)).build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    DataSet train = ExporterTest.randomImages(64, 7);
    for (int i = 0; i < 25; i++) {
      net.fit(train);
    }
    negateSomeGammas(net, 1);
    negateSomeGammas(net, 6);
    Exporter.Result r = Exporter.export(net, "bnn",
        Exporter.OutputQuant.covering(8, Exporter.maxAbsLogit(net, train.getFeatures())));
    ExportModel m = r.model();
    List<String> ops = m.manifest().layers().stream().map(LayerSpec::op).toList();
    assertEquals(List.of("conv2d", "max_pool", "flatten", "binary_dense", "dense"), ops);
    assertTrue(m.manifest().layers().get(0).output().isBinary());
    assertEquals("sign", m.manifest().layers().get(0).requant().kind());
    assertTrue(m.manifest().layers().get(3).output().isBinary());
    DataSet test = ExporterTest.randomImages(96, 8);
    Simulator.Report rep = simulate(net, test, r);
    for (Simulator.LayerAgreement l : rep.layers()) {
      // sign thresholds are exact in integers: only float rounding at |x| ~ 1e-7 could flip a code
      assertTrue(l.identicalFraction() >= 0.999, l.name() + " identical " + l.identicalFraction());
    }
    assertTrue(rep.top1Agreement() >= 0.97, "top-1 agreement " + rep.top1Agreement());
    assertTrue(rep.outputWithin1LsbFraction() >= 0.99, "output codes " + rep.outputWithin1LsbFraction());
  }

  /**
   * WAGE-style network: 2-bit weights on ±0.5, 8-bit activations on the 1/128 grid and constant power-of-two layer
   * scales 1/α folded into the activation ({@link io.qat4j.layers.train.ScaledActivation}). The exporter folds 1/α
   * into the weight scales, every requantization becomes a pure shift, and exact halves (frequent with power-of-two
   * scales) round to even as the fake-quant model does: without biases every code must be identical.
   */
  @Test
  void wageScaledNetworkIsReproducedExactly() {
    String w = "fixed(m=0, n=1, overflow=saturate_symmetric)";
    String a = "fixed(m=0, n=7, overflow=saturate_symmetric)";
    MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(5)
        .updater(new org.nd4j.linalg.learning.config.Sgd(0.05)).dataType(DataType.FLOAT).list()
        .layer(new QuantConv2D.Builder(3, 3).name("conv1").nOut(4).hasBias(false)
            .activation(new io.qat4j.layers.train.ScaledActivation(Activation.RELU.getActivationFunction(), 0.5))
            .weightQuant(w).outputQuant(a).build())
        .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name("pool1").kernelSize(2, 2)
            .stride(2, 2).build())
        .layer(new QuantDense.Builder().name("fc1").nOut(12).hasBias(false)
            .activation(new io.qat4j.layers.train.ScaledActivation(Activation.RELU.getActivationFunction(), 1.0 / 16))
            .weightQuant(w).outputQuant(a).build())
        .layer(new QuantOutput.Builder(LossFunctions.LossFunction.MSE).name("output").nOut(3).hasBias(false)
            .activation(new io.qat4j.layers.train.ScaledActivation(Activation.IDENTITY.getActivationFunction(),
                1.0 / 8))
            .weightQuant(w).build())
        .setInputType(InputType.convolutionalFlat(8, 8, 1)).build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    for (int i = 0; i < net.getnLayers(); i++) {
      INDArray p = net.getLayer(i).paramTable().get("W");
      if (p != null) {
        p.muli(4); // spread the initial weights over {-0.5, 0, 0.5}
      }
    }
    DataSet train = ExporterTest.randomImages(64, 9);
    for (int i = 0; i < 10; i++) {
      net.fit(train);
    }
    Exporter.Result r = Exporter.export(net, "wage",
        Exporter.OutputQuant.covering(8, Exporter.maxAbsLogit(net, train.getFeatures())));
    List<LayerSpec> layers = r.model().manifest().layers();
    LayerSpec conv = layers.get(0);
    LayerSpec fc = layers.stream().filter(l -> l.name().equals("fc1")).findFirst().orElseThrow();
    // conv1: r = (1/255)·0.5·0.5 / (1/128), not a power of two; fc1: r = (1/128)·0.5·(1/16) / (1/128) = 2^-5
    assertEquals(0.5 * 0.5, conv.weights().scale().get(0), 0, "1/α folded into the weight scale");
    assertEquals("shift", fc.requant().kind());
    assertEquals(List.of(5), fc.requant().shift().subList(0, 1));
    assertTrue(fc.requant().tiesToEven() && conv.requant().tiesToEven(), "ties to even, as the fake-quant sites");
    DataSet test = ExporterTest.randomImages(96, 10);
    Simulator.Report rep = simulate(net, test, r);
    for (Simulator.LayerAgreement l : rep.layers()) {
      assertEquals(1.0, l.identicalFraction(), l.name() + " identical");
    }
    assertEquals(1.0, rep.outputWithin1LsbFraction(), "output codes within 1 LSB");
    assertTrue(rep.top1Agreement() >= 0.98, "top-1 agreement " + rep.top1Agreement());
    // the logits the output is compared with include 1/α of the output layer
    INDArray logits = ExportNetwork.of(net).logits(test.getFeatures());
    INDArray expected = net.output(test.getFeatures(), false);
    assertEquals(0, expected.sub(logits.castTo(expected.dataType())).amaxNumber().doubleValue(), 1e-5);
  }
}
