package io.qat4j.layers.quant;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The coefficients of SAWB's clipping scale, alpha* = c1 sqrt(E[w^2]) + c2 E[|w|], per bit width.
 *
 * <p>Choi et al. fit alpha* by linear regression on the MSE-optimal clipping scales of several weight
 * distributions (Gaussian, uniform, Laplace, logistic, triangular, von Mises) for the grid of
 * {@code 2^bits} levels spread evenly over [-alpha, alpha] (no zero level), so c2 is negative. The
 * values below are those of the authors' implementation (IBM, {@code sawb_utils.py}, whose 2-bit pair
 * (3.212, -2.178) is the paper's "c1 = 3.2, c2 = -2.1" to one decimal). {@code SawbQuantizerTest}
 * checks them independently: for each of those distributions the alpha they give has a quantization
 * MSE close to the minimum found by search.
 *
 * <p>Paper: Choi et al., "Bridging the Accuracy Gap for 2-bit Quantized Neural Networks (QNN)",
 * arXiv:1807.06964.
 *
 * <p>Example spec string: {@code sawb(bits=2)}.
 *
 * @param c1 coefficient of the root mean square sqrt(E[w^2])
 * @param c2 coefficient of the mean absolute value E[|w|] (negative)
 */
public record SawbCoefficients(double c1, double c2) {
  private static final Map<Integer, SawbCoefficients> TABLE = new TreeMap<>(Map.of(
      2, new SawbCoefficients(3.212, -2.178),
      3, new SawbCoefficients(7.509, -6.892),
      4, new SawbCoefficients(12.68, -12.80),
      5, new SawbCoefficients(17.74, -18.64),
      8, new SawbCoefficients(31.76, -35.04)));

  /** The coefficients for this bit width, or null when none are published. */
  public static SawbCoefficients of(int bits) {
    return TABLE.get(bits);
  }

  /** The bit widths with coefficients, ascending. */
  public static List<Integer> bitWidths() {
    return List.copyOf(TABLE.keySet());
  }

  /** alpha* = c1 rms + c2 meanAbs. */
  public double alpha(double rms, double meanAbs) {
    return c1 * rms + c2 * meanAbs;
  }
}
