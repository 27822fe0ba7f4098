package io.qat4j.layers.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.qat4j.layers.observe.Observer;
import io.qat4j.layers.observe.Observers;
import io.qat4j.layers.quant.quantizers.UniformQuantizer;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The native (ND4J) paths give the same bits as the Java reference loops: forward outputs, codes,
 * scales, zero points and bounds, estimator gradients and observer states, on random data salted
 * with exact half steps, signed zeros, subnormals, huge values and exact bounds, for C-order,
 * F-order and offset views.
 */
class VectorizedParityTest {
  private static final String[] SPECS = {
    "int(bits=4, signed=false)", "int8", "uint8", "int(bits=4, narrow=true, axis=channel)",
    "int(bits=8, axis=channel)", "int(bits=4, signed=false, axis=channel)", "int(bits=2)",
    "int(bits=8, overflow=saturate_symmetric)", "int(bits=8, symmetric=false)", "int(bits=16, signed=false)",
    "int(bits=3, symmetric=true, signed=false)", "int(bits=4, ste=identity)", "fixed(m=3, n=4)",
    "fixed(bits=8, dynamic=true)", "fixed(bits=6, dynamic=true, axis=channel)",
  };

  @AfterEach
  void restore() {
    NdOps.setVectorized(true);
  }

  private static float[] bits(INDArray a) {
    return a.dup('c').data().asFloat();
  }

  private static void assertSameBits(INDArray expected, INDArray actual, String what) {
    if (expected == null) {
      assertEquals(null, actual, what);
      return;
    }
    assertNotNull(actual, what);
    assertEquals(expected.dataType(), actual.dataType(), what + " type");
    assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
    float[] e = bits(expected);
    float[] a = bits(actual);
    for (int i = 0; i < e.length; i++) {
      if (Float.floatToRawIntBits(e[i]) != Float.floatToRawIntBits(a[i])) {
        throw new AssertionError(what + ": element " + i + " expected " + e[i] + " got " + a[i]);
      }
    }
  }

  private static <T> T[] both(Supplier<T> f, T[] into) {
    NdOps.setVectorized(false);
    into[0] = f.get();
    NdOps.setVectorized(true);
    into[1] = f.get();
    return into;
  }

