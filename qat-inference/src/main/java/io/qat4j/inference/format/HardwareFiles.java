package io.qat4j.inference.format;

import java.util.List;
import java.util.Locale;

/**
 * Text renderings of integer tensors for hardware flows: Verilog {@code $readmemh} ({@code .mem}), Xilinx
 * coefficient files ({@code .coe}) and one C header with every tensor and the per-layer constants.
 *
 * <p>Words are two's complement of the tensor's bit width, value &amp; (2^bits - 1), written as
 * ceil(bits/4) lower-case hex digits, one element per word in C order. Binary tensors (bits = 1) use
 * 1 for +1 and 0 for -1. Example, 4-bit [-1, 3, -8] -&gt; {@code f 3 8}; 8-bit -&gt; {@code ff 03 f8}.
 */
public final class HardwareFiles {
  private HardwareFiles() {}

  /** One word: two's complement of value at the tensor's width (binary: 1 = +1, 0 = -1). */
  public static String word(int value, int bits, boolean binary) {
    int digits = (bits + 3) / 4;
    long w = binary ? (value > 0 ? 1 : 0) : value & ((1L << bits) - 1);
    return String.format(Locale.ROOT, "%0" + digits + "x", w);
  }

  private static boolean binary(TensorSpec spec) {
    return "binary".equals(spec.quantizer());
  }

  /** A {@code $readmemh} file: a comment line, then one hex word per line. */
  public static String mem(TensorSpec spec, IntTensor t) {
    StringBuilder sb = new StringBuilder();
    sb.append("// ").append(spec.file()).append(" shape ").append(spec.shape()).append(", ").append(spec.bits())
        .append("-bit ").append(binary(spec) ? "binary (1 = +1, 0 = -1)" : spec.signed() ? "two's complement"
            : "unsigned").append(", C order\n");
    for (int v : t.data()) {
      sb.append(word(v, spec.bits(), binary(spec))).append('\n');
    }
    return sb.toString();
  }

  /** A Xilinx {@code .coe} file: radix 16, comma-separated words, terminated by a semicolon. */
  public static String coe(TensorSpec spec, IntTensor t) {
    StringBuilder sb = new StringBuilder();
    sb.append("; ").append(spec.file()).append(" shape ").append(spec.shape()).append(", ").append(spec.bits())
        .append("-bit ").append(binary(spec) ? "binary (1 = +1, 0 = -1)" : spec.signed() ? "two's complement"
            : "unsigned").append(", C order\n");
    sb.append("memory_initialization_radix=16;\n");
    sb.append("memory_initialization_vector=\n");
    int[] d = t.data();
    for (int i = 0; i < d.length; i++) {
      sb.append(word(d[i], spec.bits(), binary(spec))).append(i + 1 < d.length ? ",\n" : ";\n");
    }
    return sb.toString();
  }

  /** C identifier of a layer or tensor name: characters outside [A-Za-z0-9_] become '_'. */
  public static String cName(String name) {
    String s = name.replaceAll("[^A-Za-z0-9_]", "_");
    return Character.isDigit(s.charAt(0)) ? "_" + s : s;
  }

  private static String cInt(long v) {
    return v == Integer.MIN_VALUE ? "(-2147483647 - 1)" : Long.toString(v);
  }

  private static void define(StringBuilder sb, String name, long value) {
    sb.append("#define ").append(name).append(' ').append(cInt(value)).append('\n');
  }

  private static void array(StringBuilder sb, String ctype, String name, int[] values) {
    sb.append("static const ").append(ctype).append(' ').append(name).append('[').append(values.length)
        .append("] = {");
    for (int i = 0; i < values.length; i++) {
      sb.append(i % 16 == 0 ? "\n  " : " ").append(cInt(values[i])).append(i + 1 < values.length ? "," : "");
    }
    sb.append("\n};\n");
  }

  private static void shape(StringBuilder sb, String prefix, List<Integer> shape) {
    define(sb, prefix + "_NDIM", shape.size());
    for (int i = 0; i < shape.size(); i++) {
      define(sb, prefix + "_DIM" + i, shape.get(i));
    }
    define(sb, prefix + "_SIZE", Formats.product(shape));
  }

  private static void requant(StringBuilder sb, String macro, String array, Requant r) {
    define(sb, macro + "_SHIFT_ONLY", Requant.SHIFT.equals(r.kind()) ? 1 : 0);
    define(sb, macro + "_SIGN", Requant.SIGN.equals(r.kind()) ? 1 : 0);
    define(sb, macro + "_SINGLE_ROUND", Requant.SINGLE_ROUND_MULTIPLIER.equals(r.kind()) ? 1 : 0);
    define(sb, macro + "_TIES_EVEN", r.tiesToEven() ? 1 : 0);
    define(sb, macro + "_CHANNELS", r.channels());
    if (r.multiplier() != null) {
      array(sb, "int32_t", array + "_multiplier", r.multiplier().stream().mapToInt(Integer::intValue).toArray());
    }
    if (r.shift() != null) {
      array(sb, "int32_t", array + "_shift", r.shift().stream().mapToInt(Integer::intValue).toArray());
    }
  }

