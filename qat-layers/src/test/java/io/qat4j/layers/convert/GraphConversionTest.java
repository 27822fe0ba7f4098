package io.qat4j.layers.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qat4j.layers.convert.ConversionReport.Status;
import io.qat4j.layers.nn.QuantAddVertex;
import io.qat4j.layers.nn.QuantSeparableConv2D;
import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.quant.QuantSpec;
import java.util.List;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.graph.ComputationGraph;
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
 * Separable convolutions and residual additions through the converter, and its report: a small residual graph
 * with a separable convolution, an addition followed by ReLU, a layer without twin and a global pooling.
 */
class GraphConversionTest {
  static final String UINT8 = "int(bits=8, signed=false, observer=ema)";
  static final QuantSites W8A8 = QuantSites.of(UINT8, "int(bits=8, narrow=true, axis=channel)", "float", "float");

  /** in - conv - lrn - {sep - add, conv shortcut} - relu - pool - out. */
  static ComputationGraphConfiguration graph() {
    return new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.FLOAT).updater(new Adam(1e-2))
        .weightInit(WeightInit.XAVIER).graphBuilder().addInputs("in").setInputTypes(InputType.convolutional(6, 6, 2))
        .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(4).convolutionMode(ConvolutionMode.Same)
            .activation(Activation.RELU).build(), "in")
        .addLayer("lrn", new LocalResponseNormalization.Builder().build(), "conv")
        .addLayer("sep", new SeparableConvolution2D.Builder(3, 3).nOut(4).depthMultiplier(2)
            .convolutionMode(ConvolutionMode.Same).activation(Activation.TANH).build(), "lrn")
        .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "sep", "lrn")
        .addLayer("relu", new ActivationLayer.Builder().activation(Activation.RELU).build(), "add")
        .addLayer("pool", new GlobalPoolingLayer(), "relu")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
            .activation(Activation.SOFTMAX).build(), "pool")
        .setOutputs("out").build();
  }

  static DataSet data(int n, long seed) {
    Nd4j.getRandom().setSeed(seed);
    INDArray x = Nd4j.rand(DataType.FLOAT, n, 2, 6, 6);
    INDArray y = Nd4j.zeros(DataType.FLOAT, n, 3);
    for (int i = 0; i < n; i++) {
      y.putScalar(i, i % 3, 1);
    }
    return new DataSet(x, y);
  }

  static ComputationGraph trained() {
    ComputationGraph f = new ComputationGraph(graph());
    f.init();
    for (int i = 0; i < 3; i++) {
      f.fit(data(8, i));
    }
    return f;
  }

  @Test
  void floatSitesAndAFloatAdditionComputeWhatTheFloatGraphComputes() {
    ComputationGraph f = trained();
    QatConverter.Result<ComputationGraph> r = QatConverter.convert(f, QuantizationRule.uniform(QuantSites.none()),
        QatConverter.Options.DEFAULTS.withConvertFloatSites(true).withAddSpec(QuantSpec.FLOAT));
    ComputationGraphConfiguration qc = r.model().getConfiguration();
    assertInstanceOf(QuantSeparableConv2D.class, ((LayerVertex) qc.getVertices().get("sep")).getLayerConf().getLayer());
    assertEquals(new QuantAddVertex(QuantSpec.FLOAT, QuantAddVertex.Act.RELU), qc.getVertices().get("add"));
    assertNull(qc.getVertices().get("relu"));
    assertEquals(List.of("add"), qc.getVertexInputs().get("pool"));
    for (String k : List.of("W", "pW", "b")) {
      assertEquals(f.getLayer("sep").getParam(k), r.model().getLayer("sep").getParam(k), k);
    }
    INDArray x = data(6, 9).getFeatures();
    assertTrue(f.outputSingle(x).equalsWithEps(r.model().outputSingle(x), 1e-6));
  }

  @Test
  void w8a8TwinWithQuantizedAdditionTrainsAndReports() {
    ComputationGraph f = trained();
    QatConverter.Result<ComputationGraph> r = QatConverter.convert(f, QuantizationRule.uniform(W8A8),
        QatConverter.Options.DEFAULTS.withAddSpec(UINT8));
    ComputationGraph q = r.model();
    QuantSeparableConv2D sep = (QuantSeparableConv2D) q.getLayer("sep").conf().getLayer();
    assertEquals(W8A8.weights(), sep.pointwiseSpec());
    assertNull(sep.getPointwiseQuant());
    assertEquals(new QuantAddVertex(QuantSpec.parse(UINT8), QuantAddVertex.Act.RELU),
        q.getConfiguration().getVertices().get("add"));
    INDArray x = data(8, 4).getFeatures();
    INDArray fo = f.outputSingle(x);
    q.fit(data(8, 4)); // sets the observers
    assertTrue(Double.isFinite(q.score()));
    INDArray state = q.getVertex("add").paramTable(false).get(QuantAddVertex.STATE_KEY);
    assertEquals(1.0, state.getDouble(0), "one observer update");
    INDArray qo = q.outputSingle(x);
    assertTrue(fo.sub(qo).norm2Number().doubleValue() / fo.norm2Number().doubleValue() < 0.1);

    ConversionReport rep = r.report();
    assertEquals(List.of("conv", "lrn", "sep", "add", "relu", "pool", "out"),
        rep.entries().stream().map(ConversionReport.Entry::name).toList());
    assertEquals("ConvolutionLayer conv -> QuantConv2D (input " + UINT8
        + ", weights int(bits=8, narrow=true, axis=channel))", rep.entry("conv").toString());
    assertEquals("LocalResponseNormalization lrn: kept float (no quantized twin)", rep.entry("lrn").toString());
    assertEquals("ElementWiseVertex(Add) add -> QuantAddVertex (output " + UINT8 + ", relu)",
        rep.entry("add").toString());
    assertEquals(Status.MERGED, rep.entry("relu").status());
    assertTrue(rep.entry("sep").detail().endsWith("point-wise weights as the weights"), rep.entry("sep").detail());
    assertEquals(4, rep.converted());
    assertEquals(2, rep.keptFloat());
    assertEquals(java.util.Map.of("GlobalPoolingLayer", 1L, "LocalResponseNormalization", 1L), rep.keptByClass());
    assertEquals("4 converted, 0 folded, 1 merged, 2 kept float", rep.summary());
    String table = rep.toTable();
    assertTrue(table.startsWith("| layer | was | became | sites / reason |\n|---|---|---|---|\n"), table);
    assertTrue(table.contains("| relu | ActivationLayer | merged into add |  |"), table);
    assertEquals(8, table.split("\n").length - 1);
  }

  @Test
  void additionsStayFloatByDefaultAndBadOptionsAreRefused() {
    QatConverter.Result<ComputationGraphConfiguration> r = QatConverter.convert(graph(),
        QuantizationRule.uniform(W8A8), QatConverter.Options.DEFAULTS);
    assertInstanceOf(ElementWiseVertex.class, r.model().getVertices().get("add"));
    assertEquals("quantizing additions is off", r.report().entry("add").detail());
    assertThrows(IllegalArgumentException.class,
        () -> QatConverter.Options.DEFAULTS.withAddSpec("int(bits=8, axis=channel)"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QatConverter.convert(graph(),
        (i, n, l) -> n.equals("lrn") ? W8A8 : null, QatConverter.Options.DEFAULTS));
    assertTrue(e.getMessage().contains("lrn") && e.getMessage().contains("allowed"), e.getMessage());
  }
}
