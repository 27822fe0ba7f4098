package io.qat4j.layers.quant.quantizers;

import static io.qat4j.layers.TestArrays.assertValues;
import static io.qat4j.layers.TestArrays.f64;
import static io.qat4j.layers.quant.quantizers.LearnedTestSupport.gradients;
import static io.qat4j.layers.quant.quantizers.LearnedTestSupport.initial;
import static io.qat4j.layers.quant.quantizers.LearnedTestSupport.params;
import static io.qat4j.layers.quant.quantizers.LearnedTestSupport.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qat4j.layers.quant.LearnedQuantizer;
import io.qat4j.layers.quant.LearnedQuantizer.Role;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizers;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class QilQuantizerTest {
  private static final QuantContext T = QuantContext.perTensor();
  // c = 0.5, d = 0.25: interval [0.25, 0.75], alpha = 0.5/d = 2, beta = -0.5 c/d + 0.5 = -0.5
  private static final double[] W = {0.1, -0.3, 0.5, -0.6, 0.7, 1.0, -2.0};
  private static final double[] G = {1, 2, 3, 4, 5, 6, 7};

  private static LearnedQuantizer qil(String spec) {
    return Quantizers.learned(QuantSpec.parse(spec));
  }

  private static Map<String, INDArray> weightParams(double gamma) {
    return params(DataType.DOUBLE, "c", new double[] {0.5}, "d", new double[] {0.25}, "gamma", new double[] {gamma});
  }

  @Test
  void weightTransformerPrunesClipsAndRaisesToGamma() {
    // u = 2|w| - 0.5 inside: 0.1 (|w| = 0.3), 0.5, 0.7, 0.9; w_hat = sign(w) u^2 = -0.01, 0.25, -0.49, 0.81
    // 3 bits: q_D = 3, w_q = round(3 w_hat) / 3: 0, 1/3, -1/3, 2/3; pruned 0.1 -> 0, clipped -> +-1
    QuantResult r = qil("qil(bits=3)").forward(f64(W), weightParams(2), T, Role.WEIGHTS);
    assertValues(new double[] {0, 0, 1, -1, 2, 3, -3}, r.codes(), 0);
    assertValues(new double[] {0, 0, 1.0 / 3, -1.0 / 3, 2.0 / 3, 1, -1}, r.output(), 1e-12);
    QuantResult t = qil("qil(bits=32)").forward(f64(W), weightParams(2), T, Role.WEIGHTS);
    assertValues(new double[] {0, -0.01, 0.25, -0.49, 0.81, 1, -1}, t.output(), 1e-12);
    assertNull(t.codes());
  }

  @Test
  void weightGradientsThroughTheTransformer() {
    // inside: k = gamma u^(gamma-1) = 2u; dw = g k alpha; dc = -g s k alpha;
    // dd = -g s k (|w| - c) / (2 d^2); dgamma = g s u^gamma ln u
    //   w = -0.3 (g 2): u 0.1, k 0.2: dw 0.8,  dc 0.8,   dd -0.64, dgamma -2(0.01 ln 0.1)
    //   w =  0.5 (g 3): u 0.5, k 1:   dw 6,    dc -6,    dd 0,     dgamma 3(0.25 ln 0.5)
    //   w = -0.6 (g 4): u 0.7, k 1.4: dw 11.2, dc 11.2,  dd 4.48,  dgamma -4(0.49 ln 0.7)
    //   w =  0.7 (g 5): u 0.9, k 1.8: dw 18,   dc -18,   dd -14.4, dgamma 5(0.81 ln 0.9)
    LearnedQuantizer q = qil("qil(bits=3)");
    Map<String, INDArray> p = weightParams(2);
    Map<String, INDArray> g = gradients(p);
    INDArray dw = q.backward(f64(W), f64(G), p, T, Role.WEIGHTS, g);
    assertValues(new double[] {0, 0.8, 6, 11.2, 18, 0, 0}, dw, 1e-9);
    assertEquals(-12, value(g, "c"), 1e-9);
    assertEquals(-10.56, value(g, "d"), 1e-9);
    double dgamma = -2 * 0.01 * Math.log(0.1) + 3 * 0.25 * Math.log(0.5) - 4 * 0.49 * Math.log(0.7)
        + 5 * 0.81 * Math.log(0.9);
    assertEquals(dgamma, value(g, "gamma"), 1e-9);
  }

  @Test
  void activationsMapTheIntervalOntoZeroOne() {
    // c = 1, d = 0.5: [0.5, 1.5], alpha 1, beta -0.5; 2 bits: q_D = 3
    // x_hat = 0, 0.1, 0.5, 0.8, 1 -> 3 x_hat = 0, 0.3, 1.5, 2.4, 3 -> 0, 0, 2, 2, 3
    LearnedQuantizer q = qil("qil(bits=2)");
    Map<String, INDArray> p = params(DataType.DOUBLE, "c", new double[] {1}, "d", new double[] {0.5});
    INDArray x = f64(0.2, 0.6, 1.0, 1.3, 2.0);
    assertValues(new double[] {0, 0, 2.0 / 3, 2.0 / 3, 1}, q.forward(x, p, T, Role.ACTIVATIONS).output(), 1e-12);
    // inside 0.6, 1.0, 1.3: dx = g alpha; dc = -sum g alpha = -9; dd = sum -g (x - c) / (2 d^2) = 1.6 + 0 - 2.4
    Map<String, INDArray> g = gradients(p);
    INDArray dx = q.backward(x, f64(1, 2, 3, 4, 5), p, T, Role.ACTIVATIONS, g);
    assertValues(new double[] {0, 2, 3, 4, 0}, dx, 1e-12);
    assertEquals(-9, value(g, "c"), 1e-12);
    assertEquals(-0.8, value(g, "d"), 1e-12);
  }

  @Test
  void parametersAndTheirInitializationFromData() {
    LearnedQuantizer q = qil("qil(bits=3)");
    assertEquals(List.of("c", "d", "gamma"), q.params(Role.WEIGHTS, 8).stream().map(LearnedQuantizer.Param::name)
        .toList());
    assertEquals(List.of("c", "d"), q.params(Role.ACTIVATIONS, 8).stream().map(LearnedQuantizer.Param::name)
        .toList());
    Map<String, INDArray> p = initial(q, Role.WEIGHTS, 8, DataType.DOUBLE);
    assertEquals(1, value(p, "gamma"));
    assertTrue(q.needsInit(p));
    // r = min(2 sqrt(q_D) mean|w|, max|w|) = min(2 sqrt(3) 5.2/7, 2) = 2: interval [0, 2]
    q.init(f64(W), p, T, Role.WEIGHTS);
    assertEquals(1, value(p, "c"));
    assertEquals(1, value(p, "d"));
    assertFalse(q.needsInit(p));
    Map<String, INDArray> a = initial(q, Role.ACTIVATIONS, 8, DataType.DOUBLE);
    q.init(f64(0, 3, 1, -7), a, T, Role.ACTIVATIONS);   // max x = 3 < 2 sqrt(7) 11/4
    assertEquals(1.5, value(a, "c"));
    assertEquals(1.5, value(a, "d"));
    // an outlier: 2 bits (q_D = 3), mean|x| = 11.5/6, r = 2 sqrt(3) 11.5/6 = 6.64 < max 10
    LearnedQuantizer q2 = qil("qil(bits=2)");
    Map<String, INDArray> b = initial(q2, Role.ACTIVATIONS, 8, DataType.DOUBLE);
    q2.init(f64(0, 0, 0, 0.5, 1, 10), b, T, Role.ACTIVATIONS);
    assertEquals(Math.sqrt(3) * 11.5 / 6, value(b, "c"), 1e-12);
    assertEquals(Math.sqrt(3) * 11.5 / 6, value(b, "d"), 1e-12);
    // no discretization: the whole range
    Map<String, INDArray> f = initial(qil("qil(bits=32)"), Role.ACTIVATIONS, 8, DataType.DOUBLE);
    qil("qil(bits=32)").init(f64(0, 0, 0, 0.5, 1, 10), f, T, Role.ACTIVATIONS);
    assertEquals(5, value(f, "d"));
  }
}
