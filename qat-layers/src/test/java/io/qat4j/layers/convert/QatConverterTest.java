package io.qat4j.layers.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qat4j.layers.nn.QuantConv2D;
import io.qat4j.layers.nn.QuantDense;
import io.qat4j.layers.nn.QuantDepthwiseConv2D;
import io.qat4j.layers.nn.QuantLayer;
import io.qat4j.layers.nn.QuantOutput;
import io.qat4j.layers.nn.QuantParamInitializer;
import io.qat4j.layers.nn.QuantSites;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.constraint.MaxNormConstraint;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

/** Float parity, W8 closeness and trainability, and JSON round trips of converted networks. */
class QatConverterTest {

  static final QatConverter.Options FLOAT_TWINS = QatConverter.Options.DEFAULTS.withConvertFloatSites(true);
  static final QuantSites W8 = QuantSites.of("float", "int(bits=8, axis=channel)", "float", "float");

  /** A small CNN with every convertible layer kind, batch normalization and non-default settings. */
  static MultiLayerConfiguration floatConf() {
    return new NeuralNetConfiguration.Builder().seed(123).dataType(DataType.FLOAT).updater(new Adam(1e-2))
        .weightInit(WeightInit.XAVIER).l2(1e-4).list()
        .layer(new ConvolutionLayer.Builder(3, 3).nOut(6).stride(1, 1).dilation(1, 1)
            .convolutionMode(ConvolutionMode.Same).activation(Activation.RELU).biasInit(0.05).name("conv").build())
        .layer(new BatchNormalization.Builder().build())
        .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
        .layer(new DepthwiseConvolution2D.Builder(2, 2).depthMultiplier(2).activation(Activation.TANH)
            .biasUpdater(new Sgd(0.05)).build())
        .layer(new DenseLayer.Builder().nOut(12).activation(Activation.RELU).dropOut(new Dropout(0.9))
            .gradientNormalization(GradientNormalization.ClipElementWiseAbsoluteValue)
            .gradientNormalizationThreshold(0.7).constrainWeights(new MaxNormConstraint(3.0, 1)).name("fc").build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX)
            .hasBias(true).build())
        .setInputType(InputType.convolutional(8, 8, 2)).build();
  }

  static DataSet data(int n, long seed) {
    Nd4j.getRandom().setSeed(seed);
    INDArray x = Nd4j.rand(DataType.FLOAT, n, 2, 8, 8);
    INDArray y = Nd4j.zeros(DataType.FLOAT, n, 3);
    for (int i = 0; i < n; i++) {
      // a learnable task: the class is the quadrant-ish brightness pattern
      int c = i % 3;
      y.putScalar(i, c, 1.0);
      x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(i), org.nd4j.linalg.indexing.NDArrayIndex.point(c % 2))
          .addi(c * 0.5);
    }
    return new DataSet(x, y);
  }

  static MultiLayerNetwork trained() {
    MultiLayerNetwork net = new MultiLayerNetwork(floatConf());
    net.init();
    DataSet d = data(24, 1);
    for (int i = 0; i < 5; i++) {
      net.fit(d);
    }
    return net;
  }

  /** The layer's JSON without its class, sites and the DenseLayer-only layer-norm flag. */
  static ObjectNode settings(Layer l) {
    ObjectMapper m = NeuralNetConfiguration.mapper();
    ObjectNode n = m.valueToTree(l);
    n.remove("@class");
    n.remove("quantSites");
    n.remove("hasLayerNorm");
    return n;
  }

  @Test
  void floatSitesGiveTheSameNetwork() {
    MultiLayerNetwork f = trained();
    MultiLayerNetwork q = QatConverter.convert(f, QuantizationRule.uniform(QuantSites.none()), FLOAT_TWINS).model();

    Class<?>[] expected = {QuantConv2D.class, BatchNormalization.class, SubsamplingLayer.class,
        QuantDepthwiseConv2D.class, QuantDense.class, QuantOutput.class};
    MultiLayerConfiguration fc = f.getLayerWiseConfigurations();
    MultiLayerConfiguration qc = q.getLayerWiseConfigurations();
    for (int i = 0; i < expected.length; i++) {
      Layer ql = qc.getConf(i).getLayer();
      assertSame(expected[i], ql.getClass(), "layer " + i);
      assertEquals(settings(fc.getConf(i).getLayer()), settings(ql), "settings of layer " + i);
    }
    assertEquals(fc.getInputPreProcessors(), qc.getInputPreProcessors());
    assertEquals(fc.getBackpropType(), qc.getBackpropType());
    assertEquals(fc.getDataType(), qc.getDataType());
    assertEquals(fc.getConf(0).getSeed(), qc.getConf(0).getSeed());

    DataSet d = data(10, 2);
    INDArray fo = f.output(d.getFeatures());
    INDArray qo = q.output(d.getFeatures());
    assertTrue(fo.equalsWithEps(qo, 1e-6), fo + "\n" + qo);
    // the same trained parameters, BN statistics included
    for (int i = 0; i < expected.length; i++) {
      for (Map.Entry<String, INDArray> p : f.getLayer(i).paramTable().entrySet()) {
        assertEquals(p.getValue(), q.getLayer(i).getParam(p.getKey()), "layer " + i + " param " + p.getKey());
      }
    }
    // the public entry point keeps float layers as they are
    MultiLayerNetwork kept = QatConverter.quantize(f, QuantizationRule.uniform(QuantSites.none()));
    assertEquals(fc, kept.getLayerWiseConfigurations());
    assertTrue(fo.equalsWithEps(kept.output(d.getFeatures()), 1e-6));
  }

  @Test
  void w8StaysCloseTrainsAndKeepsTheUpdater() {
    MultiLayerNetwork f = trained();
    MultiLayerNetwork q = QatConverter.quantize(f, QuantizationRule.uniform(W8));
    MultiLayerConfiguration qc = q.getLayerWiseConfigurations();
    assertInstanceOf(QuantConv2D.class, qc.getConf(0).getLayer());
    assertEquals(W8, ((QuantLayer) qc.getConf(4).getLayer()).getQuantSites());
    assertInstanceOf(BatchNormalization.class, qc.getConf(1).getLayer());

    DataSet d = data(24, 1);
    INDArray fo = f.output(d.getFeatures());
    INDArray qo = q.output(d.getFeatures());
    double rel = fo.sub(qo).norm2Number().doubleValue() / fo.norm2Number().doubleValue();
    assertTrue(rel > 0 && rel < 0.02, "relative difference " + rel);

    // fresh updater state, the float configuration's updater
    assertEquals(0.0, q.getUpdater().getStateViewArray().amaxNumber().doubleValue());
    for (int i = 0; i < qc.getConfs().size(); i++) {
      Layer fl = f.getLayerWiseConfigurations().getConf(i).getLayer();
      Layer ql = qc.getConf(i).getLayer();
      if (fl instanceof org.deeplearning4j.nn.conf.layers.BaseLayer fb) {
        assertEquals(fb.getIUpdater(), ((org.deeplearning4j.nn.conf.layers.BaseLayer) ql).getIUpdater(), "layer " + i);
        assertEquals(fb.getBiasUpdater(), ((org.deeplearning4j.nn.conf.layers.BaseLayer) ql).getBiasUpdater());
      }
    }

    q.setInput(d.getFeatures());
    q.setLabels(d.getLabels());
    q.computeGradientAndScore();
    double before = q.score();
    for (int i = 0; i < 10; i++) {
      q.fit(d);
    }
    q.computeGradientAndScore();
    assertTrue(q.score() < before, "score " + before + " -> " + q.score());
  }

  @Test
  void observerStateStartsEmpty() {
    MultiLayerNetwork f = trained();
    QuantSites sites = W8.withOutput(io.qat4j.layers.quant.QuantSpec.parse("int(bits=8, signed=false, observer=ema)"));
    MultiLayerNetwork q = QatConverter.quantize(f, (i, name, layer) -> "fc".equals(name) ? sites : null);
    assertInstanceOf(QuantDense.class, q.getLayerWiseConfigurations().getConf(4).getLayer());
    assertInstanceOf(ConvolutionLayer.class, q.getLayerWiseConfigurations().getConf(0).getLayer());
    assertFalse(q.getLayerWiseConfigurations().getConf(0).getLayer() instanceof QuantLayer);
    INDArray state = q.getLayer(4).getParam(QuantParamInitializer.OUTPUT_STATE_KEY);
    MultiLayerNetwork fresh = new MultiLayerNetwork(q.getLayerWiseConfigurations().clone());
    fresh.init();
    assertEquals(fresh.getLayer(4).getParam(QuantParamInitializer.OUTPUT_STATE_KEY), state);
  }

  @Test
  void convertedConfigurationRoundTripsJson() {
    MultiLayerConfiguration qc = QatConverter.quantize(floatConf(), QuantizationRule.uniform(
        QuantSites.of("uint8", "int(bits=4, axis=channel, narrow=true)", "int(bits=16)", "float")));
    MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(qc.toJson());
    assertEquals(qc, back);
    assertEquals(QuantSites.of("uint8", "int(bits=4, axis=channel, narrow=true)", "int(bits=16)", "float"),
        ((QuantLayer) back.getConf(4).getLayer()).getQuantSites());
    // constraints, dropout and gradient normalization survived on the dense layer
    Layer fc = back.getConf(4).getLayer();
    assertEquals(1, fc.getConstraints().size());
    assertInstanceOf(MaxNormConstraint.class, fc.getConstraints().get(0));
    assertEquals(GradientNormalization.ClipElementWiseAbsoluteValue, ((QuantDense) fc).getGradientNormalization());
    assertEquals(new Dropout(0.9), fc.getIDropout());
    // the float configuration is untouched
    assertEquals(floatConf(), MultiLayerConfiguration.fromJson(floatConf().toJson()));
  }

  @Test
  void rejectsUnsupportedLayersAndLayerNorm() {
    DenseLayer ln = new DenseLayer.Builder().nIn(3).nOut(2).hasLayerNorm(true).build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QatConverter.convert(ln, W8));
    assertTrue(e.getMessage().contains("hasLayerNorm"), e.getMessage());
    MultiLayerConfiguration c = floatConf();
    e = assertThrows(IllegalArgumentException.class, () -> QatConverter.quantize(c, (i, n, l) -> W8));
    assertTrue(e.getMessage().contains("BatchNormalization"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> QatConverter.quantize(c, (QuantizationRule) null));
    // an output layer cannot get a quantized output site
    assertThrows(IllegalArgumentException.class, () -> QatConverter.quantize(c, (i, n, l) ->
        l instanceof OutputLayer ? QuantSites.of("float", "int8", "float", "int8") : null));
  }

  static ComputationGraphConfiguration graphConf() {
    return new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.FLOAT).updater(new Adam(1e-2))
        .weightInit(WeightInit.XAVIER).graphBuilder().addInputs("in")
        .addLayer("d1", new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.TANH).build(), "in")
        .addLayer("d2", new DenseLayer.Builder().nIn(8).nOut(8).activation(Activation.RELU).build(), "d1")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(3)
            .activation(Activation.SOFTMAX).build(), "d2")
        .setOutputs("out").build();
  }

  @Test
  void computationGraphConversion() {
    ComputationGraph f = new ComputationGraph(graphConf());
    f.init();
    Nd4j.getRandom().setSeed(3);
    INDArray x = Nd4j.randn(DataType.FLOAT, 16, 4);
    INDArray y = Nd4j.zeros(DataType.FLOAT, 16, 3);
    for (int i = 0; i < 16; i++) {
      y.putScalar(i, i % 3, 1);
    }
    for (int i = 0; i < 3; i++) {
      f.fit(new DataSet(x, y));
    }
    ComputationGraph same = QatConverter.convert(f, QuantizationRule.uniform(QuantSites.none()), FLOAT_TWINS).model();
    assertInstanceOf(QuantDense.class, ((LayerVertex) same.getConfiguration().getVertices().get("d2")).getLayerConf()
        .getLayer());
    assertTrue(f.outputSingle(x).equalsWithEps(same.outputSingle(x), 1e-6));

    ComputationGraph q = QatConverter.quantize(f, QuantizationRule.uniform(W8));
    INDArray fo = f.outputSingle(x);
    double rel = fo.sub(q.outputSingle(x)).norm2Number().doubleValue() / fo.norm2Number().doubleValue();
    assertTrue(rel < 0.02, "relative difference " + rel);
    ComputationGraphConfiguration qc = q.getConfiguration();
    assertEquals(qc, ComputationGraphConfiguration.fromJson(qc.toJson()));
    assertNotEquals(graphConf(), qc);
    double before = q.score(new DataSet(x, y));
    for (int i = 0; i < 10; i++) {
      q.fit(new DataSet(x, y));
    }
    assertTrue(q.score(new DataSet(x, y)) < before);
  }

  @Test
  void ruleSeesIndexAndName() {
    StringBuilder seen = new StringBuilder();
    QatConverter.quantize(floatConf(), (i, name, layer) -> {
      seen.append(i).append(':').append(name).append(' ');
      return null;
    });
    assertTrue(seen.toString().startsWith("0:conv 1:"), seen.toString());
    assertTrue(seen.toString().contains("4:fc"), seen.toString());
  }
}