  /** Random values with special cases mixed in. */
  private static float[] data(Random rnd, int n, float step) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      double r = rnd.nextDouble();
      if (r < 0.05) {
        v[i] = (rnd.nextInt(40) - 20 + 0.5f) * step;
      } else if (r < 0.08) {
        v[i] = rnd.nextBoolean() ? 0f : -0f;
      } else if (r < 0.09) {
        v[i] = (rnd.nextBoolean() ? 1 : -1) * Float.MIN_VALUE * rnd.nextInt(1000);
      } else if (r < 0.095) {
        v[i] = (rnd.nextBoolean() ? 1 : -1) * 1e30f;
      } else if (r < 0.10) {
        v[i] = (rnd.nextInt(20) - 10) * step;
      } else {
        v[i] = (float) (rnd.nextGaussian() * 2 + (r < 0.5 ? 1 : 0));
      }
    }
    return v;
  }

  /** Arrays of the shape in various memory layouts: C order, F order and a view into a larger array. */
  private static INDArray[] layouts(float[] v, long[] shape) {
    INDArray c = Nd4j.create(v, shape, 'c');
    INDArray f = c.dup('f');
    long[] big = shape.clone();
    big[0] += 2;
    INDArray host = Nd4j.rand(DataType.FLOAT, big);
    INDArray view = host.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 1 + shape[0]));
    view.assign(c);
    return new INDArray[] {c, f, view};
  }

  private static final long[][] SHAPES = {{64, 3, 6, 6}, {30, 20}, {5, 4, 3, 3}, {17}, {1, 1}};

  @Test
  void quantizerForwardAndBackwardMatchTheJavaLoops() {
    Random rnd = new Random(7);
    for (String text : SPECS) {
      Quantizer q = Quantizers.of(text);
      for (long[] shape : SHAPES) {
        int n = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        int axis = shape.length == 1 ? 0 : (shape[0] == 5 ? 0 : 1);
        INDArray[] xs = layouts(data(rnd, n, 0.25f), shape);
        INDArray[] grads = layouts(data(rnd, n, 1f), shape);
        for (int li = 0; li < xs.length; li++) {
          INDArray x = xs[li];
          INDArray gradOut = grads[(li + 1) % grads.length];
          for (int withRange = 0; withRange < 2; withRange++) {
            QuantContext ctx = QuantContext.of(axis);
            if (withRange == 1) {
              int groups = q.spec().axis() == QuantSpec.AXIS_TENSOR ? 1 : (int) shape[axis];
              float[] lo = new float[groups];
              float[] hi = new float[groups];
              for (int g = 0; g < groups; g++) {
                lo[g] = g % 3 == 0 ? 0f : (float) -rnd.nextDouble() * 3;
                hi[g] = g % 4 == 1 ? -0f : (float) rnd.nextDouble() * 3;
                if (g % 4 == 1 && lo[g] == 0f) {
                  lo[g] = -1f;
                }
              }
              ctx = ctx.withRange(Nd4j.create(lo, new long[] {groups}, 'c'), Nd4j.create(hi, new long[] {groups}, 'c'));
            }
            String what = text + " " + Arrays.toString(shape) + " order " + x.ordering() + " view " + x.isView()
                + " range " + withRange;
            QuantContext c = ctx;
            QuantResult[] r = both(() -> q.forward(x, c), new QuantResult[2]);
            assertSameBits(r[0].output(), r[1].output(), what + " output");
            assertSameBits(r[0].codes(), r[1].codes(), what + " codes");
            assertSameBits(r[0].scale(), r[1].scale(), what + " scale");
            assertSameBits(r[0].zeroPoint(), r[1].zeroPoint(), what + " zp");
            for (int g = 0; g < r[0].layout().count(); g++) {
              assertEquals(r[0].lowerBound(g), r[1].lowerBound(g), what + " lower");
              assertEquals(r[0].upperBound(g), r[1].upperBound(g), what + " upper");
            }
            INDArray[] gIn = both(() -> q.backward(x, gradOut, r[0]), new INDArray[2]);
            assertSameBits(gIn[0], gIn[1], what + " gradient");
            // the bounds themselves, and values just beside them, pass the same way
            INDArray edge = x.dup('c');
            for (int i = 0; i < Math.min(n, 8); i++) {
              int g = r[0].layout().groupOf(i);
              double b = i % 2 == 0 ? r[0].lowerBound(g) : r[0].upperBound(g);
              float f = (float) b;
              edge.putScalar(i, i % 4 < 2 ? f : (i % 4 == 2 ? Math.nextUp(f) : Math.nextDown(f)));
            }
            INDArray[] gEdge = both(() -> q.backward(edge, gradOut, r[0]), new INDArray[2]);
            assertSameBits(gEdge[0], gEdge[1], what + " gradient at bounds");
          }
        }
      }
    }
  }

  @Test
  void explicitScaleHalfStepsRoundToEven() {
    UniformQuantizer q = (UniformQuantizer) Quantizers.of("int(bits=8, axis=channel)");
    float[] v = new float[64];
    for (int i = 0; i < v.length; i++) {
      v[i] = (i - 32 + 0.5f) * 0.125f * (1 + i % 4);
    }
    INDArray x = Nd4j.create(v, new long[] {16, 4}, 'c');
    GroupLayout layout = GroupLayout.perAxis(x.shape(), 1);
    float[] scale = {0.125f, 0.25f, 0.375f, 0.5f};
    int[] zp = {0, 3, -2, 127};
    QuantResult[] r = both(() -> q.forward(x, layout, scale, zp, 0L), new QuantResult[2]);
    assertSameBits(r[0].output(), r[1].output(), "half steps");
    assertSameBits(r[0].codes(), r[1].codes(), "half-step codes");
  }

  @Test
  void nonFiniteInputIsRejectedWithTheSameMessage() {
    Quantizer q = Quantizers.of("int8");
    INDArray x = Nd4j.create(new float[] {1, 2, Float.NaN, 4}, new long[] {4}, 'c');
    NdOps.setVectorized(false);
    String expected = assertThrows(IllegalArgumentException.class, () -> q.forward(x, QuantContext.perTensor()))
        .getMessage();
    NdOps.setVectorized(true);
    assertEquals(expected, assertThrows(IllegalArgumentException.class,
        () -> q.forward(x, QuantContext.perTensor())).getMessage());
    Observer obs = Observers.of(ObserverSpec.ema(0.01, 0));
    INDArray state = Nd4j.zeros(DataType.FLOAT, obs.stateSize(1));
    INDArray inf = Nd4j.create(new float[] {1, Float.NEGATIVE_INFINITY}, new long[] {2}, 'c');
    NdOps.setVectorized(false);
    expected = assertThrows(IllegalArgumentException.class, () -> obs.update(state, inf, -1)).getMessage();
    NdOps.setVectorized(true);
    assertEquals(expected, assertThrows(IllegalArgumentException.class, () -> obs.update(state, inf, -1))
        .getMessage());
  }

  @Test
  void observerStatesMatchTheJavaLoopsIncludingTheSignOfZero() {
    Random rnd = new Random(11);
    ObserverSpec[] specs = {ObserverSpec.ema(0.01, 0), ObserverSpec.minMax(0), ObserverSpec.ema(0.3, 3)};
    long[] shape = {8, 3, 5, 5};
    int n = 8 * 3 * 5 * 5;
    for (ObserverSpec spec : specs) {
      Observer obs = Observers.of(spec);
      for (int axis : new int[] {-1, 1, 0, 3}) {
        int channels = axis < 0 ? 1 : (int) shape[axis];
        INDArray ref = Nd4j.zeros(DataType.FLOAT, obs.stateSize(channels));
        INDArray fast = ref.dup();
        for (int step = 0; step < 8; step++) {
          float[] v = data(rnd, n, 0.25f);
          for (int i = 0; i < n; i++) {
            if (step % 4 == 1) {
              v[i] = Math.max(v[i], 0f) == 0f ? (rnd.nextBoolean() ? -0f : 0f) : Math.abs(v[i]); // ReLU-like
            } else if (step % 4 == 2) {
              v[i] = -Math.abs(v[i]); // max may be -0 or +0
            } else if (step % 4 == 3) {
              v[i] = rnd.nextInt(3) == 0 ? (rnd.nextBoolean() ? -0f : 0f) : 0f; // all zeros
            }
            if (Math.abs(v[i]) > 1e20f) {
              v[i] = 3f;
            }
          }
          for (INDArray x : layouts(v, shape)) {
            NdOps.setVectorized(false);
            INDArray r = ref.dup();
            obs.update(r, x, axis);
            NdOps.setVectorized(true);
            INDArray f = fast.dup();
            obs.update(f, x, axis);
            assertSameBits(r, f, spec + " axis " + axis + " step " + step + " order " + x.ordering());
            // a fresh state takes the batch's own min and max, zero signs included
            NdOps.setVectorized(false);
            INDArray r0 = Nd4j.zeros(DataType.FLOAT, obs.stateSize(channels));
            obs.update(r0, x, axis);
            NdOps.setVectorized(true);
            INDArray f0 = Nd4j.zeros(DataType.FLOAT, obs.stateSize(channels));
            obs.update(f0, x, axis);
            assertSameBits(r0, f0, spec + " fresh, axis " + axis + " step " + step + " order " + x.ordering());
          }
          NdOps.setVectorized(false);
          INDArray x = Nd4j.create(v, shape, 'c');
          obs.update(ref, x, axis);
          NdOps.setVectorized(true);
          obs.update(fast, x, axis);
        }
      }
    }
  }
}