  private static void tensor(StringBuilder sb, String macro, String array, TensorSpec spec, IntTensor t) {
    shape(sb, macro, spec.shape());
    define(sb, macro + "_BITS", spec.bits());
    define(sb, macro + "_SIGNED", spec.signed() ? 1 : 0);
    array(sb, "int32_t", array + "_zero_point", spec.zeroPoint().stream().mapToInt(Integer::intValue).toArray());
    String ctype = spec.dtype() + "_t";
    array(sb, ctype, array, t.data());
  }

  /**
   * The C header {@code model.h}: include guard, {@code <stdint.h>}, macros for the input and for each layer
   * (output shape, bits, zero point, clamp range, geometry, channel padding, accumulator bits, left shift) and
   * {@code static const} arrays for weights, weight zero points, biases, multipliers and shifts.
   */
  public static String cHeader(ExportModel model) {
    Manifest m = model.manifest();
    StringBuilder sb = new StringBuilder();
    sb.append("/* Generated by qat4j: ").append(m.format()).append(" version ").append(m.formatVersion())
        .append(", model ").append(m.model()).append(". Specification: docs/export-format.md. */\n");
    sb.append("#ifndef QAT4J_MODEL_H\n#define QAT4J_MODEL_H\n\n#include <stdint.h>\n\n");
    define(sb, "QAT4J_FORMAT_VERSION", m.formatVersion());
    define(sb, "QAT4J_NUM_LAYERS", m.layers().size());
    sb.append("\n/* input */\n");
    shape(sb, "INPUT", m.input().shape());
    define(sb, "INPUT_BITS", m.input().bits());
    define(sb, "INPUT_SIGNED", m.input().signed() ? 1 : 0);
    define(sb, "INPUT_ZERO_POINT", m.input().zeroPoint());
    for (int i = 0; i < m.layers().size(); i++) {
      LayerSpec l = m.layers().get(i);
      String c = cName(l.name());
      String u = c.toUpperCase(Locale.ROOT);
      sb.append("\n/* layer ").append(i).append(": ").append(l.name()).append(" (").append(l.op())
          .append("), inputs ").append(l.inputs()).append(" */\n");
      shape(sb, u + "_OUT", l.output().shape());
      define(sb, u + "_OUT_BITS", l.output().bits());
      define(sb, u + "_OUT_SIGNED", l.output().signed() ? 1 : 0);
      define(sb, u + "_OUT_BINARY", l.output().isBinary() ? 1 : 0);
      define(sb, u + "_OUT_ZERO_POINT", l.output().zeroPoint());
      define(sb, u + "_CLAMP_MIN", l.clampMin());
      define(sb, u + "_CLAMP_MAX", l.clampMax());
      if (l.kernel() != null) {
        define(sb, u + "_KERNEL_H", l.kernel().get(0));
        define(sb, u + "_KERNEL_W", l.kernel().get(1));
      }
      if (l.stride() != null) {
        define(sb, u + "_STRIDE_H", l.stride().get(0));
        define(sb, u + "_STRIDE_W", l.stride().get(1));
      }
      if (l.padding() != null) {
        define(sb, u + "_PAD_TOP", l.padding().get(0));
        define(sb, u + "_PAD_LEFT", l.padding().get(1));
        define(sb, u + "_PAD_BOTTOM", l.padding().get(2));
        define(sb, u + "_PAD_RIGHT", l.padding().get(3));
      }
      if (l.dilation() != null) {
        define(sb, u + "_DILATION_H", l.dilation().get(0));
        define(sb, u + "_DILATION_W", l.dilation().get(1));
      }
      if (l.depthMultiplier() != null) {
        define(sb, u + "_DEPTH_MULTIPLIER", l.depthMultiplier());
      }
      if (l.countIncludePad() != null) {
        define(sb, u + "_COUNT_INCLUDE_PAD", l.countIncludePad() ? 1 : 0);
      }
      if (l.channelPadding() != null) {
        define(sb, u + "_CHANNEL_PAD_BEFORE", l.channelPadding().get(0));
        define(sb, u + "_CHANNEL_PAD_AFTER", l.channelPadding().get(1));
      }
      if (l.accumulatorBits() != null) {
        define(sb, u + "_ACC_BITS", l.accumulatorBits());
      }
      if (l.requant() != null) {
        requant(sb, u + "_REQUANT", c, l.requant());
      }
      if (l.inputRequant() != null) {
        define(sb, u + "_LEFT_SHIFT", l.leftShift() == null ? 0 : l.leftShift());
        for (int k = 0; k < l.inputRequant().size(); k++) {
          requant(sb, u + "_IN" + k + "_REQUANT", c + "_in" + k, l.inputRequant().get(k));
        }
      }
      if (l.weights() != null) {
        tensor(sb, u + "_WEIGHT", c + "_weight", l.weights(), model.tensor(l.weights()));
      }
      if (l.bias() != null) {
        tensor(sb, u + "_BIAS", c + "_bias", l.bias(), model.tensor(l.bias()));
      }
    }
    sb.append("\n#endif /* QAT4J_MODEL_H */\n");
    return sb.toString();
  }
}
