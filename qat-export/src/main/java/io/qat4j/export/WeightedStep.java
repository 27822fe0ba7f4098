package io.qat4j.export;

import io.qat4j.inference.Requantizer;
import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.inference.format.Requant;
import io.qat4j.layers.fold.BatchNormFold;
import io.qat4j.layers.nn.QuantDepthwiseConv2D;
import io.qat4j.layers.nn.QuantLayer;
import io.qat4j.layers.nn.QuantOutput;
import io.qat4j.layers.nn.QuantParamInitializer;
import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.nn.impl.FusedBnImpl;
import io.qat4j.layers.quant.Granularity;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantKind;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizers;
import io.qat4j.layers.quant.RoundingMode;
import io.qat4j.layers.train.ScaledActivation;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The export steps of a conv / depth-wise conv / dense layer: reading its (folded) weights into a
 * {@link WeightedLayer}, fixing its output quantization at a quantized activation site, and the output layer's
 * logits.
 */
final class WeightedStep {
    /** Weight kinds the export writes. */
    static final Set<QuantKind> WEIGHT_KINDS = EnumSet.of(QuantKind.INT, QuantKind.FIXED, QuantKind.BINARY,
            QuantKind.TERNARY);

    private WeightedStep() {
    }

    /** Starts a weighted layer on input codes {@code in}; the output layer is emitted at once (logits). */
    static ExportRun.Value start(ExportRun run, ExportNetwork.Node n, ExportRun.Codes in, boolean last) {
        Layer l = n.layer();
        String name = n.name();
        QuantSites s = ((QuantLayer) l).getQuantSites();
        if (!s.input().isFloat()) {
            throw new IllegalArgumentException("layer " + name + ": quantized input site " + s.input() + " not "
                    + "supported; the export takes the previous layer's codes as input (input site must be float)");
        }
        QuantSpec ws = s.weights();
        if (!WEIGHT_KINDS.contains(ws.kind())) {
            throw new IllegalArgumentException("layer " + name + ": weight spec " + ws + " not supported; allowed: int, "
                    + "fixed (per tensor or per channel), binary, ternary");
        }
        if (ws.granularity() != Granularity.TENSOR && ws.granularity() != Granularity.CHANNEL) {
            throw new IllegalArgumentException("layer " + name + ": weight spec " + ws + " not supported; allowed: per "
                    + "tensor or per channel");
        }
        if (!s.bias().isFloat()) {
            throw new IllegalArgumentException("layer " + name + ": quantized bias site " + s.bias() + " not supported; "
                    + "the export quantizes the float bias to int32 at scale input_scale * weight_scale");
        }
        WeightedLayer p = new WeightedLayer();
        p.name = name;
        p.source = name;
        p.wSpec = ws;
        INDArray rawW;
        INDArray rawB;
        if (n.impl() instanceof FusedBnImpl<?> fused) {
            BatchNormFold.Folded f = fused.foldedWeights();
            rawW = f.weights();
            rawB = f.bias();
            p.folded = true;
        } else {
            rawW = n.impl().getParam("W");
            rawB = n.impl().paramTable().get("b");
        }
        IActivation act = ((BaseLayer) l).getActivationFn();
        double actScale = 1;
        if (act instanceof ScaledActivation sa) {
            // WAGE's constant layer scale: c·f(z) with c > 0 is folded into the weight scales and the bias.
            actScale = sa.scale();
            act = sa.base();
        }
        int channelAxis;
        if (l instanceof ConvolutionLayer c) {
            List<Integer> shape = in.act().shape();
            if (shape.size() != 4) {
                throw new IllegalArgumentException("layer " + name + " (" + l.getClass().getSimpleName()
                        + ") needs an NCHW input, got shape " + shape);
            }
            boolean depthwise = l instanceof QuantDepthwiseConv2D;
            p.op = depthwise ? "depthwise_conv2d" : "conv2d";
            channelAxis = depthwise ? QuantDepthwiseConv2D.WEIGHT_CHANNEL_AXIS : 0;
            p.window = ExportSupport.Window.of(name, c.getConvolutionMode(), c.getKernelSize(), c.getStride(),
                    c.getPadding(), c.getDilation(), shape.get(2), shape.get(3));
            long outC = depthwise ? shape.get(1) * ((QuantDepthwiseConv2D) l).getDepthMultiplier() : c.getNOut();
            p.outShape = List.of(1, (int) outC, p.window.outH(), p.window.outW());
        } else {
            if (in.act().shape().size() == 4) {
                in = run.flatten(n, in);
            }
            p.op = "dense";
            channelAxis = 1;
            p.outShape = List.of(1, (int) ((FeedForwardLayer) l).getNOut());
        }
        p.in = in.act();
        p.inName = in.name();
        p.quantizeWeights(rawW, rawB, channelAxis);
        p.scaleOutput(actScale);
        if (l instanceof QuantOutput) {
            if (!last) {
                throw new IllegalArgumentException("layer " + name + " (QuantOutput) must be the last layer");
            }
            if (!(act instanceof ActivationSoftmax || act instanceof ActivationIdentity)) {
                throw new IllegalArgumentException("layer " + name + ": output activation " + act + " not supported; "
                        + "allowed: softmax, identity (the export yields logits)");
            }
            return logits(run, p);
        }
        p.clip(name, act, actScale);
        if (!s.output().isFloat()) {
            return resolve(run, p, s.output(), n.impl().getParam(QuantParamInitializer.OUTPUT_STATE_KEY), name);
        }
        return new ExportRun.Layer1(p);
    }

