package io.qat4j.layers.quant;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What the calling layer knows about one quantizer call.
 *
 * <p>Example spec string using the channel axis: {@code int(bits=8, axis=channel)}.
 *
 * @param channelAxis axis for per-channel / group granularity, -1 = none. The layer supplies it:
 *     dense weights [nIn, nOut] give 1, conv weights [nOut, nIn, kH, kW] give 0, NCHW activations 1.
 * @param rangeMin observed minimum per group (from an observer), or null to derive the range from x
 * @param rangeMax observed maximum per group, or null
 * @param seed seed for stochastic rounding / binarization
 * @param training true during training (stochastic binarization applies only then)
 */
public record QuantContext(int channelAxis, INDArray rangeMin, INDArray rangeMax, long seed, boolean training) {

  public QuantContext {
    if (channelAxis < -1) {
      throw new IllegalArgumentException("channelAxis must be -1 (none) or >= 0, got " + channelAxis);
    }
    if ((rangeMin == null) != (rangeMax == null)) {
      throw new IllegalArgumentException("rangeMin and rangeMax must both be given or both be null");
    }
    if (rangeMin != null && rangeMin.length() != rangeMax.length()) {
      throw new IllegalArgumentException("rangeMin has " + rangeMin.length() + " values but rangeMax has "
          + rangeMax.length());
    }
  }

  /** Training context with this channel axis, no observed range, seed 0. */
  public static QuantContext of(int channelAxis) {
    return new QuantContext(channelAxis, null, null, 0L, true);
  }

  /** Training context without a channel axis. */
  public static QuantContext perTensor() {
    return of(-1);
  }

  /** Same context with an observed range (one value per group, or one for the tensor). */
  public QuantContext withRange(INDArray min, INDArray max) {
    return new QuantContext(channelAxis, min, max, seed, training);
  }

  public QuantContext withSeed(long newSeed) {
    return new QuantContext(channelAxis, rangeMin, rangeMax, newSeed, training);
  }

  public QuantContext withTraining(boolean isTraining) {
    return new QuantContext(channelAxis, rangeMin, rangeMax, seed, isTraining);
  }

  /** True when an observed range is supplied. */
  public boolean hasRange() {
    return rangeMin != null;
  }
}
