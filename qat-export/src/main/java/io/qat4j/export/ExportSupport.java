package io.qat4j.export;

import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.layers.observe.Observer;
import io.qat4j.layers.observe.Observers;
import io.qat4j.layers.quant.Granularity;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantKind;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizers;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationHardTanH;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

/** Quantization arithmetic the export steps share: activation quantizations, clip ranges and code bounds, geometry. */
final class ExportSupport {
    private ExportSupport() {
    }

    /**
     * The quantized activation of a site: bits, signedness, scale and zero point from the site's quantizer
     * applied (as the fake-quant layer does) with the observer's range from the state parameter.
     */
    static ActivationSpec activation(String layer, QuantSpec spec, INDArray state, List<Integer> shape) {
        if (spec.isFloat()) {
            throw new IllegalArgumentException("layer " + layer + ": float activation site where integer codes are "
                    + "needed");
        }
        if (spec.kind() != QuantKind.INT && spec.kind() != QuantKind.FIXED) {
            throw new IllegalArgumentException("layer " + layer + ": activation spec " + spec + " not supported; "
                    + "allowed: int or fixed (per tensor)");
        }
        if (spec.granularity() != Granularity.TENSOR) {
            throw new IllegalArgumentException("layer " + layer + ": activation spec " + spec + " is not per tensor; "
                    + "the export format has one scale per activation tensor");
        }
        QuantContext ctx = new QuantContext(-1, null, null, 0L, false);
        if (spec.needsObserver()) {
            Observer obs = Observers.of(spec.observer());
            if (state == null || obs.updates(state) == 0) {
                throw new IllegalArgumentException("layer " + layer + ": the observer of " + spec + " has seen no data; "
                        + "train the model before exporting it");
            }
            ctx = ctx.withRange(obs.min(state), obs.max(state));
        } else if (spec.kind() == QuantKind.INT) {
            throw new IllegalArgumentException("layer " + layer + ": activation spec " + spec + " derives its range "
                    + "from each batch (no observer), which has no fixed integer scale; use an observer");
        }
        QuantResult r = Quantizers.of(spec).forward(Nd4j.zeros(DataType.FLOAT, 1, 1), ctx);
        double scale = r.scale().getDouble(0);
        int zp = (int) Math.round(r.zeroPoint().getDouble(0));
        return ActivationSpec.of(shape, spec.bits(), spec.signed(), scale, zp);
    }

    /**
     * The code of a real clip bound at an activation quantization, clamp(rint(bound/s) + z) (the quantizer maps a
     * clipped value there; rounding is monotone, so clipping before quantizing equals clamping the codes); an infinite
     * bound gives {@code dflt}.
     */
    static int codeBound(double bound, ActivationSpec act, int dflt) {
        if (Double.isInfinite(bound)) {
            return dflt;
        }
        double q = Math.rint(bound / act.scale()) + act.zeroPoint();
        return (int) Math.max(act.qmin(), Math.min(act.qmax(), q));
    }

    /**
     * The clip range [lo, hi] of a supported activation: ReLU [0, inf), hard tanh [-1, 1]; null for identity; anything
     * else is rejected.
     */
    static double[] clipRange(String name, IActivation a) {
        if (a == null || a instanceof ActivationIdentity) {
            return null;
        }
        if (a instanceof ActivationReLU r && (r.getMax() == null || Double.isInfinite(r.getMax()))
                && (r.getThreshold() == null || r.getThreshold() == 0) && (r.getNegativeSlope() == null
                || r.getNegativeSlope() == 0)) {
            return new double[] {0, Double.POSITIVE_INFINITY};
        }
        if (a instanceof ActivationHardTanH) {
            return new double[] {-1, 1};
        }
        throw new IllegalArgumentException("layer " + name + ": activation " + a + " not supported; allowed: relu, "
                + "hardtanh, identity (softmax on the output layer)");
    }

    /** One value per channel from a per-tensor (1 value) or per-channel quantization parameter. */
    static double[] perChannel(INDArray v, int channels) {
        double[] d = v.castTo(DataType.DOUBLE).dup().data().asDouble();
        if (d.length == channels) {
            return d;
        }
        if (d.length == 1) {
            double[] out = new double[channels];
            java.util.Arrays.fill(out, d[0]);
            return out;
        }
        throw new IllegalStateException("expected 1 or " + channels + " quantization parameters, got " + d.length);
    }

    /**
     * Window geometry of a convolution or pooling layer on an input of {@code in} rows / columns: the explicit
     * padding {@code [top, left, bottom, right]} and the output size. Truncate / Strict use the layer's symmetric
     * padding; Same pads as DL4J does (output ceil(in / stride), the top-left padding half the total, the rest at the
     * bottom-right).
     */
    record Window(int[] kernel, int[] stride, int[] padding, int[] dilation, int outH, int outW) {
        static Window of(String layer, ConvolutionMode mode, int[] kernel, int[] stride, int[] pad, int[] dilation,
                         int inH, int inW) {
            if (mode == ConvolutionMode.Same) {
                int outH = (inH + stride[0] - 1) / stride[0];
                int outW = (inW + stride[1] - 1) / stride[1];
                int totalH = Math.max(0, (outH - 1) * stride[0] + dilation[0] * (kernel[0] - 1) + 1 - inH);
                int totalW = Math.max(0, (outW - 1) * stride[1] + dilation[1] * (kernel[1] - 1) + 1 - inW);
                return new Window(kernel, stride, new int[] {totalH / 2, totalW / 2, totalH - totalH / 2,
                    totalW - totalW / 2}, dilation, outH, outW);
            }
            if (mode != null && mode != ConvolutionMode.Truncate && mode != ConvolutionMode.Strict) {
                throw new IllegalArgumentException("layer " + layer + ": convolution mode " + mode + " not supported; "
                        + "allowed: Truncate, Strict (explicit padding), Same");
            }
            return new Window(kernel, stride, new int[] {pad[0], pad[1], pad[0], pad[1]}, dilation,
                    outSize(inH, kernel[0], stride[0], 2 * pad[0], dilation[0]),
                    outSize(inW, kernel[1], stride[1], 2 * pad[1], dilation[1]));
        }

        private static int outSize(int in, int k, int s, int padTotal, int d) {
            return Math.floorDiv(in + padTotal - d * (k - 1) - 1, s) + 1;
        }
    }
}