    /** Emits the weighted layer with the output quantization of {@code spec} (and its buffered pools). */
    static ExportRun.Codes resolve(ExportRun run, WeightedLayer p, QuantSpec spec, INDArray state, String siteLayer) {
        ExportRun.Codes out;
        if (spec.kind() == QuantKind.BINARY) {
            if (spec.scaled()) {
                throw new IllegalArgumentException("layer " + siteLayer + ": activation spec " + spec + " scales each "
                        + "batch by its mean |x|, which has no fixed integer form; use binary (no scale) for activations");
            }
            if (p.clipLo >= 0) {
                throw new IllegalArgumentException("layer " + siteLayer + ": binary activation after ReLU is constant +1");
            }
            double scale = Quantizers.of(spec).forward(Nd4j.ones(DataType.FLOAT, 1, 1),
                    new QuantContext(-1, null, null, 0L, false)).output().getDouble(0);
            out = run.emit(p.emit(Requant.sign(), ActivationSpec.binary(p.outShape, scale), -1, 1, run.tensors()),
                    p.source);
        } else {
            ActivationSpec act = ExportSupport.activation(siteLayer, spec, state, p.outShape);
            int lo = Math.max(ExportSupport.codeBound(p.clipLo, act, act.qmin()), spec.qmin());
            int hi = Math.min(ExportSupport.codeBound(p.clipHi, act, act.qmax()), spec.qmax());
            double[] reals = new double[p.sw.length];
            for (int c = 0; c < reals.length; c++) {
                reals[c] = p.in.scale() * Math.abs(p.sw[c]) / act.scale();
            }
            // The fake-quant site rounds half to even by default; the requantization reproduces its tie rule (ties
            // are frequent when every scale is a power of two, as in WAGE).
            boolean tiesToEven = spec.rounding() == RoundingMode.NEAREST_EVEN;
            out = run.emit(p.emit(Requantizer.requant(run.singleRound(), tiesToEven, reals), act, lo, hi,
                    run.tensors()), p.source);
        }
        for (ExportRun.Pool pool : p.pools) {
            out = run.emitPool(pool, out);
        }
        return out;
    }

    /**
     * Emits the output layer: int32 logits at scale s_x·min_c s_w[c] (no rounding beyond the bias), or N-bit
     * logits at the export's output scale. Logits have no DL4J counterpart to compare with (DL4J applies softmax).
     */
    private static ExportRun.Codes logits(ExportRun run, WeightedLayer p) {
        Exporter.OutputQuant oq = run.outputQuant();
        double[] reals = new double[p.sw.length];
        ExportRun.Codes out;
        if (oq.bits() == 32) {
            double minSw = Double.MAX_VALUE;
            for (double s : p.sw) {
                minSw = Math.min(minSw, Math.abs(s));
            }
            double sOut = p.in.scale() * minSw;
            for (int c = 0; c < reals.length; c++) {
                reals[c] = p.in.scale() * Math.abs(p.sw[c]) / sOut;
            }
            ActivationSpec act = ActivationSpec.of(p.outShape, 32, true, sOut, 0);
            LayerSpec spec = p.emit(Requantizer.multipliers(run.singleRound(), reals), act, act.qmin(), act.qmax(),
                    run.tensors());
            out = run.emit(spec, null);
        } else {
            ActivationSpec act = ActivationSpec.of(p.outShape, oq.bits(), true, oq.scale(), 0);
            for (int c = 0; c < reals.length; c++) {
                reals[c] = p.in.scale() * Math.abs(p.sw[c]) / act.scale();
            }
            out = run.emit(p.emit(Requantizer.requant(run.singleRound(), reals), act, act.qmin(), act.qmax(),
                    run.tensors()), null);
        }
        return out;
    }
}
