package io.qat4j.layers.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qat4j.layers.convert.ConversionReport.Status;
import io.qat4j.layers.nn.FusedBatchNorm;
import io.qat4j.layers.nn.FusedBnParamInitializer;
import io.qat4j.layers.nn.QuantConvBN2D;
import io.qat4j.layers.nn.QuantDenseBN;
import io.qat4j.layers.nn.QuantSites;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
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
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Batch normalization folded by the converter into the conv / dense layer before it: the fused layers replace both,
 * take both layers' trained parameters (log10 standard deviation or variance), and compute what the float network
 * computed; normalizations that cannot be folded stay, with the reason in the report.
 */
class BatchNormFoldConversionTest {
  static final QatConverter.Options FOLD = QatConverter.Options.DEFAULTS.withFoldBatchNorm(true);
  static final QatConverter.Options FOLD_FLOAT = FOLD.withConvertFloatSites(true);
  static final QuantSites W8A8 = QuantSites.of("int(bits=8, signed=false, observer=ema)",
      "int(bits=8, narrow=true, axis=channel)", "float", "float");

  /** conv(identity) - BN(log std, decay 0.8, eps 1e-3) - relu - pool - conv(relu) - BN - dense - BN(variance) - out. */
  static MultiLayerConfiguration stack() {
    return new NeuralNetConfiguration.Builder().seed(5).dataType(DataType.FLOAT).updater(new Adam(1e-2))
        .weightInit(WeightInit.XAVIER).activation(Activation.IDENTITY).list()
        .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).convolutionMode(ConvolutionMode.Same).name("conv1").build())
        .layer(new BatchNormalization.Builder().decay(0.8).eps(1e-3).name("bn1").build())
        .layer(new ActivationLayer.Builder().activation(Activation.RELU).name("relu1").build())
        .layer(new SubsamplingLayer.Builder(2, 2).stride(2, 2).name("pool").build())
        .layer(new ConvolutionLayer.Builder(2, 2).nOut(5).activation(Activation.RELU).name("conv2").build())
        .layer(new BatchNormalization.Builder().name("bn2").build())
        .layer(new DenseLayer.Builder().nOut(6).hasBias(false).name("fc").build())
        .layer(new BatchNormalization.Builder().useLogStd(false).name("bn3").build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX)
            .name("out").build())
        .setInputType(InputType.convolutional(8, 8, 2)).build();
  }

  static DataSet data(int n, long seed) {
    Nd4j.getRandom().setSeed(seed);
    INDArray x = Nd4j.rand(DataType.FLOAT, n, 2, 8, 8).muli(2).addi(0.5);
    INDArray y = Nd4j.zeros(DataType.FLOAT, n, 3);
    for (int i = 0; i < n; i++) {
      y.putScalar(i, i % 3, 1);
    }
    return new DataSet(x, y);
  }

  @Test
  void stackFoldsTrainedStatisticsAndKeepsItsOutputs() {
    MultiLayerNetwork f = new MultiLayerNetwork(stack());
    f.init();
    for (int i = 0; i < 8; i++) {
      f.fit(data(16, i));
    }
    QatConverter.Result<MultiLayerNetwork> r = QatConverter.convert(f, QuantizationRule.uniform(QuantSites.none()),
        FOLD_FLOAT);
    QatConverter.Result<MultiLayerNetwork> scratch = QatConverter.convert(f, QuantizationRule.uniform(W8A8),
        FOLD.withBnStart(QatConverter.BnStart.BATCH_STATISTICS));
    assertFalse(((FusedBatchNorm) scratch.model().getLayerWiseConfigurations().getConf(0).getLayer()).isBnFrozen());
    MultiLayerNetwork q = r.model();
    MultiLayerConfiguration qc = q.getLayerWiseConfigurations();
    assertEquals(7, qc.getConfs().size());
    QuantConvBN2D c1 = assertInstanceOf(QuantConvBN2D.class, qc.getConf(0).getLayer());
    assertEquals("conv1", c1.getLayerName());
    assertEquals(0.8, c1.getDecay());
    assertEquals(1e-3, c1.getEps());
    assertTrue(c1.isBnFrozen(), "a trained network's statistics start frozen");
    assertInstanceOf(ActivationLayer.class, qc.getConf(1).getLayer());
    // conv2 has a ReLU before its normalization: not foldable
    assertEquals("bn2", qc.getConf(4).getLayer().getLayerName());
    assertInstanceOf(QuantDenseBN.class, qc.getConf(5).getLayer());
    assertFalse(((QuantDenseBN) qc.getConf(5).getLayer()).hasBias());

    INDArray x = data(10, 99).getFeatures();
    INDArray fo = f.output(x);
    INDArray qo = q.output(x);
    assertTrue(fo.equalsWithEps(qo, 1e-5), fo + "\n" + qo);
    // running variance from the log10 standard deviation (bn1) and from the variance itself (bn3)
    assertTrue(q.getLayer(0).getParam(FusedBnParamInitializer.VAR).minNumber().doubleValue() > 0);
    assertEquals(f.getLayer(7).getParam("var").reshape(6),
        q.getLayer(5).getParam(FusedBnParamInitializer.VAR).reshape(6));
    assertEquals(f.getLayer(0).getParam("W"), q.getLayer(0).getParam("W"));

    ConversionReport rep = r.report();
    assertEquals(Status.FOLDED, rep.entry("bn1").status());
    assertEquals("conv1", rep.entry("bn1").to());
    assertEquals(Status.KEPT, rep.entry("bn2").status());
    assertTrue(rep.entry("bn2").detail().contains("activation"), rep.entry("bn2").detail());
    assertEquals("BatchNormalization bn1: folded into conv1", rep.entry("bn1").toString());
    assertTrue(rep.entry("conv1").detail().contains("bn1 folded (decay 0.8, eps 0.001, statistics frozen)"),
        rep.entry("conv1").detail());

    // the twin trains (statistics frozen) and round-trips JSON
    q.fit(data(16, 1));
    assertTrue(Double.isFinite(q.score()));
    assertEquals(qc, MultiLayerConfiguration.fromJson(qc.toJson()));
  }

  @Test
  void quantizedFoldTrainsAndAConfigurationStartsWithBatchStatistics() {
    QatConverter.Result<MultiLayerConfiguration> r = QatConverter.convert(stack(), QuantizationRule.uniform(W8A8),
        FOLD);
    FusedBatchNorm c1 = (FusedBatchNorm) r.model().getConf(0).getLayer();
    assertFalse(c1.isBnFrozen());
    assertEquals(W8A8, ((QuantConvBN2D) c1).getQuantSites());
    assertTrue(((FusedBatchNorm) QatConverter.convert(stack(), QuantizationRule.uniform(W8A8),
        FOLD.withBnStart(QatConverter.BnStart.FROZEN)).model().getConf(0).getLayer()).isBnFrozen());
    MultiLayerNetwork q = new MultiLayerNetwork(r.model());
    q.init();
    double before = q.score(data(16, 3));
    for (int i = 0; i < 10; i++) {
      q.fit(data(16, 3));
    }
    assertTrue(q.score(data(16, 3)) < before);
    // off by default: the normalizations stay, and the report says why
    ConversionReport kept = QatConverter.convert(stack(), QuantizationRule.uniform(W8A8),
        QatConverter.Options.DEFAULTS).report();
    assertEquals("no quantized twin; folding batch normalization is off", kept.entry("bn1").detail());
    assertEquals(0, kept.count(Status.FOLDED));
  }

  /** in - conv(identity) - bn - relu - {conv2 - bn2 (folded), conv3 - bn3 (conv3 also feeds out2)} */
  static ComputationGraphConfiguration graph() {
    return new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.FLOAT).updater(new Adam(1e-2))
        .weightInit(WeightInit.XAVIER).activation(Activation.IDENTITY).graphBuilder().addInputs("in")
        .setInputTypes(InputType.convolutional(6, 6, 2))
        .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(4).convolutionMode(ConvolutionMode.Same).build(), "in")
        .addLayer("bn", new BatchNormalization.Builder().build(), "conv")
        .addLayer("relu", new ActivationLayer.Builder().activation(Activation.RELU).build(), "bn")
        .addLayer("conv2", new ConvolutionLayer.Builder(1, 1).nOut(4).build(), "relu")
        .addLayer("bn2", new BatchNormalization.Builder().build(), "conv2")
        .addLayer("conv3", new ConvolutionLayer.Builder(1, 1).nOut(4).build(), "relu")
        .addLayer("bn3", new BatchNormalization.Builder().build(), "conv3")
        .addVertex("merge", new org.deeplearning4j.nn.conf.graph.MergeVertex(), "bn2", "bn3", "conv3")
        .addLayer("pool", new org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer(), "merge")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
            .activation(Activation.SOFTMAX).build(), "pool")
        .setOutputs("out").build();
  }

  @Test
  void graphFoldsIntoTheLayerBeforeAndRewiresTheConsumers() {
    ComputationGraph f = new ComputationGraph(graph());
    f.init();
    for (int i = 0; i < 8; i++) {
      f.fit(data6(16, i));
    }
    QatConverter.Result<ComputationGraph> r = QatConverter.convert(f, QuantizationRule.uniform(QuantSites.none()),
        FOLD_FLOAT);
    ComputationGraphConfiguration qc = r.model().getConfiguration();
    assertNull(qc.getVertices().get("bn"));
    assertNull(qc.getVertices().get("bn2"));
    assertInstanceOf(QuantConvBN2D.class, ((LayerVertex) qc.getVertices().get("conv")).getLayerConf().getLayer());
    assertEquals(java.util.List.of("conv"), qc.getVertexInputs().get("relu"));
    assertEquals(java.util.List.of("conv2", "bn3", "conv3"), qc.getVertexInputs().get("merge"));
    assertEquals(Status.KEPT, r.report().entry("bn3").status());
    assertTrue(r.report().entry("bn3").detail().contains("also feeds"), r.report().entry("bn3").detail());

    INDArray x = data6(10, 50).getFeatures();
    INDArray fo = f.outputSingle(x);
    INDArray qo = r.model().outputSingle(x);
    assertTrue(fo.equalsWithEps(qo, 1e-5), fo + "\n" + qo);
    assertEquals(qc, ComputationGraphConfiguration.fromJson(qc.toJson()));
    r.model().fit(data6(16, 1));
    assertTrue(Double.isFinite(r.model().score()));
  }

  static DataSet data6(int n, long seed) {
    Nd4j.getRandom().setSeed(seed);
    INDArray x = Nd4j.rand(DataType.FLOAT, n, 2, 6, 6).muli(3).subi(1);
    INDArray y = Nd4j.zeros(DataType.FLOAT, n, 3);
    for (int i = 0; i < n; i++) {
      y.putScalar(i, i % 3, 1);
    }
    return new DataSet(x, y);
  }
}
