package io.qat4j.layers.train;

/**
 * WAGE's per-layer constants: the initialization limit and the constant scaling factor α that replaces
 * batch normalization.
 *
 * <p>With k_W-bit weights, {@code σ(k) = 2^(1-k)} (the grid step), {@code W_m = β σ(k_W)} with β = 1.5
 * (the reference code's {@code Wm = beta / S(bitsW)}, S(k) = 2^(k-1)), and {@code L = sqrt(3 / fan_in)}
 * (uniform He/LeCun limit, factor 1, fan-in mode):
 * <ul>
 *   <li>initialization: {@code W ~ U(-max(W_m, L), max(W_m, L))}, then rounded to the k_W grid
 *       {@code round(W · 2^(k_W-1)) / 2^(k_W-1)} ({@link WageWeightInit});</li>
 *   <li>α = {@code max(2^round(log2(W_m / L)), 1)}; the layer's output is divided by α
 *       ({@link ScaledActivation}).</li>
 * </ul>
 * For the MNIST LeNet-5 of the paper (2-bit weights) this gives α = 2, 16, 16, 8 for conv1, conv2, fc1
 * and the output layer, as printed in the reference code's training log.
 *
 * <p>Paper: Wu et al., "Training and Inference with Integers in Deep Neural Networks" (WAGE),
 * arXiv:1802.04680, eq. (7)-(9); reference code {@code boluoweifenda/WAGE source/myInitializer.py}.
 */
public final class Wage {
    /** β of W_m = β σ(k). */
    public static final double BETA = 1.5;

    private Wage() {
    }

    /** {@code W_m = 1.5 / 2^(k-1)}. */
    public static double wm(int weightBits) {
        checkBits(weightBits);
        return BETA / Math.scalb(1.0, weightBits - 1);
    }

    /** The uniform initialization limit {@code max(W_m, sqrt(3 / fanIn))}. */
    public static double initLimit(int weightBits, double fanIn) {
        return Math.max(wm(weightBits), Math.sqrt(3.0 / checkFanIn(fanIn)));
    }

    /** The layer scale α = max(2^round(log2(W_m / sqrt(3 / fanIn))), 1), a power of two. */
    public static double alpha(int weightBits, double fanIn) {
        double ratio = wm(weightBits) / Math.sqrt(3.0 / checkFanIn(fanIn));
        double a = Math.scalb(1.0, (int) Math.round(Math.log(ratio) / Math.log(2.0)));
        return Math.max(a, 1.0);
    }

    private static void checkBits(int bits) {
        if (bits < 2 || bits > 16) {
            throw new IllegalArgumentException("WAGE weight bits must be in [2, 16], got " + bits);
        }
    }

    private static double checkFanIn(double fanIn) {
        if (!(fanIn >= 1)) {
            throw new IllegalArgumentException("fan-in must be >= 1, got " + fanIn);
        }
        return fanIn;
    }
}
