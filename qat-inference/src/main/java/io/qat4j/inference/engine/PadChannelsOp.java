package io.qat4j.inference.engine;

import io.qat4j.inference.format.LayerSpec;
import java.util.List;

/**
 * pad_channels (the zero-padding shortcut of ResNet's option A): [1, C, H, W] to [1, before + C + after, H, W],
 * y[c, h, w] = clamp(x[c - before, h, w]) for before &lt;= c &lt; before + C, else clamp(zp_x) (a real zero).
 * The output keeps the input's quantization.
 */
final class PadChannelsOp extends LayerOp {
  private final int offset;
  private final int size;
  private final int outSize;

  PadChannelsOp(LayerSpec spec, int[] inShape) {
    super(spec);
    if (inShape.length != 4 || inShape[0] != 1) {
      throw bad(spec, "input shape " + java.util.Arrays.toString(inShape) + " not allowed; allowed: [1, C, H, W]");
    }
    int before = spec.channelPadding().get(0);
    int after = spec.channelPadding().get(1);
    List<Integer> expected = List.of(1, inShape[1] + before + after, inShape[2], inShape[3]);
    if (!spec.output().shape().equals(expected)) {
      throw bad(spec, "output shape " + spec.output().shape() + " not allowed; allowed: " + expected);
    }
    int area = inShape[2] * inShape[3];
    this.size = inShape[1] * area;
    this.outSize = expected.get(1) * area;
    this.offset = before * area;
  }

  @Override
  int[] run(int[][] inputs) {
    int[] x = inputs[0];
    int[] y = new int[outSize];
    java.util.Arrays.fill(y, clamp(outZeroPoint));
    for (int i = 0; i < size; i++) {
      y[offset + i] = clamp(x[i]);
    }
    return y;
  }
}
