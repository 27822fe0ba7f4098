package io.qat4j.inference.engine;

import io.qat4j.inference.format.IntTensor;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.inference.format.TensorSpec;

/**
 * Shared part of conv and dense layers: acc = bias[o] + sum (x - zp_x) * (w - zp_w[o]) in a B-bit
 * accumulator, y = clamp(requant(acc, o) + zp_y) (binary outputs: y = acc &gt;= 0 ? +1 : -1). Binary / ternary layers replace the product by integer
 * sign arithmetic: +(x - zp_x) for w = +1, -(x - zp_x) for w = -1, nothing for w = 0.
 */
abstract class AccumulatingOp extends LayerOp {
  final int outChannels;
  final int inZeroPoint;
  final int[] weights;
  final int[] weightZeroPoint;
  final int[] bias;
  final boolean signArithmetic;
  final Requantization requant;
  final Accumulator acc;

  AccumulatingOp(LayerSpec spec, int inZeroPoint, IntTensor w, IntTensor b, EngineConfig config) {
    super(spec);
    TensorSpec ws = spec.weights();
    if (ws == null || w == null) {
      throw bad(spec, "weights are required");
    }
    if (spec.requant() == null) {
      throw bad(spec, "requant is required");
    }
    this.outChannels = w.shape()[0];
    this.inZeroPoint = inZeroPoint;
    this.weights = w.data();
    if (ws.axis() != null && ws.axis() != 0) {
      throw bad(spec, "weight axis " + ws.axis() + " not allowed; allowed: null (per tensor) or 0 (output channel)");
    }
    this.weightZeroPoint = new int[outChannels];
    for (int o = 0; o < outChannels; o++) {
      weightZeroPoint[o] = ws.zeroPoint().get(ws.axis() == null ? 0 : o);
    }
    String variant = spec.op().startsWith("binary_") ? "binary" : spec.op().startsWith("ternary_") ? "ternary" : null;
    this.signArithmetic = variant != null;
    if (signArithmetic) {
      if (!variant.equals(ws.quantizer())) {
        throw bad(spec, "weight quantizer '" + ws.quantizer() + "' not allowed; allowed: " + variant);
      }
      for (int o = 0; o < outChannels; o++) {
        if (weightZeroPoint[o] != 0) {
          throw bad(spec, "weight zero point " + weightZeroPoint[o] + " not allowed; allowed: 0");
        }
      }
      for (int v : weights) {
        if (v < -1 || v > 1) {
          throw bad(spec, "weight value " + v + " not allowed; allowed: -1, 0, +1");
        }
      }
    }
    if (b != null) {
      if (b.data().length != outChannels) {
        throw bad(spec, "bias has " + b.data().length + " values; allowed: " + outChannels + " (output channels)");
      }
      this.bias = b.data();
    } else {
      this.bias = new int[outChannels];
    }
    this.requant = new Requantization(spec.requant());
    if (requant.channels() != 1 && requant.channels() != outChannels) {
      throw bad(spec, "requant has " + requant.channels() + " channels; allowed: 1 or " + outChannels);
    }
    this.acc = new Accumulator(config);
  }

  /** Adds one term for centered input xc and weight code w of output channel o. */
  final void accumulate(int xc, int w, int o) {
    if (signArithmetic) {
      if (w > 0) {
        acc.add(xc);
      } else if (w < 0) {
        acc.add(-(long) xc);
      }
    } else {
      acc.add((long) xc * (long) (w - weightZeroPoint[o]));
    }
  }

  /** Requantizes the finished sum of channel o to an output code. */
  final int finish(int o) {
    if (requant.isSign()) {
      return requant.apply(acc.value(), o);
    }
    return clamp(requant.apply(acc.value(), o) + outZeroPoint);
  }

  @Override
  final Accumulator accumulator() {
    return acc;
  }
}
