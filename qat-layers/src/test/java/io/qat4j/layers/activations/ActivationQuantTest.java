package io.qat4j.layers.activations;

import static io.qat4j.layers.TestArrays.assertValues;
import static io.qat4j.layers.TestArrays.f32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.QuantSpec;
import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Hand-computed forward and backward goldens, and ActivationQuant inside stock DL4J layers. */
class ActivationQuantTest {

  static Stream<Arguments> forwardGoldens() {
    return Stream.of(
        // relu6(4): grid step 6/15 = 0.4 over [0, 6]; 1.25 and 7.5 are ties (half even)
        Arguments.of(ActivationQuant.relu6(4), new double[] {-1, 0.3, 0.5, 2.9, 6.5, 3.0},
            new double[] {0, 0.4, 0.4, 2.8, 6, 3.2}),
        // hard tanh on [-1, 1], int(bits=3, narrow=true): symmetric, step 1/3; -1.5 rounds to -2
        Arguments.of(ActivationQuant.hardTanh("int(bits=3, narrow=true)"), new double[] {-2, -0.5, 0.1, 0.2, 0.9},
            new double[] {-1, -2.0 / 3, 0, 1.0 / 3, 1}),
        // sign(0) = +1
        Arguments.of(ActivationQuant.sign(), new double[] {-2, -0.3, 0, 0.5, 3}, new double[] {-1, -1, 1, 1, 1}),
        // dorefa_a(bits=2): round(3 clip(x, 0, 1)) / 3; 1.5 ties to 2
        Arguments.of(ActivationQuant.dorefa(2), new double[] {-1, 0.2, 0.5, 0.9, 2},
            new double[] {0, 1.0 / 3, 2.0 / 3, 1, 1}),
        // relu then uint2 on the batch's own range [0, 3]: scale 1, zero point 0; 0.5 ties to 0
        Arguments.of(ActivationQuant.relu("uint2"), new double[] {-1, 0.5, 1.0, 3.0}, new double[] {0, 0, 1, 3}),
        // float spec: just the base function
        Arguments.of(new ActivationQuant(ActivationQuant.Base.RELU6, QuantSpec.FLOAT), new double[] {-1, 2.5, 7},
            new double[] {0, 2.5, 6}));
  }

  @ParameterizedTest
  @MethodSource("forwardGoldens")
  void forwardGolden(ActivationQuant act, double[] x, double[] expected) {
    INDArray in = f32(x);
    INDArray out = act.getActivation(in, true);
    assertValues(expected, out, 1e-6);
    assertTrue(out == in, "IActivation contract: transform in place and return the input");
  }

  static Stream<Arguments> backwardGoldens() {
    return Stream.of(
        // relu6: base' = 1 on (0, 6); clipped STE passes [0, 6], which holds all of relu6(x)
        Arguments.of(ActivationQuant.relu6(4), new double[] {-1, 0.3, 6.5, 3}, new double[] {1, 2, 3, 4},
            new double[] {0, 2, 0, 4}),
        // sign: hard tanh STE, 1 for |x| <= 1
        Arguments.of(ActivationQuant.sign(), new double[] {-2, -0.3, 0, 0.5, 3}, new double[] {1, 2, 3, 4, 5},
            new double[] {0, 2, 3, 4, 0}),
        // dorefa: clipped STE, 1 on [0, 1]
        Arguments.of(ActivationQuant.dorefa(2), new double[] {-1, 0.2, 0.5, 1.0, 2}, new double[] {1, 1, 1, 1, 1},
            new double[] {0, 1, 1, 1, 0}),
        // relu then uint2 (batch range [0, 3], everything inside): base' only
        Arguments.of(ActivationQuant.relu("uint2"), new double[] {-1, 0.5, 1.0, 3.0}, new double[] {5, 6, 7, 8},
            new double[] {0, 6, 7, 8}),
        // hard tanh + int3 narrow: grid [-1, 1] holds all of hardtanh(x); base' = 1 for |x| <= 1
        Arguments.of(ActivationQuant.hardTanh("int(bits=3, narrow=true)"), new double[] {-2, -0.5, 0.1, 1.5},
            new double[] {1, 2, 3, 4}, new double[] {0, 2, 3, 0}));
  }

  @ParameterizedTest
  @MethodSource("backwardGoldens")
  void backwardGolden(ActivationQuant act, double[] x, double[] eps, double[] expected) {
    INDArray g = act.backprop(f32(x), f32(eps)).getFirst();
    assertValues(expected, g, 0);
  }

