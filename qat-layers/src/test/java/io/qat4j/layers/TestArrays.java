package io.qat4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.qat4j.layers.quant.NdArrays;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Shared helpers for the quantizer tests. */
public final class TestArrays {
  private TestArrays() {
  }

  public static INDArray f32(double... v) {
    return Nd4j.create(v, new long[] {v.length}, DataType.DOUBLE).castTo(DataType.FLOAT);
  }

  public static INDArray f32(long[] shape, double... v) {
    return Nd4j.create(v, shape, DataType.DOUBLE).castTo(DataType.FLOAT);
  }

  public static INDArray f64(double... v) {
    return Nd4j.create(v, new long[] {v.length}, DataType.DOUBLE);
  }

  /** Element-wise equality within delta (0 for exact; -0.0 equals 0.0). */
  public static void assertValues(double[] expected, INDArray actual, double delta) {
    double[] a = NdArrays.read(actual);
    assertEquals(expected.length, a.length, "length");
    for (int i = 0; i < a.length; i++) {
      assertEquals(expected[i], a[i], delta, "element " + i + " of " + Arrays.toString(a));
    }
  }
}
