package io.qat4j.inference.engine;

import io.qat4j.inference.format.LayerSpec;
import java.util.List;

/** flatten: [1, C, H, W] to [1, C*H*W] in C order; the codes are unchanged. */
final class FlattenOp extends LayerOp {

  FlattenOp(LayerSpec spec, int inSize) {
    super(spec);
    if (!spec.output().shape().equals(List.of(1, inSize))) {
      throw bad(spec, "output shape " + spec.output().shape() + " not allowed; allowed: [1, " + inSize + "]");
    }
  }

  @Override
  int[] run(int[][] inputs) {
    return inputs[0].clone();
  }
}
