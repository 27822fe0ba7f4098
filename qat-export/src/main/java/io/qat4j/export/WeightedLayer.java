package io.qat4j.export;

import io.qat4j.inference.AccumulatorWidth;
import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.Formats;
import io.qat4j.inference.format.IntTensor;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.inference.format.Requant;
import io.qat4j.inference.format.TensorSpec;
import io.qat4j.layers.fold.BatchNormFold;
import io.qat4j.layers.quant.Granularity;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantKind;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizers;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A conv / depth-wise conv / dense layer on its way into the export: its weight codes, per-channel scales and
 * zero points, its real bias, a batch normalization folded into them, the clip of its activation, and the max
 * pools buffered behind it, until a quantized activation site fixes its output quantization.
 */
final class WeightedLayer {
    String name;
    /** conv2d, depthwise_conv2d or dense. */
    String op;
    /** The DL4J node whose (float) activation the output codes represent. */
    String source;
    String inName;
    ActivationSpec in;
    QuantSpec wSpec;
    /** Weight codes in the engine's layout ([O, C, kH, kW], [C·M, 1, kH, kW] or [O, F]), C order. */
    int[] codes;
    List<Integer> wShape;
    /** Per output channel: weight scale (times the folded BN factor; may be negative) and zero point. */
    double[] sw;
    int[] zw;
    /** Real bias per output channel (folded BN included), or null. */
    double[] bias;
    ExportSupport.Window window;
    int depthMultiplier = 1;
    List<Integer> outShape;
    double clipLo = Double.NEGATIVE_INFINITY;
    double clipHi = Double.POSITIVE_INFINITY;
    boolean folded;
    /** Max pools after the layer, applied to its codes (max pooling commutes with the monotone requantization). */
    final List<ExportRun.Pool> pools = new ArrayList<>();

    boolean clipped() {
        return !Double.isInfinite(clipLo) || !Double.isInfinite(clipHi);
    }

    /** The shape after the buffered pools. */
    List<Integer> shapeAfterPools() {
        return pools.isEmpty() ? outShape : pools.get(pools.size() - 1).outShape();
    }

    void clip(String layer, IActivation a) {
        clip(layer, a, 1);
    }

    /** The clip of {@code scale · a(z)} (scale > 0): a's range times the scale. */
    void clip(String layer, IActivation a, double scale) {
        double[] r = ExportSupport.clipRange(layer, a);
        if (r != null) {
            clipLo = Math.max(clipLo, r[0] * scale);
            clipHi = Math.min(clipHi, r[1] * scale);
        }
    }

    /**
     * Folds a constant output scale c > 0 (WAGE's 1/α) into the layer: c·(conv(x, s_w·q) + b) = conv(x, (c·s_w)·q)
     * + c·b, so the codes stay those of the fake-quant weights. Requires c·f(z) = f(c·z) up to the scaled clip range,
     * which holds for identity, ReLU and hard tanh.
     */
    void scaleOutput(double c) {
        if (c == 1) {
            return;
        }
        for (int k = 0; k < sw.length; k++) {
            sw[k] *= c;
        }
        if (bias != null) {
            for (int k = 0; k < bias.length; k++) {
                bias[k] *= c;
            }
        }
    }

