package io.qat4j.inference.engine;

import static io.qat4j.inference.TestModels.list;

import io.qat4j.inference.Requantizer;
import io.qat4j.inference.TestModels;
import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.Formats;
import io.qat4j.inference.format.IntTensor;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.inference.format.Requant;
import io.qat4j.inference.format.TensorSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Small random exports that use every op of the format and every requantization kind: random shapes, bit widths,
 * signedness, negative and positive zero points, clamps, geometry (stride, padding, dilation, depth multiplier),
 * weight widths from 2 to 20 bits (int8 / int16 / int32 packing), binary and ternary weights, sign outputs, residual
 * adds with left shifts, option-A shortcuts, global average pooling with and without requantization.
 */
final class RandomModels {
  private final Random r;
  private final List<LayerSpec> layers = new ArrayList<>();
  private final Map<String, IntTensor> tensors = TestModels.tensors();
  private String cur = "input";
  private ActivationSpec act;

  private RandomModels(long seed) {
    this.r = new Random(seed);
  }

  /** A random model; the seed decides everything. */
  static ExportModel create(long seed) {
    return new RandomModels(seed).build();
  }

  private ExportModel build() {
    int c = 1 + r.nextInt(3);
    ActivationSpec input = activation(list(1, c, 4 + r.nextInt(5), 4 + r.nextInt(5)), r.nextInt(4) == 0 ? 4 : 8);
    act = input;
    int spatial = 2 + r.nextInt(4);
    for (int i = 0; i < spatial; i++) {
      switch (r.nextInt(8)) {
        case 0, 1 -> conv(pick("conv2d", "conv2d", "depthwise_conv2d", "binary_conv2d", "ternary_conv2d"));
        case 2 -> pool();
        case 3 -> clampOp();
        case 4 -> residual();
        case 5 -> shortcut();
        case 6 -> signThenBinary();
        default -> conv("conv2d");
      }
    }
    if (r.nextBoolean()) {
      globalPool();
    } else {
      add("flatten", act.withShape(list(1, act.size())), b -> { });
    }
    for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) {
      dense(pick("dense", "dense", "binary_dense", "ternary_dense"), 1 + r.nextInt(12));
    }
    return TestModels.model(input, layers, tensors);
  }

  private String pick(String... names) {
    return names[r.nextInt(names.length)];
  }

  /** A random integer activation: bits, signedness, zero point anywhere in the code range. */
  private ActivationSpec activation(List<Integer> shape, int bits) {
    boolean signed = r.nextBoolean();
    int lo = Formats.qmin(bits, signed);
    int hi = Formats.qmax(bits, signed);
    int zp = r.nextInt(3) == 0 ? (signed ? 0 : lo) : lo + r.nextInt(hi - lo + 1);
    return TestModels.act(shape, bits, signed, 0.01 + r.nextDouble(), zp);
  }

  private void add(String op, ActivationSpec out, java.util.function.Consumer<LayerSpec.Builder> fields) {
    add(op, out, fields, cur);
  }

  private void add(String op, ActivationSpec out, java.util.function.Consumer<LayerSpec.Builder> fields,
      String... inputs) {
    String name = "l" + layers.size();
    LayerSpec.Builder b = LayerSpec.builder(name, op, inputs).output(out);
    fields.accept(b);
    layers.add(b.build());
    cur = name;
    act = out;
  }

  /** A random requantization for accumulators of typical size {@code typical} into {@code out}. */
  private Requant requant(int channels, double typical, ActivationSpec out) {
    double[] reals = new double[channels];
    for (int o = 0; o < channels; o++) {
      double span = out.qmax() - out.qmin();
      reals[o] = span / (2 * Math.max(1, typical)) * Math.pow(2, r.nextDouble() * 4 - 2);
    }
    switch (r.nextInt(5)) {
      case 0 -> {
        List<Integer> shifts = new ArrayList<>();
        for (double v : reals) {
          shifts.add((int) Math.max(-31, Math.min(31, Math.round(-Math.log(v) / Math.log(2)))));
        }
        Requant s = new Requant("shift", null, shifts);
        return r.nextBoolean() ? s.withTiesToEven() : s;
      }
      case 1 -> {
        return Requantizer.multipliers(false, reals);
      }
      default -> {
        Requant s = Requantizer.multipliers(true, reals);
        return r.nextBoolean() ? s.withTiesToEven() : s;
      }
    }
  }

  /** A clamp within the output range (sometimes relu-like from the zero point), or none. */
  private void clampOf(LayerSpec.Builder b, ActivationSpec out) {
    if (r.nextBoolean()) {
      int lo = r.nextBoolean() ? out.zeroPoint() : out.qmin() + r.nextInt(Math.max(1, out.zeroPoint() - out.qmin() + 1));
      int hi = out.qmax() - r.nextInt(3);
      b.clamp(Math.min(lo, hi), hi);
    }
  }

  /** Weights of a kind: int (2..20 bits, per-channel or per-tensor zero points), binary or ternary. */
  private TensorSpec weights(String name, String op, List<Integer> shape, int[] codes) {
    int channels = shape.get(0);
    if (op.startsWith("binary_")) {
      for (int k = 0; k < codes.length; k++) {
        codes[k] = r.nextBoolean() ? 1 : -1;
      }
      return new TensorSpec(name, shape, "int8", 1, true, "binary", 0, Collections.nCopies(channels, 0.5),
          Collections.nCopies(channels, 0), null);
    }
    if (op.startsWith("ternary_")) {
      for (int k = 0; k < codes.length; k++) {
        codes[k] = r.nextInt(3) - 1;
      }
      return new TensorSpec(name, shape, "int8", 2, true, "ternary", 0, Collections.nCopies(channels, 0.5),
          Collections.nCopies(channels, 0), null);
    }
    int bits = new int[] {2, 3, 4, 8, 8, 8, 12, 16, 20}[r.nextInt(9)];
    boolean signed = r.nextBoolean();
    boolean perChannel = r.nextBoolean();
    int lo = Formats.qmin(bits, signed);
    int hi = Formats.qmax(bits, signed);
    List<Integer> zps = new ArrayList<>();
    for (int o = 0; o < (perChannel ? channels : 1); o++) {
      zps.add(r.nextBoolean() && signed ? 0 : lo + r.nextInt(hi - lo + 1));
    }
    for (int k = 0; k < codes.length; k++) {
      codes[k] = lo + r.nextInt(hi - lo + 1);
    }
    return new TensorSpec(name, shape, Formats.dtypeFor(bits, signed), bits, signed, "int", perChannel ? 0 : null,
        Collections.nCopies(zps.size(), 0.01), zps, null);
  }

  /** Typical magnitude of a centered code of an activation or weight tensor. */
  private static double span(int lo, int hi) {
    return Math.max(1, (hi - lo) / 2.0);
  }

  private void conv(String op) {
    int c = act.shape().get(1);
    int h = act.shape().get(2);
    int w = act.shape().get(3);
    boolean dw = op.equals("depthwise_conv2d");
    int mult = dw ? 1 + r.nextInt(2) : 1;
    int o = dw ? c * mult : 1 + r.nextInt(6);
    int k = 1 + r.nextInt(3);
    int s = 1 + r.nextInt(2);
    int d = k > 1 && r.nextInt(4) == 0 ? 2 : 1;
    int[] pad = {r.nextInt(k), r.nextInt(k), r.nextInt(k), r.nextInt(k)};
    int oh = (h + pad[0] + pad[2] - d * (k - 1) - 1) / s + 1;
    int ow = (w + pad[1] + pad[3] - d * (k - 1) - 1) / s + 1;
    if (oh < 1 || ow < 1) {
      k = 1;
      d = 1;
      oh = (h + pad[0] + pad[2] - 1) / s + 1;
      ow = (w + pad[1] + pad[3] - 1) / s + 1;
    }
    accumulating(op, list(o, dw ? 1 : c, k, k), list(1, o, oh, ow), k, s, d, pad, mult);
  }

  private void accumulating(String op, List<Integer> wshape, List<Integer> outShape, int k, int s, int d, int[] pad,
      int mult) {
    String name = "l" + layers.size();
    int[] codes = new int[Formats.product(wshape)];
    TensorSpec ws = weights(name + ".w.npy", op, wshape, codes);
    tensors.put(ws.file(), IntTensor.of(wshape, codes));
    int o = wshape.get(0);
    boolean sign = r.nextInt(6) == 0;
    ActivationSpec out = sign ? ActivationSpec.binary(outShape, 1) : activation(outShape, r.nextInt(6) == 0 ? 16 : 8);
    double typical = Math.sqrt(codes.length / o) * span(act.qmin(), act.qmax())
        * (ws.quantizer().equals("int") ? span(ws.qmin(), ws.qmax()) : 1);
    TensorSpec bs = r.nextBoolean() ? TestModels.bias(name + ".b.npy", o) : null;
    if (bs != null) {
      int[] bias = new int[o];
      for (int j = 0; j < o; j++) {
        bias[j] = (int) Math.round((r.nextDouble() * 2 - 1) * typical * (r.nextInt(8) == 0 ? 1000 : 1));
      }
      tensors.put(bs.file(), IntTensor.of(bs.shape(), bias));
    }
    Requant rq = sign ? Requant.sign() : requant(r.nextBoolean() ? o : 1, typical, out);
    add(op, out, b -> {
      b.weights(ws).bias(bs).requant(rq);
      if (outShape.size() == 4) {
        b.kernel(k, k).stride(s, s).padding(pad[0], pad[1], pad[2], pad[3]).dilation(d, d);
        if (op.equals("depthwise_conv2d")) {
          b.depthMultiplier(mult);
        }
      }
      if (!sign) {
        clampOf(b, out);
      }
    });
  }

  private void dense(String op, int o) {
    accumulating(op, list(o, act.size()), list(1, o), 1, 1, 1, new int[4], 1);
  }

  private void pool() {
    int kernel = 1 + r.nextInt(3);
    int s = 1 + r.nextInt(2);
    int[] pad = {r.nextInt(kernel + 1), r.nextInt(kernel + 1), r.nextInt(kernel + 1), r.nextInt(kernel + 1)};
    if (act.shape().get(2) + pad[0] + pad[2] < kernel || act.shape().get(3) + pad[1] + pad[3] < kernel) {
      kernel = 1;
    }
    int k = kernel;
    int oh = (act.shape().get(2) + pad[0] + pad[2] - k) / s + 1;
    int ow = (act.shape().get(3) + pad[1] + pad[3] - k) / s + 1;
    boolean max = r.nextBoolean() || act.isBinary();
    boolean include = r.nextBoolean();
    ActivationSpec out = act.withShape(list(1, act.shape().get(1), oh, ow));
    add(max ? "max_pool" : "avg_pool", out, b -> {
      b.kernel(k, k).stride(s, s).padding(pad[0], pad[1], pad[2], pad[3]);
      if (!max) {
        b.countIncludePad(include);
      }
      if (!out.isBinary()) {
        clampOf(b, out);
      }
    });
  }

  private void clampOp() {
    if (act.isBinary()) {
      return;
    }
    boolean relu = r.nextBoolean();
    ActivationSpec out = act;
    add(relu ? "relu" : "clamp", out, b -> {
      if (!relu || r.nextBoolean()) {
        int lo = out.qmin() + r.nextInt(out.qmax() - out.qmin() + 1);
        b.clamp(lo, lo + r.nextInt(out.qmax() - lo + 1));
      }
    });
  }

  /** cur + conv(cur) with "same" geometry, joined by an add (TFLite form with a left shift, or plain). */
  private void residual() {
    String skip = cur;
    ActivationSpec skipAct = act;
    int c = act.shape().get(1);
    accumulating("conv2d", list(c, c, 3, 3), act.shape(), 3, 1, 1, new int[] {1, 1, 1, 1}, 1);
    if (act.isBinary()) {
      return;
    }
    ActivationSpec branch = act;
    ActivationSpec out = activation(act.shape(), 8);
    int left = new int[] {0, 8, 20}[r.nextInt(3)];
    double twiceMax = 2 * Math.max(skipAct.scale(), branch.scale());
    Requant in0 = left == 0 ? requantOf(skipAct.scale() / out.scale()) : requantOf(skipAct.scale() / twiceMax);
    Requant in1 = left == 0 ? requantOf(branch.scale() / out.scale()) : requantOf(branch.scale() / twiceMax);
    Requant rq = left == 0 ? requantOf(1) : requantOf(twiceMax / ((1 << left) * out.scale()));
    add("add", out, b -> {
      b.inputRequant(in0, in1, left).requant(rq);
      clampOf(b, out);
    }, skip, cur);
  }

  private Requant requantOf(double real) {
    Requant m = Requantizer.requant(r.nextBoolean(), real);
    return r.nextBoolean() && !m.kind().equals("multiplier") ? m.withTiesToEven() : m;
  }

  /** ResNet option A: max_pool [1, 1] stride 2, then pad_channels. */
  private void shortcut() {
    int h = (act.shape().get(2) + 1) / 2;
    int w = (act.shape().get(3) + 1) / 2;
    add("max_pool", act.withShape(list(1, act.shape().get(1), h, w)), b -> b.kernel(1, 1).stride(2, 2));
    if (act.isBinary()) {
      return;
    }
    int before = r.nextInt(3);
    int after = r.nextInt(3);
    ActivationSpec out = act.withShape(list(1, act.shape().get(1) + before + after, h, w));
    add("pad_channels", out, b -> {
      b.channelPadding(before, after);
      if (r.nextInt(3) == 0) {
        b.clamp(out.zeroPoint() + (out.zeroPoint() < out.qmax() ? 1 : 0), out.qmax());
      }
    });
  }

  /** A conv with sign outputs (binary activations) read by a binary or ternary conv. */
  private void signThenBinary() {
    int c = act.shape().get(1);
    String name = "l" + layers.size();
    int[] codes = new int[c * c];
    TensorSpec ws = weights(name + ".w.npy", "conv2d", list(c, c, 1, 1), codes);
    tensors.put(ws.file(), IntTensor.of(ws.shape(), codes));
    add("conv2d", ActivationSpec.binary(act.shape(), 1), b -> b.weights(ws).requant(Requant.sign()));
    conv(pick("binary_conv2d", "ternary_conv2d"));
  }

  private void globalPool() {
    ActivationSpec in = act;
    int area = in.shape().get(2) * in.shape().get(3);
    boolean identity = r.nextBoolean();
    ActivationSpec out = identity ? TestModels.act(list(1, in.shape().get(1)), 16, true, in.scale() / area,
        r.nextInt(200) - 100) : activation(list(1, in.shape().get(1)), 8);
    Requant rq = identity ? null : requant(1, area * span(in.qmin(), in.qmax()) / 2, out);
    add("global_avg_pool", out, b -> {
      if (rq != null) {
        b.requant(rq);
      }
      clampOf(b, out);
    });
  }
}
