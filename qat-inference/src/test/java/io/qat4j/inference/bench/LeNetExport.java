package io.qat4j.inference.bench;

import io.qat4j.inference.Requantizer;
import io.qat4j.inference.TestModels;
import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.IntTensor;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.inference.format.TensorSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A LeNet-5-sized export with random weights, for speed measurements: 1x28x28 int8 input, conv 20x5x5, max pool 2,
 * conv 50x5x5, max pool 2, flatten, dense 800 -&gt; 500, dense 500 -&gt; 10; per-channel int8 weights (narrow, zero
 * point 0), int32 biases, single-rounding requantization, ReLU folded into the clamps (int8 outputs, zero point
 * -128), int8 logits. The multipliers put typical accumulators in the middle of the output range.
 */
public final class LeNetExport {
  private LeNetExport() {}

  private static List<Integer> list(int... v) {
    return TestModels.list(v);
  }

  /** The export; the seed decides the weights. */
  public static ExportModel create(long seed) {
    Random r = new Random(seed);
    Map<String, IntTensor> t = TestModels.tensors();
    List<LayerSpec> layers = new ArrayList<>();
    ActivationSpec in = TestModels.act(list(1, 1, 28, 28), 8, true, 1.0 / 127, 0);
    ActivationSpec c1 = TestModels.act(list(1, 20, 24, 24), 8, true, 0.02, -128);
    layers.add(layer("conv1", "input", c1, list(20, 1, 5, 5), 128, t, r).kernel(5, 5).clamp(-128, 127).build());
    layers.add(LayerSpec.builder("pool1", "max_pool", "conv1").output(c1.withShape(list(1, 20, 12, 12)))
        .kernel(2, 2).stride(2, 2).build());
    ActivationSpec c2 = TestModels.act(list(1, 50, 8, 8), 8, true, 0.03, -128);
    layers.add(layer("conv2", "pool1", c2, list(50, 20, 5, 5), 128, t, r).kernel(5, 5).clamp(-128, 127).build());
    layers.add(LayerSpec.builder("pool2", "max_pool", "conv2").output(c2.withShape(list(1, 50, 4, 4)))
        .kernel(2, 2).stride(2, 2).build());
    layers.add(LayerSpec.builder("flatten", "flatten", "pool2").output(c2.withShape(list(1, 800))).build());
    ActivationSpec f1 = TestModels.act(list(1, 500), 8, true, 0.04, -128);
    layers.add(layer("fc1", "flatten", f1, list(500, 800), 128, t, r).clamp(-128, 127).build());
    ActivationSpec f2 = TestModels.act(list(1, 10), 8, true, 0.1, 0);
    layers.add(layer("fc2", "fc1", f2, list(10, 500), 128, t, r).build());
    return TestModels.model(in, layers, t);
  }

  /** A conv / dense layer with random int8 weights, bias and a single-rounding requantization. */
  private static LayerSpec.Builder layer(String name, String input, ActivationSpec out, List<Integer> shape,
      int inputSpan, Map<String, IntTensor> t, Random r) {
    int o = shape.get(0);
    int fanIn = 1;
    for (int i = 1; i < shape.size(); i++) {
      fanIn *= shape.get(i);
    }
    TensorSpec w = new TensorSpec(name + ".weight.npy", shape, "int8", 8, true, "int", 0,
        Collections.nCopies(o, 0.01), Collections.nCopies(o, 0), null);
    TensorSpec b = TestModels.bias(name + ".bias.npy", o);
    t.put(w.file(), IntTensor.of(shape, TestModels.random(r, o * fanIn, -127, 127)));
    double typical = Math.sqrt(fanIn) * inputSpan * 73;
    t.put(b.file(), IntTensor.of(b.shape(), TestModels.random(r, o, -(int) typical, (int) typical)));
    double[] reals = new double[o];
    for (int c = 0; c < o; c++) {
      reals[c] = 128 / typical * (0.5 + r.nextDouble());
    }
    return LayerSpec.builder(name, shape.size() == 4 ? "conv2d" : "dense", input).output(out).weights(w).bias(b)
        .requant(Requantizer.multipliers(true, reals))
        .accumulatorBits(io.qat4j.inference.AccumulatorWidth.required(8, 8, fanIn, true));
  }
}