    /**
     * Quantizes the weights as the fake-quant layer does at inference and keeps codes, scales and zero points in the
     * engine's layout. {@code channelAxis} is the DL4J layout's per-channel axis.
     */
    void quantizeWeights(INDArray w, INDArray b, int channelAxis) {
        int axis = wSpec.granularity() == Granularity.TENSOR ? -1 : channelAxis;
        QuantResult r = Quantizers.of(wSpec).forward(w, new QuantContext(axis, null, null, 0L, false));
        INDArray c = r.codes();
        int channels = outShape.get(1);
        double[] scales;
        double[] zeros;
        if (op.equals("dense")) {
            c = c.transpose();
            scales = ExportSupport.perChannel(r.scale(), channels);
            zeros = ExportSupport.perChannel(r.zeroPoint(), channels);
        } else if (op.equals("depthwise_conv2d")) {
            // DL4J [kH, kW, C, M] -> [C*M, 1, kH, kW]: output channel c*M + m reads input channel c
            long kh = c.size(0);
            long kw = c.size(1);
            int inC = (int) c.size(2);
            depthMultiplier = (int) c.size(3);
            c = c.permute(2, 3, 0, 1).dup('c').reshape('c', (long) inC * depthMultiplier, 1, kh, kw);
            double[] sIn = ExportSupport.perChannel(r.scale(), inC);
            double[] zIn = ExportSupport.perChannel(r.zeroPoint(), inC);
            scales = new double[channels];
            zeros = new double[channels];
            for (int o = 0; o < channels; o++) {
                scales[o] = sIn[o / depthMultiplier];
                zeros[o] = zIn[o / depthMultiplier];
            }
        } else {
            scales = ExportSupport.perChannel(r.scale(), channels);
            zeros = ExportSupport.perChannel(r.zeroPoint(), channels);
        }
        c = c.castTo(DataType.DOUBLE).dup('c');
        double[] cd = c.data().asDouble();
        codes = new int[cd.length];
        for (int k = 0; k < cd.length; k++) {
            codes[k] = (int) Math.round(cd[k]);
        }
        wShape = new ArrayList<>();
        for (long d : c.shape()) {
            wShape.add((int) d);
        }
        sw = scales;
        zw = new int[channels];
        for (int k = 0; k < channels; k++) {
            zw[k] = (int) Math.round(zeros[k]);
        }
        bias = b == null ? null : b.castTo(DataType.DOUBLE).dup().data().asDouble();
    }

    /**
     * Folds a following batch normalization into the quantized layer: y = g·(conv(x, s_w·q) + b − μ) + β with
     * g = γ/sqrt(σ²+ε) per channel is conv(x, (g·s_w)·q) + g·(b − μ) + β, so the codes stay those of the fake-quant
     * weights and only the per-channel scale and the bias change (exactly what the fake-quant model computes).
     */
    void foldBatchNorm(BatchNormFold.Stats st) {
        double[] g = st.factor().castTo(DataType.DOUBLE).dup().data().asDouble();
        double[] mu = st.mean().castTo(DataType.DOUBLE).dup().data().asDouble();
        double[] beta = st.beta().castTo(DataType.DOUBLE).dup().data().asDouble();
        if (g.length != sw.length) {
            throw new IllegalArgumentException("layer " + name + ": batch normalization has " + g.length
                    + " channels, the layer " + sw.length);
        }
        double[] nb = new double[sw.length];
        for (int c = 0; c < sw.length; c++) {
            sw[c] *= g[c];
            nb[c] = ((bias == null ? 0 : bias[c]) - mu[c]) * g[c] + beta[c];
        }
        bias = nb;
        folded = true;
    }

