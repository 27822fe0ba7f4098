package io.qat4j.inference;

import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.IntTensor;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.inference.format.Manifest;
import io.qat4j.inference.format.TensorSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Small hand-built exports for the tests. */
public final class TestModels {
  private TestModels() {}

  /** Per-tensor activation quantization. */
  public static ActivationSpec act(List<Integer> shape, int bits, boolean signed, double scale, int zp) {
    return ActivationSpec.of(shape, bits, signed, scale, zp);
  }

  /** A weight tensor spec: per-channel (axis 0) with the given zero points, unit scales. */
  public static TensorSpec weights(String file, List<Integer> shape, int bits, boolean signed, String quantizer,
      Integer... zeroPoints) {
    int ch = zeroPoints.length;
    return new TensorSpec(file, shape, io.qat4j.inference.format.Formats.dtypeFor(bits, signed), bits, signed,
        quantizer, ch == 1 ? null : 0, Collections.nCopies(ch, 0.01), List.of(zeroPoints), null);
  }

  /** A binary weight tensor spec (bits 1, values -1/+1). */
  public static TensorSpec binaryWeights(String file, List<Integer> shape) {
    return new TensorSpec(file, shape, "int8", 1, true, "binary", null, List.of(0.5), List.of(0), null);
  }

  /** An int32 bias spec with per-channel scales. */
  public static TensorSpec bias(String file, int channels) {
    return new TensorSpec(file, List.of(channels), "int32", 32, true, "bias", 0,
        Collections.nCopies(channels, 1e-4), Collections.nCopies(channels, 0), null);
  }

  /** Model from an input, layers and tensors. */
  public static ExportModel model(ActivationSpec input, List<LayerSpec> layers, Map<String, IntTensor> tensors) {
    return new ExportModel(Manifest.of("test", List.of("npy"), input, layers), tensors);
  }

  /** A mutable tensor map. */
  public static Map<String, IntTensor> tensors() {
    return new HashMap<>();
  }

