package io.qat4j.layers.quant.quantizers;

import static io.qat4j.layers.TestArrays.assertValues;
import static io.qat4j.layers.TestArrays.f32;
import static io.qat4j.layers.TestArrays.f64;
import static io.qat4j.layers.quant.quantizers.LearnedTestSupport.gradients;
import static io.qat4j.layers.quant.quantizers.LearnedTestSupport.initial;
import static io.qat4j.layers.quant.quantizers.LearnedTestSupport.params;
import static io.qat4j.layers.quant.quantizers.LearnedTestSupport.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qat4j.layers.quant.LearnedQuantizer;
import io.qat4j.layers.quant.LearnedQuantizer.Role;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizers;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class LsqQuantizerTest {
  private static final QuantContext T = QuantContext.perTensor();
  // v / s with s = 0.5: -4, -1.6, -0.6, 0.2, 0.5, 0.6, 1.2, 2.4
  private static final double[] V = {-2, -0.8, -0.3, 0.1, 0.25, 0.3, 0.6, 1.2};
  private static final double[] G = {1, 2, 3, 4, 5, 6, 7, 8};

  private static LearnedQuantizer lsq(String spec) {
    return Quantizers.learned(QuantSpec.parse(spec));
  }

  @Test
  void signedTwoBitGridIsMinusTwoToOneSteps() {
    // Qn = 2, Qp = 1: clip(v/s, -2, 1), round half to even (0.5 -> 0, -1.6 -> -2), times s
    QuantResult r = lsq("lsq(bits=2)").forward(f64(V), params(DataType.DOUBLE, "step", new double[] {0.5}), T,
        Role.WEIGHTS);
    assertValues(new double[] {-2, -2, -1, 0, 0, 1, 1, 1}, r.codes(), 0);
    assertValues(new double[] {-1, -1, -0.5, 0, 0, 0.5, 0.5, 0.5}, r.output(), 0);
    assertEquals(-1, r.lowerBound(0));
    assertEquals(0.5, r.upperBound(0));
  }

  @Test
  void gradientsOfValuesAndStep() {
    // dv = g inside -Qn < v/s < Qp; ds terms: -Qn = -2 (v/s = -4), round(t) - t inside
    // (-0.4, -0.4, -0.2, -0.5, 0.4), Qp = 1 (1.2, 2.4):
    // -2*1 - 0.4*2 - 0.4*3 - 0.2*4 - 0.5*5 + 0.4*6 + 1*7 + 1*8 = 10.1, times g = 1/sqrt(N Qp) = 1/sqrt(8)
    LearnedQuantizer q = lsq("lsq(bits=2)");
    Map<String, INDArray> p = params(DataType.DOUBLE, "step", new double[] {0.5});
    Map<String, INDArray> g = gradients(p);
    INDArray dv = q.backward(f64(V), f64(G), p, T, Role.WEIGHTS, g);
    assertValues(new double[] {0, 2, 3, 4, 5, 6, 0, 0}, dv, 0);
    assertEquals(10.1 / Math.sqrt(8), value(g, "step"), 1e-12);
  }

  @Test
  void activationGradientScaleCountsFeaturesPerExample() {
    // unsigned 2 bits: Qn = 0, Qp = 3; x [2 examples, 3 features], s = 1; N = 3 features per example
    // v/s = 0, 0.4, 3.5 | -1, 1.5, 2.2: codes 0, 0, 3 | 0, 2, 2
    // ds terms: 0 (v/s <= -Qn = 0), 0 - 0.4, Qp = 3 | 0, 2 - 1.5, 2 - 2.2
    LearnedQuantizer q = lsq("lsq(bits=2, signed=false)");
    Map<String, INDArray> p = params(DataType.DOUBLE, "step", new double[] {1});
    INDArray x = f64(0, 0.4, 3.5, -1, 1.5, 2.2).reshape(2, 3);
    QuantResult r = q.forward(x, p, T, Role.ACTIVATIONS);
    assertValues(new double[] {0, 0, 3, 0, 2, 2}, r.output(), 0);
    Map<String, INDArray> g = gradients(p);
    INDArray dx = q.backward(x, f64(1, 1, 1, 1, 1, 1).reshape(2, 3), p, T, Role.ACTIVATIONS, g);
    assertValues(new double[] {0, 1, 0, 0, 1, 1}, dx, 0);
    double sum = 0 - 0.4 + 3 + 0 + 0.5 - 0.2;
    assertEquals(sum / Math.sqrt(3 * 3), value(g, "step"), 1e-12);
  }

  @Test
  void perChannelStepsAndGradientScale() {
    // dense weights [nIn 2, nOut 2], channel axis 1, steps 1 and 0.25, 3 bits signed (Qn 4, Qp 3)
    LearnedQuantizer q = lsq("lsq(bits=3, axis=channel)");
    Map<String, INDArray> p = params(DataType.DOUBLE, "step", new double[] {1, 0.25});
    INDArray w = f64(0.7, 0.3, -5, -0.1).reshape(2, 2);
    QuantContext ctx = QuantContext.of(1);
    // channel 0: 0.7 -> 1, -5 -> -4 (clipped); channel 1: 0.3/0.25 = 1.2 -> 1 -> 0.25, -0.1/0.25 = -0.4 -> 0
    assertValues(new double[] {1, 0.25, -4, 0}, q.forward(w, p, ctx, Role.WEIGHTS).output(), 0);
    Map<String, INDArray> g = gradients(p);
    q.backward(w, f64(1, 1, 1, 1).reshape(2, 2), p, ctx, Role.WEIGHTS, g);
    // channel 0: (1 - 0.7) + (-Qn = -4); channel 1: (1 - 1.2) + (0 + 0.4); N = 2 per channel
    assertValues(new double[] {(0.3 - 4) / Math.sqrt(2 * 3), (-0.2 + 0.4) / Math.sqrt(2 * 3)}, g.get("step"), 1e-12);
  }

  @Test
  void stepStartsAtZeroAndIsInitializedFromTheFirstBatch() {
    // s = 2 mean|v| / sqrt(Qp): mean|V| = 5.55 / 8, Qp = 1
    LearnedQuantizer q = lsq("lsq(bits=2)");
    Map<String, INDArray> p = initial(q, Role.WEIGHTS, 1, DataType.DOUBLE);
    assertTrue(q.needsInit(p));
    q.init(f64(V), p, T, Role.WEIGHTS);
    assertEquals(2 * 5.55 / 8, value(p, "step"), 1e-12);
    assertFalse(q.needsInit(p));
    q.init(f64(1, 2, 3), p, T, Role.WEIGHTS);
    assertEquals(2 * 5.55 / 8, value(p, "step"), 1e-12, "an initialized step is left alone");

    // unsigned 4 bits, per channel of [2, 2] activations: Qp = 15
    LearnedQuantizer a = lsq("lsq(bits=4, signed=false, axis=channel)");
    Map<String, INDArray> pa = initial(a, Role.ACTIVATIONS, 2, DataType.FLOAT);
    a.init(f32(new long[] {2, 2}, 1, 4, 3, 8), pa, QuantContext.of(1), Role.ACTIVATIONS);
    assertValues(new double[] {2 * 2 / Math.sqrt(15), 2 * 6 / Math.sqrt(15)}, pa.get("step"), 1e-6);
  }

  @Test
  void floatInputsRoundLikeFloat32() {
    LearnedQuantizer q = lsq("lsq(bits=8)");
    Map<String, INDArray> p = params(DataType.FLOAT, "step", new double[] {0.1});
    QuantResult r = q.forward(f32(0.25, -12.8, 13), p, T, Role.WEIGHTS);
    float s = 0.1f;
    assertValues(new double[] {Math.rint(0.25f / s) * s, -128 * s, 127 * s}, r.output(), 0);
  }
}
