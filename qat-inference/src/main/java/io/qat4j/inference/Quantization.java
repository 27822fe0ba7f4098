package io.qat4j.inference;

import io.qat4j.inference.format.ActivationSpec;

/**
 * The only floating-point steps around the integer engine: quantizing the input and dequantizing the output.
 *
 * <p>quantizeInput: q = clamp(rint(x * (1f / scale)) + zp, qmin, qmax) in float32 with round half to even,
 * the same operation order as qat-layers' uniform quantizer. dequantizeOutput: y = (q - zp) * scale in
 * float32. Jacob et al., arXiv:1712.05877, eq. (1).
 */
public final class Quantization {
  private Quantization() {}

  /** Float input to integer codes of the export's input quantization. */
  public static int[] quantizeInput(float[] x, ActivationSpec input) {
    float inv = 1f / (float) input.scale();
    int lo = input.qmin();
    int hi = input.qmax();
    int[] q = new int[x.length];
    for (int i = 0; i < x.length; i++) {
      float r = (float) Math.rint(x[i] * inv) + input.zeroPoint();
      q[i] = r <= lo ? lo : r >= hi ? hi : (int) r;
    }
    return q;
  }

  /** Integer output codes to real values: (q - zp) * scale. */
  public static float[] dequantizeOutput(int[] q, ActivationSpec output) {
    float s = (float) output.scale();
    float[] y = new float[q.length];
    for (int i = 0; i < q.length; i++) {
      y[i] = (q[i] - output.zeroPoint()) * s;
    }
    return y;
  }
}