  /** Random codes in [lo, hi]. */
  public static int[] random(Random r, int n, int lo, int hi) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = lo + r.nextInt(hi - lo + 1);
    }
    return a;
  }

  /** conv(2x1x2x2) -> relu -> max_pool -> flatten -> dense, plus an add; all fields used at least once. */
  public static ExportModel smallModel() {
    ActivationSpec in = act(list(1, 1, 4, 4), 8, true, 0.5, 0);
    TensorSpec cw = new TensorSpec("conv1.weight.npy", list(2, 1, 2, 2), "int8", 4, true, "int", 0,
        List.of(0.125, 0.0625), List.of(0, 0), "Q0.3");
    TensorSpec cb = bias("conv1.bias.npy", 2);
    LayerSpec conv = LayerSpec.builder("conv1", "conv2d", "input").inputShapes(list(1, 1, 4, 4))
        .output(act(list(1, 2, 4, 4), 8, true, 0.25, -3)).kernel(2, 2).stride(1, 1).padding(0, 0, 1, 1)
        .dilation(1, 1).weights(cw).bias(cb).requant(Requantizer.requant(0.5 * 0.125 / 0.25, 0.5 * 0.0625 / 0.25))
        .clamp(-3, 127).accumulatorBits(8 + 4 + 2 + 1).build();
    LayerSpec relu = LayerSpec.builder("relu1", "relu", "conv1").output(conv.output()).build();
    LayerSpec pool = LayerSpec.builder("pool1", "max_pool", "relu1").output(act(list(1, 2, 2, 2), 8, true, 0.25, -3))
        .kernel(2, 2).stride(2, 2).build();
    LayerSpec add = LayerSpec.builder("add1", "add", "pool1", "pool1").output(act(list(1, 2, 2, 2), 8, true, 0.3, 1))
        .inputRequant(Requantizer.multipliers(0.5), Requantizer.multipliers(0.5), 20)
        .requant(Requantizer.multipliers(2 * 0.25 / ((1 << 20) * 0.3))).build();
    LayerSpec flat = LayerSpec.builder("flat", "flatten", "add1").output(act(list(1, 8), 8, true, 0.3, 1)).build();
    TensorSpec dw = new TensorSpec("fc.weight.npy", list(3, 8), "int16", 9, false, "int", null, List.of(0.01),
        List.of(256), null);
    LayerSpec fc = LayerSpec.builder("fc", "dense", "flat").output(act(list(1, 3), 16, true, 0.001, 0))
        .weights(dw).requant(Requantizer.multipliers(0.3 * 0.01 / 0.001)).accumulatorBits(9 + 10 + 3).build();
    Random r = new Random(3);
    Map<String, IntTensor> t = tensors();
    t.put("conv1.weight.npy", IntTensor.of(cw.shape(), random(r, 8, -8, 7)));
    t.put("conv1.bias.npy", IntTensor.of(cb.shape(), -100000, 2000000000));
    t.put("fc.weight.npy", IntTensor.of(dw.shape(), random(r, 24, 0, 511)));
    return new ExportModel(Manifest.of("small", List.of("npy"), in, List.of(conv, relu, pool, add, flat, fc)), t);
  }

  /**
   * A small residual network with every graph op: conv1 (3x3, pad 1) -&gt; conv2 (3x3, stride 2) on the main branch,
   * the option-A shortcut sub (max_pool [1, 1] stride 2) -&gt; pad (pad_channels [2, 2]) from conv1, add (TFLite form,
   * relu folded), gap (global_avg_pool, single-rounding ties to even) and fc (dense to 10 logits).
   */
  public static ExportModel residualModel() {
    Random r = new Random(17);
    ActivationSpec in = act(list(1, 3, 4, 4), 8, false, 1.0 / 255, 0);
    ActivationSpec a1 = act(list(1, 4, 4, 4), 8, true, 0.04, -5);
    TensorSpec w1 = weights("conv1.weight.npy", list(4, 3, 3, 3), 8, true, "int", 0, 0, 0, 0);
    TensorSpec b1 = bias("conv1.bias.npy", 4);
    LayerSpec conv1 = LayerSpec.builder("conv1", "conv2d", "input").output(a1).kernel(3, 3).padding(1, 1, 1, 1)
        .weights(w1).bias(b1).requant(io.qat4j.inference.Requantizer.requant(true, 0.011, 0.009, 0.013, 0.007))
        .clamp(-5, 127).accumulatorBits(24).build();
    ActivationSpec a2 = act(list(1, 8, 2, 2), 8, true, 0.05, 3);
    TensorSpec w2 = weights("conv2.weight.npy", list(8, 4, 3, 3), 4, true, "int", 1, 0, -1, 0, 2, 0, 0, -2);
    LayerSpec conv2 = LayerSpec.builder("conv2", "conv2d", "conv1").output(a2).kernel(3, 3).stride(2, 2)
        .padding(1, 1, 1, 1).weights(w2).requant(io.qat4j.inference.Requantizer.requant(true, true, 0.0031)).build();
    LayerSpec sub = LayerSpec.builder("sub", "max_pool", "conv1").output(a1.withShape(list(1, 4, 2, 2))).kernel(1, 1)
        .stride(2, 2).build();
    LayerSpec pad = LayerSpec.builder("pad", "pad_channels", "sub").output(a1.withShape(list(1, 8, 2, 2)))
        .channelPadding(2, 2).build();
    double twiceMax = 2 * Math.max(0.05, 0.04);
    LayerSpec add = LayerSpec.builder("add", "add", "conv2", "pad").output(act(list(1, 8, 2, 2), 8, true, 0.07, -2))
        .inputRequant(io.qat4j.inference.Requantizer.multipliers(0.05 / twiceMax),
            io.qat4j.inference.Requantizer.multipliers(0.04 / twiceMax), 20)
        .requant(io.qat4j.inference.Requantizer.multipliers(twiceMax / ((1 << 20) * 0.07))).clamp(-2, 127).build();
    LayerSpec gap = LayerSpec.builder("gap", "global_avg_pool", "add").output(act(list(1, 8), 8, true, 0.03, -1))
        .requant(io.qat4j.inference.Requantizer.requant(true, true, 0.07 / (4 * 0.03))).build();
    TensorSpec wf = weights("fc.weight.npy", list(10, 8), 8, true, "int", 0);
    LayerSpec fc = LayerSpec.builder("fc", "dense", "gap").output(act(list(1, 10), 8, true, 0.1, 0)).weights(wf)
        .requant(io.qat4j.inference.Requantizer.requant(true, 0.03 * 0.01 / 0.1 * 7)).build();
    Map<String, IntTensor> t = tensors();
    t.put("conv1.weight.npy", IntTensor.of(w1.shape(), random(r, 108, -128, 127)));
    t.put("conv1.bias.npy", IntTensor.of(b1.shape(), random(r, 4, -3000, 3000)));
    t.put("conv2.weight.npy", IntTensor.of(w2.shape(), random(r, 288, -8, 7)));
    t.put("fc.weight.npy", IntTensor.of(wf.shape(), random(r, 80, -127, 127)));
    return model(in, List.of(conv1, conv2, sub, pad, add, gap, fc), t);
  }

  /** Boxed list of ints. */
  public static List<Integer> list(int... v) {
    List<Integer> l = new ArrayList<>();
    for (int x : v) {
      l.add(x);
    }
    return l;
  }
}