    /**
     * The layer spec with its tensors: weight codes (a channel with a negative folded scale gets negated codes and a
     * positive scale), the int32 bias at scale s_x·s_w[c] (floor for sign outputs, which keeps acc &gt;= 0 exact),
     * the requantization and the clamp [lo, hi].
     */
    LayerSpec emit(Requant requant, ActivationSpec out, int lo, int hi, Map<String, IntTensor> tensors) {
        int channels = outShape.get(1);
        boolean sign = Requant.SIGN.equals(requant.kind());
        int[] wCodes = codes.clone();
        int perChannel = wCodes.length / channels;
        List<Double> swList = new ArrayList<>();
        List<Integer> zwList = new ArrayList<>();
        boolean zeroWeightsZp = true;
        for (int c = 0; c < channels; c++) {
            double sc = sw[c];
            if (sc < 0) {
                if (zw[c] != 0) {
                    throw new IllegalArgumentException("layer " + name + ": channel " + c + " has a negative folded "
                            + "scale and weight zero point " + zw[c] + "; negating its codes needs zero point 0");
                }
                for (int k = c * perChannel; k < (c + 1) * perChannel; k++) {
                    wCodes[k] = -wCodes[k];
                    if (wCodes[k] > wSpec.qmax()) {
                        throw new IllegalArgumentException("layer " + name + ": channel " + c + " has a negative "
                                + "folded scale and the code " + (-wCodes[k]) + ", whose negation does not fit "
                                + wSpec + "; use a narrow (symmetric) weight range");
                    }
                }
                sc = -sc;
            }
            swList.add(sc);
            zwList.add(zw[c]);
            zeroWeightsZp &= zw[c] == 0;
        }
        String kind = wSpec.kind().specName();
        int wBits = wSpec.kind() == QuantKind.BINARY ? 1 : wSpec.kind() == QuantKind.TERNARY ? 2 : wSpec.bits();
        boolean wSigned = wSpec.kind() == QuantKind.BINARY || wSpec.kind() == QuantKind.TERNARY || wSpec.signed();
        TensorSpec wt = new TensorSpec(name + ".weight.npy", wShape, Formats.dtypeFor(Math.max(wBits, 2), wSigned),
                wBits, wSigned, kind, 0, swList, zwList, null);
        tensors.put(wt.file(), IntTensor.of(wShape, wCodes));
        TensorSpec bt = bias == null ? null : biasTensor(swList, sign, tensors);
        int fanIn = op.equals("dense") ? perChannel : wShape.get(1) * wShape.get(2) * wShape.get(3);
        boolean signWeights = wSpec.kind() == QuantKind.BINARY || wSpec.kind() == QuantKind.TERNARY;
        int inBits = in.isBinary() ? 1 : AccumulatorWidth.operandBits(in.bits(), in.signed(), in.zeroPoint());
        int accBits = AccumulatorWidth.required(inBits + (in.isBinary() ? 1 : 0),
                signWeights ? 1 : AccumulatorWidth.operandBits(wBits, wSigned, zeroWeightsZp ? 0 : 1), fanIn,
                bt != null);
        String engineOp = signWeights ? wSpec.kind().specName() + "_" + op : op;
        LayerSpec.Builder b = LayerSpec.builder(name, engineOp, inName).inputShapes(in.shape()).output(out)
                .weights(wt).requant(requant).accumulatorBits(accBits);
        if (!sign) {
            b.clamp(lo, hi);
        }
        if (bt != null) {
            b.bias(bt);
        }
        if (window != null) {
            int[] p = window.padding();
            b.kernel(window.kernel()[0], window.kernel()[1]).stride(window.stride()[0], window.stride()[1])
                    .padding(p[0], p[1], p[2], p[3]).dilation(window.dilation()[0], window.dilation()[1]);
        }
        if (op.equals("depthwise_conv2d")) {
            b.depthMultiplier(depthMultiplier);
        }
        return b.build();
    }

    private TensorSpec biasTensor(List<Double> swList, boolean sign, Map<String, IntTensor> tensors) {
        int channels = swList.size();
        int[] bq = new int[channels];
        List<Double> bScale = new ArrayList<>();
        for (int c = 0; c < channels; c++) {
            double s = in.scale() * swList.get(c);
            double v = bias[c] / s;
            // Sign outputs compare acc + b with 0 for an integer acc: floor(b) keeps that comparison exact.
            double q = sign ? Math.floor(v) : Math.rint(v);
            if (!(q <= Integer.MAX_VALUE && q >= Integer.MIN_VALUE)) {
                throw new IllegalArgumentException("layer " + name + ": bias " + bias[c] + " of channel " + c
                        + " does not fit int32 at scale " + s);
            }
            bq[c] = (int) q;
            bScale.add(s);
        }
        TensorSpec bt = new TensorSpec(name + ".bias.npy", List.of(channels), "int32", 32, true, "bias", 0, bScale,
                Collections.nCopies(channels, 0), null);
        tensors.put(bt.file(), IntTensor.of(List.of(channels), bq));
        return bt;
    }
}
