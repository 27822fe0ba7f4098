package io.qat4j.inference.engine;

import io.qat4j.inference.format.LayerSpec;
import java.util.List;

/**
 * Sliding-window geometry: out = floor((in + pad_begin + pad_end - d*(k-1) - 1) / s) + 1 per axis.
 * Defaults: stride 1, padding 0, dilation 1.
 */
record Geometry(int kh, int kw, int sh, int sw, int padTop, int padLeft, int padBottom, int padRight, int dh,
    int dw) {

  static Geometry of(LayerSpec spec, int kh, int kw) {
    int[] s = pair(spec, spec.stride(), "stride", 2, 1);
    int[] p = pair(spec, spec.padding(), "padding", 4, 0);
    int[] d = pair(spec, spec.dilation(), "dilation", 2, 1);
    if (s[0] < 1 || s[1] < 1 || d[0] < 1 || d[1] < 1 || p[0] < 0 || p[1] < 0 || p[2] < 0 || p[3] < 0) {
      throw LayerOp.bad(spec, "stride " + spec.stride() + ", dilation " + spec.dilation() + ", padding "
          + spec.padding() + " not allowed; allowed: stride, dilation >= 1, padding >= 0");
    }
    return new Geometry(kh, kw, s[0], s[1], p[0], p[1], p[2], p[3], d[0], d[1]);
  }

  private static int[] pair(LayerSpec spec, List<Integer> v, String what, int n, int dflt) {
    if (v == null) {
      int[] out = new int[n];
      java.util.Arrays.fill(out, dflt);
      return out;
    }
    if (v.size() != n) {
      throw LayerOp.bad(spec, what + " " + v + " not allowed; allowed: " + n + " integers");
    }
    return LayerOp.ints(v);
  }

  int outH(int h) {
    return (h + padTop + padBottom - dh * (kh - 1) - 1) / sh + 1;
  }

  int outW(int w) {
    return (w + padLeft + padRight - dw * (kw - 1) - 1) / sw + 1;
  }

  /** Checks that the declared output [1, C, OH, OW] matches the geometry. */
  void check(LayerSpec spec, int channels, int h, int w) {
    List<Integer> expected = List.of(1, channels, outH(h), outW(w));
    if (outH(h) < 1 || outW(w) < 1 || !spec.output().shape().equals(expected)) {
      throw LayerOp.bad(spec, "output shape " + spec.output().shape() + " not allowed; allowed: " + expected
          + " (from input [1, ?, " + h + ", " + w + "] and the kernel, stride, padding, dilation)");
    }
  }
}