  @Test
  void rejectsObserverSpecsNullsAndBadBits() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ActivationQuant.relu("int(bits=4, signed=false, observer=ema)"));
    assertTrue(e.getMessage().contains("QuantActivation"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new ActivationQuant(null, QuantSpec.FLOAT));
    assertThrows(IllegalArgumentException.class, () -> new ActivationQuant(ActivationQuant.Base.RELU, null));
    assertThrows(IllegalArgumentException.class, () -> ActivationQuant.relu6(0));
  }

  @Test
  void equalsHashCodeToString() {
    assertEquals(ActivationQuant.relu6(4), new ActivationQuant(ActivationQuant.Base.RELU6, QuantSpec.parse("uint4")));
    assertEquals(ActivationQuant.relu6(4).hashCode(), ActivationQuant.relu6(4).hashCode());
    assertNotEquals(ActivationQuant.relu6(4), ActivationQuant.relu6(3));
    assertNotEquals(ActivationQuant.relu("uint4"), ActivationQuant.relu6(4));
    assertEquals("quant(relu6, uint4)", ActivationQuant.relu6(4).toString());
  }

  static MultiLayerConfiguration dense(IActivation hidden, DataType dt) {
    return new NeuralNetConfiguration.Builder().seed(42).dataType(dt).updater(new Sgd(0.1))
        .weightInit(WeightInit.XAVIER).list()
        .layer(new DenseLayer.Builder().nIn(5).nOut(8).activation(hidden).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(8).nOut(2).activation(Activation.IDENTITY)
            .build())
        .build();
  }

  static DataSet data(DataType dt) {
    Nd4j.getRandom().setSeed(7);
    return new DataSet(Nd4j.randn(dt, 6, 5).muli(3), Nd4j.randn(dt, 6, 2));
  }

  @Test
  void jsonRoundTripKeepsTheSpec() {
    MultiLayerConfiguration c = dense(ActivationQuant.relu6(4), DataType.FLOAT);
    String json = c.toJson();
    assertTrue(json.contains("\"uint4\"") && json.contains("RELU6") && json.contains(ActivationQuant.class.getName()),
        json);
    MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(json);
    assertEquals(c, back);
    IActivation a = ((DenseLayer) back.getConf(0).getLayer()).getActivationFn();
    assertEquals(ActivationQuant.relu6(4), a);
    // a different spec must make a different configuration (the spec is really in the JSON)
    assertNotEquals(back, MultiLayerConfiguration.fromJson(dense(ActivationQuant.relu6(3), DataType.FLOAT).toJson()));
  }

  @Test
  void denseWithRelu6QuantOutputsOnTheGridAndSurvivesModelSerializer(@TempDir Path tmp) throws Exception {
    MultiLayerNetwork net = new MultiLayerNetwork(dense(ActivationQuant.relu6(4), DataType.FLOAT));
    net.init();
    DataSet d = data(DataType.FLOAT);
    net.fit(d);
    List<INDArray> acts = net.feedForward(d.getFeatures(), false);
    double[] hidden = NdArrays.read(acts.get(1));
    boolean interior = false;
    for (double v : hidden) {
      double code = v / 0.4;
      assertEquals(Math.rint(code), code, 1e-4, "activation " + v + " is not on the 0.4 grid");
      assertTrue(v >= 0 && v <= 6 + 1e-6, "activation " + v + " outside [0, 6]");
      interior |= v > 0 && v < 6;
    }
    assertTrue(interior, "expected some activations strictly inside (0, 6)");

    File f = tmp.resolve("net.zip").toFile();
    ModelSerializer.writeModel(net, f, true);
    MultiLayerNetwork back = ModelSerializer.restoreMultiLayerNetwork(f, true);
    assertEquals(net.getLayerWiseConfigurations(), back.getLayerWiseConfigurations());
    assertEquals(net.output(d.getFeatures()), back.output(d.getFeatures()));
  }

  @Test
  void floatReluEqualsStockRelu() {
    for (DataType dt : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
      MultiLayerNetwork q = new MultiLayerNetwork(dense(new ActivationQuant(ActivationQuant.Base.RELU,
          QuantSpec.FLOAT), dt));
      q.init();
      MultiLayerNetwork f = new MultiLayerNetwork(dense(Activation.RELU.getActivationFunction(), dt));
      f.init();
      assertEquals(f.params(), q.params());
      DataSet d = data(dt);
      assertTrue(f.output(d.getFeatures()).equalsWithEps(q.output(d.getFeatures()), 1e-6));
      q.setInput(d.getFeatures());
      q.setLabels(d.getLabels());
      q.computeGradientAndScore();
      f.setInput(d.getFeatures());
      f.setLabels(d.getLabels());
      f.computeGradientAndScore();
      assertEquals(f.score(), q.score(), 1e-6);
      assertTrue(f.gradient().gradient().equalsWithEps(q.gradient().gradient(), 1e-6));
      for (int i = 0; i < 3; i++) {
        f.fit(d);
        q.fit(d);
      }
      assertTrue(f.params().equalsWithEps(q.params(), 1e-6));
    }
  }
}
