package io.qat4j.layers.nn;

import static io.qat4j.layers.TestArrays.assertValues;
import static io.qat4j.layers.TestArrays.f32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qat4j.layers.nn.impl.QuantAddVertexImpl;
import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.QuantSpec;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.VertexIndices;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** QuantAddVertex: float parity with ElementWiseVertex(Add), gradient check, JSON, int goldens. */
class QuantAddVertexTest {

  /** in -> d1 -> d2, in -> d3; add(d2, d3) -> out. */
  static ComputationGraphConfiguration graph(GraphVertex add, DataType dt, IUpdater updater) {
    return new NeuralNetConfiguration.Builder().seed(11).dataType(dt).updater(updater).weightInit(WeightInit.XAVIER)
        .graphBuilder().addInputs("in").setInputTypes(InputType.feedForward(4))
        .addLayer("d1", new DenseLayer.Builder().nOut(6).activation(Activation.TANH).build(), "in")
        .addLayer("d2", new DenseLayer.Builder().nOut(5).activation(Activation.TANH).build(), "d1")
        .addLayer("d3", new DenseLayer.Builder().nOut(5).activation(Activation.SIGMOID).build(), "in")
        .addVertex("add", add, "d2", "d3")
        .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
            .activation(Activation.SOFTMAX).build(), "add")
        .setOutputs("out").build();
  }

  static ComputationGraph init(ComputationGraphConfiguration c) {
    ComputationGraph g = new ComputationGraph(c);
    g.init();
    return g;
  }

  static MultiDataSet data(DataType dt, int n) {
    Nd4j.getRandom().setSeed(5);
    INDArray x = Nd4j.randn(dt, n, 4);
    INDArray y = Nd4j.zeros(dt, n, 3);
    for (int i = 0; i < n; i++) {
      y.putScalar(i, i % 3, 1);
    }
    return new MultiDataSet(x, y);
  }

  @Test
  void floatSpecEqualsElementWiseAdd() {
    ComputationGraph ref = init(graph(new ElementWiseVertex(ElementWiseVertex.Op.Add), DataType.FLOAT, new Adam(1e-2)));
    ComputationGraph q = init(graph(new QuantAddVertex("float"), DataType.FLOAT, new Adam(1e-2)));
    assertEquals(ref.params(), q.params());
    MultiDataSet d = data(DataType.FLOAT, 8);
    assertEquals(ref.outputSingle(d.getFeatures(0)), q.outputSingle(d.getFeatures(0)));
    ref.setInputs(d.getFeatures());
    ref.setLabels(d.getLabels());
    ref.computeGradientAndScore();
    q.setInputs(d.getFeatures());
    q.setLabels(d.getLabels());
    q.computeGradientAndScore();
    assertEquals(ref.score(), q.score());
    assertEquals(ref.gradient().gradient(), q.gradient().gradient());
    for (int i = 0; i < 3; i++) {
      ref.fit(d);
      q.fit(d);
    }
    assertEquals(ref.params(), q.params());
  }

  @Test
  void gradientCheckInDoubleWithFloatSpec() {
    DataType before = Nd4j.dataType();
    Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    try {
      ComputationGraph g = init(graph(new QuantAddVertex("float"), DataType.DOUBLE, new NoOp()));
      MultiDataSet d = data(DataType.DOUBLE, 3);
      boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(g)
          .inputs(d.getFeatures()).labels(d.getLabels()).epsilon(1e-6).maxRelError(1e-3).minAbsoluteError(1e-8)
          .print(GradientCheckUtil.PrintMode.FAILURES_ONLY).exitOnFirstError(false));
      assertTrue(ok, "DL4J gradient check");
    } finally {
      Nd4j.setDefaultDataTypes(before, before);
    }
  }

  @Test
  void jsonRoundTrip() {
    ComputationGraphConfiguration c = graph(new QuantAddVertex("fixed(bits=8, dynamic=true)"), DataType.FLOAT,
        new Adam(1e-3));
    String json = c.toJson();
    assertTrue(json.contains("fixed(bits=8, dynamic=true)"), json);
    ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(json);
    assertEquals(c, back);
    assertEquals(new QuantAddVertex("fixed(bits=8, dynamic=true)"), back.getVertices().get("add"));
    assertNotEquals(back.getVertices().get("add"), new QuantAddVertex("int8"));
  }

  static QuantAddVertexImpl vertex(String spec) {
    return new QuantAddVertexImpl(null, "add", 0,
        new VertexIndices[] {new VertexIndices(0, 0), new VertexIndices(1, 0)}, null, QuantSpec.parse(spec),
        DataType.FLOAT);
  }

  @Test
  void intGoldenBothBranchesOnOneGridAndSaturatingSum() {
    // union range [-0.62, 1.4]; int(bits=4, narrow=true): symmetric, scale = 1.4 / 7 = 0.2
    // a codes [1, 3, -3, 2], b codes [7, -1, 4, 6]; sums [8, 2, 1, 8] saturate to [7, 2, 1, 7]
    QuantAddVertexImpl v = vertex("int(bits=4, narrow=true)");
    LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
    v.setInput(0, f32(0.12, 0.52, -0.62, 0.33), mgr);
    v.setInput(1, f32(1.4, -0.26, 0.86, 1.26), mgr);
    INDArray y = v.doForward(true, mgr);
    assertValues(new double[] {1.4, 0.4, 0.2, 1.4}, y, 1e-6);
    // gradient: zero where the sum saturated (clipped STE), passed to both inputs
    v.setEpsilon(f32(1, 2, 3, 4));
    INDArray[] g = v.doBackward(false, mgr).getSecond();
    assertValues(new double[] {0, 2, 3, 0}, g[0], 0);
    assertValues(new double[] {0, 2, 3, 0}, g[1], 0);
  }

  @Test
  void dynamicFixedPointUsesOneCommonPowerOfTwo() {
    // max |x| over both inputs = 1.5 -> m = 1, n = 8 - 1 - 1 = 6, step 1/64 for both branches
    QuantAddVertexImpl v = vertex("fixed(bits=8, dynamic=true)");
    LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
    v.setInput(0, f32(0.01, 0.1, -0.3), mgr);
    v.setInput(1, f32(1.5, 0.0, 0.2), mgr);
    INDArray y = v.doForward(true, mgr);
    double[] out = NdArrays.read(y);
    // 0.01*64 = 0.64 -> 1, 1.5*64 = 96 -> sum 97/64; 0.1*64 = 6.4 -> 6; -0.3*64 = -19.2 -> -19, 0.2*64 = 12.8 -> 13
    assertValues(new double[] {97 / 64.0, 6 / 64.0, -6 / 64.0}, y, 1e-7);
    for (double o : out) {
      assertEquals(Math.rint(o * 64), o * 64, 1e-4);
    }
  }

  @Test
  void rejectsSpecsWithoutACommonGrid() {
    assertThrows(IllegalArgumentException.class, () -> new QuantAddVertex("binary"));
    assertThrows(IllegalArgumentException.class, () -> new QuantAddVertex("int(bits=8, axis=channel)"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new QuantAddVertex("int(bits=8, observer=ema)"));
    assertTrue(e.getMessage().contains("observer"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new QuantAddVertex((QuantSpec) null));
  }

  @Test
  void quantizedGraphTrains() {
    ComputationGraph q = init(graph(new QuantAddVertex("int8"), DataType.FLOAT, new Adam(1e-2)));
    MultiDataSet d = data(DataType.FLOAT, 16);
    double before = q.score(d);
    for (int i = 0; i < 20; i++) {
      q.fit(d);
    }
    assertTrue(q.score(d) < before, before + " -> " + q.score(d));
    INDArray add = q.feedForward(d.getFeatures(0), false).get("add");
    double[] v = NdArrays.read(add);
    // int8 symmetric: at most 256 distinct values
    assertTrue(java.util.Arrays.stream(v).distinct().count() <= 256);
  }
}
