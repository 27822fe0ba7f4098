package io.qat4j.export;

import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.ExportModel;
import org.deeplearning4j.nn.api.Model;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.Map;

/**
 * Turns a trained quantized DL4J network — a {@code MultiLayerNetwork} or a {@code ComputationGraph} — into an
 * integer-only {@link ExportModel} ({@code docs/export-format.md}) that {@code io.qat4j.inference.engine} runs.
 *
 * <p>What is computed (Jacob et al., "Quantization and Training of Neural Networks for Efficient
 * Integer-Arithmetic-Only Inference", arXiv:1712.05877, §2):
 * <ul>
 *   <li>Input: image pixels x/255 are uint8 codes q = x·255 with scale s_x = 1/255, zero point 0.</li>
 *   <li>Weights of a conv / depth-wise conv / dense layer: the codes of the layer's weight quantizer with its
 *       per-channel scales s_w[c] and zero points; DL4J's dense layout [nIn, nOut] is transposed to [O, F], its
 *       depth-wise layout [kH, kW, C, M] becomes [C·M, 1, kH, kW]. Binary and ternary weights give binary_ /
 *       ternary_ ops (codes ±1 / 0, scale alpha[c]). Batch normalization that follows the layer is folded after
 *       quantization: g = γ/sqrt(σ²+ε) multiplies the per-channel scale, the bias becomes g·(b − μ) + β; the codes
 *       stay those of the fake-quant weights, so the fold is exact. A channel with g &lt; 0 has its codes negated and
 *       a positive scale. Layers that fold it during training ({@code QuantConvBN2D}, {@code QuantDenseBN}) export
 *       their inference-mode folded weights and bias, quantized by their weight site exactly as in their forward
 *       pass.</li>
 *   <li>Bias: int32 b_q[c] = round(b[c] / (s_x·s_w[c])) (eq. 10 and §2.4).</li>
 *   <li>Output scale s_y and zero point z_y: those of the next quantized activation site (a
 *       {@code QuantActivation} after optional normalization / ReLU / max pooling, or the layer's own output
 *       site), computed by that site's quantizer from its observer's (min, max), exactly as the fake-quant model
 *       does.</li>
 *   <li>Requantization per output channel: M[c] = s_x·s_w[c] / s_y (eq. 5), an int32 multiplier and a right
 *       shift (or a pure shift), by default applied with one rounding of the exact 64-bit product, which
 *       reproduces the fake-quant model's rounding of the real product; gemmlowp's two-rounding form is an
 *       option.</li>
 *   <li>ReLU is folded into the clamp [max(z_y, qmin), qmax], hard tanh into [z_y + rint(-1/s_y), z_y + rint(1/s_y)].</li>
 *   <li>A binary activation site (sign, BNN) makes the layer output codes ±1: y = acc &gt;= 0 ? +1 : -1 with the
 *       int32 bias floor(b / (s_x·s_w[c])), exactly sign(x) of the real pre-activation (requant kind "sign").</li>
 *   <li>Max pooling is kept after the requantization: it commutes with the monotone requantization.</li>
 *   <li>Residual addition ({@code ElementWiseVertex} add, then the quantized activation that follows it, ReLU folded
 *       into the clamp): TFLite's integer add, both input codes shifted left by L = 20 and requantized by
 *       s_k / (2·max(s_0, s_1)), their sum by 2·max(s_0, s_1) / (2^L·s_y). A {@code QuantAddVertex} is the same
 *       addition quantized by its own output spec and observer, its ReLU folded into the clamp.</li>
 *   <li>Global average pooling: the sum of each channel's centered codes requantized by s_x / (H·W·s_y) to the
 *       quantized activation after it. Zero-channel shortcuts ({@code ChannelPadVertex}) pad with the zero point.</li>
 *   <li>Flattening of convolutional activations is in C, H, W order (DL4J's CnnToFeedForward).</li>
 *   <li>The output layer (float output site, softmax or identity) yields logits: with {@link OutputQuant#int32()}
 *       int32 logits at the common scale s_out = s_x·min_c s_w[c] without clamping; with an N-bit
 *       {@link OutputQuant} signed N-bit codes at its scale (as a symmetric output quantizer calibrated on training
 *       images would give).</li>
 * </ul>
 * A float result may feed one layer only (it must be quantized before a branch). Unsupported layers (or float
 * sites where integers are needed) raise {@link IllegalArgumentException} naming the layer and what is supported.
 */
public final class Exporter {

