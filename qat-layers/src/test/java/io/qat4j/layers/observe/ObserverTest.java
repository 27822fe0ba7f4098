package io.qat4j.layers.observe;

import static io.qat4j.layers.TestArrays.assertValues;
import static io.qat4j.layers.TestArrays.f32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qat4j.layers.observe.observers.PercentileObserver;
import io.qat4j.layers.quant.ObserverSpec;
import io.qat4j.layers.quant.QuantSpec;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ObserverTest {

  @Test
  void emaPerChannelFormulaAndFreeze() {
    Observer obs = Observers.of(QuantSpec.parse("int(bits=8, observer=ema(0.5, freeze=2))").observer());
    assertEquals(5, obs.stateSize(2));
    INDArray state = Nd4j.zeros(DataType.DOUBLE, 5);
    obs.update(state, f32(new long[] {2, 2}, 1, -2, 3, 4), 1);
    assertValues(new double[] {1, -2}, obs.min(state), 0);
    assertValues(new double[] {3, 4}, obs.max(state), 0);
    obs.update(state, f32(new long[] {2, 2}, 0, 10, 2, -6), 1);
    // min0 = 1 + .5 (0 - 1) = .5; max0 = 3 + .5 (2 - 3) = 2.5; min1 = -2 + .5 (-6 + 2) = -4; max1 = 4 + .5 * 6 = 7
    assertValues(new double[] {0.5, -4}, obs.min(state), 0);
    assertValues(new double[] {2.5, 7}, obs.max(state), 0);
    assertEquals(2, obs.updates(state));
    assertTrue(obs.frozen(state));
    obs.update(state, f32(new long[] {2, 2}, -100, -100, 100, 100), 1);
    assertValues(new double[] {0.5, -4}, obs.min(state), 0);
    assertEquals(2, obs.updates(state));
  }

  @Test
  void emaDefaultConstant() {
    Observer obs = Observers.of(ObserverSpec.parse("ema"));
    INDArray state = Nd4j.zeros(DataType.DOUBLE, 3);
    obs.update(state, f32(0, 1), -1);
    obs.update(state, f32(-1, 2), -1);
    assertEquals(-0.01, obs.min(state).getDouble(0), 1e-15);
    assertEquals(1.01, obs.max(state).getDouble(0), 1e-15);
  }

  @Test
  void minMaxPerTensorAndPerChannel() {
    Observer obs = Observers.of(ObserverSpec.minMax(0));
    INDArray s = Nd4j.zeros(DataType.FLOAT, 3);
    obs.update(s, f32(0.5, 2), -1);
    obs.update(s, f32(-1, 1), -1);
    assertValues(new double[] {-1}, obs.min(s), 0);
    assertValues(new double[] {2}, obs.max(s), 0);
    assertFalse(obs.frozen(s));

    INDArray c = Nd4j.zeros(DataType.FLOAT, obs.stateSize(3));
    obs.update(c, f32(new long[] {3, 2}, 1, 2, 3, 4, 5, 6), 0);
    assertValues(new double[] {1, 3, 5}, obs.min(c), 0);
    assertValues(new double[] {2, 4, 6}, obs.max(c), 0);
  }

  @Test
  void percentile() {
    double[] v = new double[101];
    for (int i = 0; i <= 100; i++) {
      v[i] = i - 50;
    }
    Observer both = Observers.of(ObserverSpec.parse("percentile(99, abs=false)"));
    INDArray s = Nd4j.zeros(DataType.DOUBLE, 3);
    both.update(s, f32(v), -1);
    assertEquals(-49, s.getDouble(1), 1e-9);
    assertEquals(49, s.getDouble(2), 1e-9);

    Observer abs = Observers.of(ObserverSpec.parse("percentile(90, c=0.5)"));
    INDArray a = Nd4j.zeros(DataType.DOUBLE, 3);
    abs.update(a, f32(v), -1);   // |x| = 0..50 twice (0 once): 90th percentile of 101 values = 45
    assertEquals(45, abs.max(a).getDouble(0), 1e-9);
    assertEquals(-45, abs.min(a).getDouble(0), 1e-9);
    abs.update(a, f32(1, -1, 1), -1);  // batch |x| percentile = 1 -> 45 + .5 (1 - 45) = 23
    assertEquals(23, abs.max(a).getDouble(0), 1e-9);
    assertEquals(2.5, PercentileObserver.percentile(new double[] {1, 2, 3, 4}, 50), 1e-12);
  }

  @Test
  void badStateAndAxisAreRejected() {
    Observer obs = Observers.of(ObserverSpec.minMax(0));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> obs.update(Nd4j.zeros(DataType.FLOAT, 3), f32(new long[] {2, 2}, 1, 2, 3, 4), 1));
    assertTrue(e.getMessage().contains("need 5"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> obs.update(Nd4j.zeros(DataType.FLOAT, 3), f32(1, 2), 3));
    assertThrows(IllegalArgumentException.class,
        () -> obs.update(Nd4j.zeros(DataType.FLOAT, 3), f32(1, Double.NaN), -1));
    assertThrows(IllegalArgumentException.class, () -> Observers.of(ObserverSpec.NONE));
  }

  @Test
  void observerSpecText() {
    assertEquals("ema(0.05, freeze=10)", ObserverSpec.parse("ema(c=0.05, freeze=10)").toString());
    assertEquals("percentile(c=0.1)", ObserverSpec.parse("percentile(c=0.1)").toString());
    assertEquals("minmax", ObserverSpec.parse("minmax").toString());
  }
}
