package io.qat4j.layers.nn;

import static io.qat4j.layers.TestArrays.assertValues;
import static io.qat4j.layers.TestArrays.f32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qat4j.layers.nn.impl.QuantAddVertexImpl;
import io.qat4j.layers.observe.observers.EmaMinMaxObserver;
import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.ObserverSpec;
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
import org.deeplearning4j.util.ModelSerializer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.io.File;
import java.nio.file.Path;

/**
 * QuantAddVertex: float parity with ElementWiseVertex(Add), gradient checks, JSON and ModelSerializer round trips,
 * the observer state as a parameter, hand-computed goldens.
 */
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

  @ParameterizedTest
  @EnumSource(QuantAddVertex.Act.class)
  void gradientCheckInDoubleWithFloatSpec(QuantAddVertex.Act act) {
    DataType before = Nd4j.dataType();
    Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    try {
      ComputationGraph g = init(graph(new QuantAddVertex("float", act), DataType.DOUBLE, new NoOp()));
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
  void jsonRoundTrip() throws Exception {
    ComputationGraphConfiguration c = graph(new QuantAddVertex(UINT8_EMA, QuantAddVertex.Act.RELU), DataType.FLOAT,
        new Adam(1e-3));
    String json = c.toJson();
    assertTrue(json.contains(UINT8_EMA), json);
    ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(json);
    assertEquals(c, back);
    assertEquals(new QuantAddVertex(UINT8_EMA, QuantAddVertex.Act.RELU), back.getVertices().get("add"));
    assertNotEquals(back.getVertices().get("add"), new QuantAddVertex(UINT8_EMA));
    // a vertex saved before the activation existed reads back without one
    GraphVertex old = NeuralNetConfiguration.mapper().readValue(
        "{\"@class\":\"io.qat4j.layers.nn.QuantAddVertex\",\"spec\":\"int8\"}", GraphVertex.class);
    assertEquals(new QuantAddVertex("int8"), old);
  }

  /** A vertex of two inputs outside a graph, with its own observer state when the spec has an observer. */
  static QuantAddVertexImpl vertex(String spec, QuantAddVertex.Act act) {
    QuantAddVertex conf = new QuantAddVertex(spec, act);
    INDArray state = conf.stateSize() == 0 ? null : Nd4j.zeros(DataType.FLOAT, conf.stateSize());
    return new QuantAddVertexImpl(null, "add", 0,
        new VertexIndices[] {new VertexIndices(0, 0), new VertexIndices(1, 0)}, null, conf.getSpec(), act, state,
        DataType.FLOAT);
  }

  static INDArray[] step(QuantAddVertexImpl v, boolean training, INDArray a, INDArray b, INDArray eps) {
    LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
    v.setInput(0, a, mgr);
    v.setInput(1, b, mgr);
    INDArray y = v.doForward(training, mgr);
    if (eps == null) {
      return new INDArray[] {y};
    }
    v.setEpsilon(eps);
    INDArray[] g = v.doBackward(false, mgr).getSecond();
    return new INDArray[] {y, g[0], g[1]};
  }

  @Test
  void reluThenObservedOutputQuantizationInputsUntouched() {
    // uint4 affine, EMA c = 0.5; the inputs are added as they are (not quantized)
    QuantAddVertexImpl v = vertex("int(bits=4, signed=false, observer=ema(0.5))", QuantAddVertex.Act.RELU);
    EmaMinMaxObserver obs = new EmaMinMaxObserver(ObserverSpec.parse("ema(0.5)"));
    INDArray state = v.params();
    // batch 1: sum [0.72, -0.5, -0.25, 1.5], ReLU [0.72, 0, 0, 1.5]; first update: range [0, 1.5]
    // scale 1.5 / 15 = 0.1, zero point 0: codes [7, 0, 0, 15]
    INDArray[] r = step(v, true, f32(0.5, -1.0, 0.25, 1.0), f32(0.22, 0.5, -0.5, 0.5), f32(1, 2, 3, 4));
    assertValues(new double[] {0.7, 0, 0, 1.5}, r[0], 1e-6);
    assertEquals(1, obs.updates(state));
    // gradient: ReLU's derivative is 0 where the sum is <= 0; 1.5 sits on the range's edge, not outside it
    assertValues(new double[] {1, 0, 0, 4}, r[1], 0);
    assertValues(new double[] {1, 0, 0, 4}, r[2], 0);

    // batch 2: sum [2.5, 0.1, 0.3, -0.2], ReLU [2.5, 0.1, 0.3, 0]; EMA: min 0, max 1.5 + 0.5 (2.5 - 1.5) = 2
    // scale 2 / 15: codes [18.75 -> 15 (saturates), 0.75 -> 1, 2.25 -> 2, 0]
    INDArray a2 = f32(2.0, 0.1, 0.3, -0.2);
    INDArray b2 = f32(0.5, 0.0, 0.0, 0.0);
    r = step(v, true, a2, b2, f32(1, 1, 1, 1));
    assertValues(new double[] {2.0, 2 / 15.0, 4 / 15.0, 0}, r[0], 1e-6);
    assertEquals(2.0, obs.max(state).getDouble(0), 1e-7);
    // clipped estimator: 0 where the output saturated; ReLU: 0 where the sum is negative
    assertValues(new double[] {0, 1, 1, 0}, r[1], 0);

    // inference reads the observed range and leaves the state alone
    INDArray before = state.dup();
    assertValues(new double[] {2.0, 2 / 15.0, 4 / 15.0, 0}, step(v, false, a2, b2, null)[0], 1e-6);
    assertEquals(before, state);
  }

  @Test
  void dynamicFixedPointQuantizesTheSum() {
    // sum [1.51, 0.1, -0.1]: max |s| = 1.51 -> m = 1, n = 8 - 1 - 1 = 6, step 1/64
    // 1.51 * 64 = 96.64 -> 97; 0.1 * 64 = 6.4 -> 6; -6.4 -> -6
    QuantAddVertexImpl v = vertex("fixed(bits=8, dynamic=true)", QuantAddVertex.Act.IDENTITY);
    assertEquals(null, v.params());
    INDArray y = step(v, true, f32(0.01, 0.1, -0.3), f32(1.5, 0.0, 0.2), null)[0];
    assertValues(new double[] {97 / 64.0, 6 / 64.0, -6 / 64.0}, y, 1e-7);
    for (double o : NdArrays.read(y)) {
      assertEquals(Math.rint(o * 64), o * 64, 1e-4);
    }
  }

  @Test
  void rejectsSpecsWithoutOneGrid() {
    assertThrows(IllegalArgumentException.class, () -> new QuantAddVertex("binary"));
    assertThrows(IllegalArgumentException.class, () -> new QuantAddVertex("int(bits=8, axis=channel)"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new QuantAddVertex("pact(bits=4)"));
    assertTrue(e.getMessage().contains("allowed"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new QuantAddVertex((QuantSpec) null));
    assertThrows(IllegalArgumentException.class, () -> new QuantAddVertex("int8", null));
    assertEquals(3, new QuantAddVertex("int(bits=8, observer=ema)").numParams(true));
    assertEquals(0, new QuantAddVertex("int8").numParams(true));
  }

  static final String UINT8_EMA = "int(bits=8, signed=false, observer=ema)";

  @Test
  void observerStateIsAParameterNeverTrainedAndSavedWithTheModel(@TempDir Path dir) throws Exception {
    ComputationGraph g = init(graph(new QuantAddVertex(UINT8_EMA, QuantAddVertex.Act.RELU), DataType.FLOAT,
        new Adam(1e-2)));
    long layers = 0;
    for (org.deeplearning4j.nn.api.Layer l : g.getLayers()) {
      layers += l.numParams();
    }
    assertEquals(layers + 3, g.params().length());
    INDArray state = g.getVertex("add").paramTable(false).get(QuantAddVertex.STATE_KEY);
    assertEquals(0.0, state.sumNumber().doubleValue());
    MultiDataSet d = data(DataType.FLOAT, 16);
    for (int i = 0; i < 3; i++) {
      g.fit(d);
    }
    EmaMinMaxObserver obs = new EmaMinMaxObserver(ObserverSpec.parse("ema"));
    // one observer update per training forward pass; the no-op updater left the state alone
    assertEquals(3, obs.updates(state));
    assertEquals(0.0, obs.min(state).getDouble(0));
    assertTrue(obs.max(state).getDouble(0) > 0);
    INDArray out = g.outputSingle(d.getFeatures(0));

    File f = dir.resolve("g.zip").toFile();
    ModelSerializer.writeModel(g, f, true);
    ComputationGraph back = ModelSerializer.restoreComputationGraph(f, true);
    assertEquals(g.getConfiguration(), back.getConfiguration());
    assertEquals(state, back.getVertex("add").paramTable(false).get(QuantAddVertex.STATE_KEY));
    assertEquals(out, back.outputSingle(d.getFeatures(0)));
    back.fit(d);
    assertEquals(4, obs.updates(back.getVertex("add").paramTable(false).get(QuantAddVertex.STATE_KEY)));
  }

  @Test
  void quantizedGraphTrains() {
    ComputationGraph q = init(graph(new QuantAddVertex("int(bits=8, observer=ema)"), DataType.FLOAT,
        new Adam(1e-2)));
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