    /** What the exporter supports, for error messages. */
    public static final String SUPPORTED = "QuantConv2D / QuantDepthwiseConv2D / QuantDense / QuantConvBN2D / "
            + "QuantDenseBN / QuantOutput with int, fixed, binary or ternary weights, QuantActivation with a per-tensor "
            + "int or fixed spec or binary, SubsamplingLayer (max), GlobalPoolingLayer (avg), ActivationLayer (relu, "
            + "hardtanh, identity), BatchNormalization or DeviationBatchNorm (RangeBN, L1BN) after a conv / dense "
            + "layer, DropoutLayer (ignored at inference), ElementWiseVertex (add), QuantAddVertex (two inputs, per-tensor "
            + "int or fixed spec with an observer, identity or relu), ChannelPadVertex";

    /** Scale of 8-bit image inputs x/255. */
    public static final double UNIT_IMAGE_SCALE = 1.0 / 255.0;

    /**
     * An export with, for each exported layer that has a counterpart in the DL4J network, the name of the DL4J node
     * whose (fake-quant) activation the layer's codes represent at the layer's output quantization. The output
     * (logits) layer has no entry: its DL4J counterpart applies softmax.
     */
    public record Result(ExportModel model, Map<String, String> dl4jSources) {
    }

    /**
     * How the output layer's logits are exported: {@code bits} 32 keeps the int32 accumulator scale; 2..16 bits give
     * symmetric signed codes at {@code scale}.
     */
    public record OutputQuant(int bits, double scale) {
        /** Validates the fields. */
        public OutputQuant {
            if (bits != 32 && (bits < 2 || bits > 16)) {
                throw new IllegalArgumentException("output bits " + bits + " not allowed; allowed: 2..16 or 32");
            }
            if (bits != 32 && !(scale > 0 && Double.isFinite(scale))) {
                throw new IllegalArgumentException("output scale " + scale + " not allowed; allowed: finite > 0");
            }
        }

        /** int32 logits at the accumulator scale. */
        public static OutputQuant int32() {
            return new OutputQuant(32, Double.NaN);
        }

        /** Symmetric N-bit logits covering [-maxAbs, maxAbs]: scale = maxAbs / (2^(N-1) - 1). */
        public static OutputQuant covering(int bits, double maxAbs) {
            if (bits == 32) {
                return int32();
            }
            if (!(maxAbs > 0 && Double.isFinite(maxAbs))) {
                throw new IllegalArgumentException("logit range " + maxAbs + " not allowed; allowed: finite > 0");
            }
            return new OutputQuant(bits, maxAbs / ((1 << (bits - 1)) - 1));
        }
    }

    private Exporter() {
    }

    /** Input quantization of unit-scaled 8-bit images: uint8, scale 1/255, zero point 0. */
    public static ActivationSpec unitImageInput(List<Integer> shape) {
        return ActivationSpec.of(shape, 8, false, UNIT_IMAGE_SCALE, 0);
    }

    /** Exports a network whose input is unit-scaled 8-bit images ({@link #unitImageInput}), int32 logits. */
    public static Result export(Model net, String modelName) {
        return export(net, modelName, OutputQuant.int32());
    }

    /** Exports a network whose input is unit-scaled 8-bit images with the given logit quantization. */
    public static Result export(Model net, String modelName, OutputQuant output) {
        return export(net, modelName, unitImageInput(inputShape(net)), output);
    }

    /** Exports a network with the given input and logit quantization. */
    public static Result export(Model net, String modelName, ActivationSpec input, OutputQuant output) {
        return export(net, modelName, input, output, true);
    }

    /**
     * Exports a network with the given input and logit quantization; {@code singleRound} chooses requantization of
     * kind "single_round_multiplier" (one rounding of the exact product; the default) over gemmlowp's "multiplier"
     * (two roundings, bit-exact with TFLite's default kernels).
     */
    public static Result export(Model net, String modelName, ActivationSpec input, OutputQuant output,
                                boolean singleRound) {
        return new ExportRun(ExportNetwork.of(net), input, output, singleRound).run(modelName);
    }

    /** The NCHW input shape (N = 1) of a network ({@link ExportNetwork#inputShape()}). */
    public static List<Integer> inputShape(Model net) {
        return ExportNetwork.of(net).inputShape();
    }

    /** The largest |logit| of the fake-quant model over {@code x} (a calibration batch), for {@link OutputQuant#covering}. */
    public static double maxAbsLogit(Model net, INDArray x) {
        return ExportNetwork.of(net).logits(x).amaxNumber().doubleValue();
    }
}
