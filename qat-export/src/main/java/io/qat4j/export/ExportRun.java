package io.qat4j.export;

import io.qat4j.inference.Requantizer;
import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.IntTensor;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.inference.format.Manifest;
import io.qat4j.layers.fold.BatchNormFold;
import io.qat4j.layers.nn.ChannelPadVertex;
import io.qat4j.layers.nn.DeviationBatchNorm;
import io.qat4j.layers.nn.QuantActivation;
import io.qat4j.layers.nn.QuantAddVertex;
import io.qat4j.layers.nn.QuantLayer;
import io.qat4j.layers.nn.QuantParamInitializer;
import io.qat4j.layers.nn.QuantSeparableConv2D;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.RoundingMode;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One export pass over a network: walks its nodes in topological order and keeps, for each node, what its output
 * is in the export — integer codes of an emitted layer, or a float result waiting for the quantized activation
 * site that fixes its output quantization (a conv / dense layer with its folded normalization, activation clip
 * and max pools; a residual addition; a global average pooling). See {@link Exporter} for the arithmetic.
 */
final class ExportRun {
    /** What a node's output is in the export. */
    sealed interface Value permits Codes, Layer1, Add, Gap {
    }

    /** Integer codes of the emitted layer {@code name}. */
    record Codes(String name, ActivationSpec act) implements Value {
    }

    /** A conv / dense layer awaiting its output quantization. */
    record Layer1(WeightedLayer layer) implements Value {
    }

    /** A residual addition of two code tensors awaiting its output quantization (and the clip of its activation). */
    static final class Add implements Value {
        final String name;
        final Codes a;
        final Codes b;
        double clipLo = Double.NEGATIVE_INFINITY;
        double clipHi = Double.POSITIVE_INFINITY;

        Add(String name, Codes a, Codes b) {
            this.name = name;
            this.a = a;
            this.b = b;
        }
    }

    /** A global average pooling of codes awaiting its output quantization. */
    record Gap(String name, Codes in) implements Value {
    }

    /** A max pooling buffered behind a weighted layer. */
    record Pool(String name, String source, ExportSupport.Window window, List<Integer> outShape) {
    }

    /** Left shift of the residual addition's inputs (TFLite's 20 for inputs up to 8 bits). */
    private static final int ADD_LEFT_SHIFT = 20;

    private final ExportNetwork net;
    private final ActivationSpec input;
    private final Exporter.OutputQuant outputQuant;
    private final boolean singleRound;
    private final List<LayerSpec> layers = new ArrayList<>();
    private final Map<String, IntTensor> tensors = new HashMap<>();
    private final Map<String, String> sources = new LinkedHashMap<>();
    private final Map<String, Value> values = new HashMap<>();
    private final Set<String> consumedPending = new HashSet<>();

    ExportRun(ExportNetwork net, ActivationSpec input, Exporter.OutputQuant outputQuant, boolean singleRound) {
        this.net = net;
        this.input = input;
        this.outputQuant = outputQuant;
        this.singleRound = singleRound;
        values.put("input", new Codes("input", input));
    }

    Exporter.Result run(String modelName) {
        ExportNetwork.Node out = net.output();
        for (ExportNetwork.Node n : net.nodes()) {
            values.put(n.name(), step(n, n == out));
        }
        for (Map.Entry<String, Value> e : values.entrySet()) {
            if (!(e.getValue() instanceof Codes) && !consumedPending.contains(e.getKey())) {
                throw new IllegalArgumentException("layer " + e.getKey() + ": float output site where integer codes are "
                        + "needed (no quantized activation follows it)");
            }
        }
        ExportModel m = new ExportModel(Manifest.of(modelName, List.of("npy"), input, layers), tensors);
        return new Exporter.Result(m, java.util.Collections.unmodifiableMap(sources));
    }

    /** The value of input {@code k} of a node; a float value may feed one node only. */
    private Value in(ExportNetwork.Node n, int k) {
        String name = n.inputs().get(k);
        Value v = values.get(name);
        if (!(v instanceof Codes) && !consumedPending.add(name)) {
            throw new IllegalArgumentException("layer " + name + ": its float output feeds several layers; quantize it "
                    + "(a QuantActivation or the layer's output site) before it branches");
        }
        return v;
    }

    private Codes codes(ExportNetwork.Node n, Value v) {
        if (v instanceof Codes c) {
            return c;
        }
        throw new IllegalArgumentException("layer " + pendingName(v) + ": float output site where integer codes are "
                + "needed (layer " + n.name() + " follows without a quantized activation in between)");
    }

    private static String pendingName(Value v) {
        if (v instanceof Layer1 l) {
            return l.layer().name;
        }
        return v instanceof Add a ? a.name : v instanceof Gap g ? g.name() : ((Codes) v).name();
    }

    private Value step(ExportNetwork.Node n, boolean last) {
        if (n.layer() == null) {
            return vertex(n);
        }
        Layer l = n.layer();
        String name = n.name();
        if (l instanceof QuantSeparableConv2D) {
            throw new IllegalArgumentException("layer " + name + " (QuantSeparableConv2D) not supported: its depth-wise "
                    + "result is not quantized before the point-wise product; build it as QuantDepthwiseConv2D and a "
                    + "1x1 QuantConv2D for export");
        }
        if (l instanceof QuantLayer && !(l instanceof QuantActivation)) {
            Codes c = codes(n, in(n, 0));
            return WeightedStep.start(this, n, c, last);
        }
        Value v = in(n, 0);
        if (l instanceof QuantActivation qa) {
            if (v instanceof Codes) {
                throw new IllegalArgumentException("layer " + name + " (QuantActivation) must follow a conv / dense "
                        + "layer, a residual addition or a global average pooling whose output is float; requantizing "
                        + "an already quantized activation is not supported");
            }
            clip(v, name, qa.getActivationFn());
            return resolve(v, qa.spec(), n.impl().getParam(QuantParamInitializer.OUTPUT_STATE_KEY), name);
        }
        if (l instanceof ActivationLayer a) {
            if (v instanceof Codes c) {
                return activationOnCodes(name, c, a.getActivationFn());
            }
            if (v instanceof Layer1 p && p.layer().pools.isEmpty()) {
                p.layer().source = name;
            }
            clip(v, name, a.getActivationFn());
            return v;
        }
        if (BatchNormFold.isNormalization(l)) {
            if (!(v instanceof Layer1 p) || !p.layer().pools.isEmpty() || p.layer().clipped() || p.layer().folded) {
                throw new IllegalArgumentException("layer " + name + " (" + l.getClass().getSimpleName() + ") can only "
                        + "be exported directly after a conv / dense layer with identity activation, to be folded into it");
            }
            p.layer().foldBatchNorm(BatchNormFold.Stats.of(n.impl()));
            p.layer().source = name;
            if (l instanceof DeviationBatchNorm d) {
                p.layer().clip(name, d.getActivationFn()); // RangeBN / L1BN apply their activation
            }
            return v;
        }
        if (l instanceof SubsamplingLayer s) {
            return maxPool(n, s, v);
        }
        if (l instanceof GlobalPoolingLayer gp) {
            if (gp.getPoolingType() != PoolingType.AVG) {
                throw new IllegalArgumentException("layer " + name + " (GlobalPoolingLayer " + gp.getPoolingType()
                        + ") not supported; allowed: AVG");
            }
            Codes c = codes(n, v);
            if (c.act().shape().size() != 4 || c.act().isBinary()) {
                throw new IllegalArgumentException("layer " + name + ": global average pooling needs NCHW integer codes");
            }
            return new Gap(name, c);
        }
        if (l instanceof DropoutLayer) {
            return v;
        }
        throw new IllegalArgumentException("layer " + name + " (" + l.getClass().getSimpleName() + ") not supported; "
                + "supported: " + Exporter.SUPPORTED);
    }

    private Value vertex(ExportNetwork.Node n) {
        boolean quantAdd = n.vertex() instanceof QuantAddVertex;
        if ((quantAdd || n.vertex() instanceof ElementWiseVertex e && e.getOp() == ElementWiseVertex.Op.Add)
                && n.inputs().size() == 2) {
            Codes a = codes(n, in(n, 0));
            Codes b = codes(n, in(n, 1));
            if (!a.act().shape().equals(b.act().shape()) || a.act().isBinary() || b.act().isBinary()) {
                throw new IllegalArgumentException("vertex " + n.name() + ": residual addition needs integer codes of "
                        + "equal shapes, got " + a.act().shape() + " and " + b.act().shape());
            }
            Add add = new Add(n.name(), a, b);
            if (!quantAdd) {
                return add; // resolved by the quantized activation that follows it
            }
            QuantAddVertex q = (QuantAddVertex) n.vertex();
            if (q.getActivation() == QuantAddVertex.Act.RELU) {
                add.clipLo = 0;
            }
            org.nd4j.linalg.api.ndarray.INDArray state = ((org.deeplearning4j.nn.graph.ComputationGraph) net.model())
                    .getVertex(n.name()).paramTable(false).get(QuantAddVertex.STATE_KEY);
            return resolveAdd(add, q.getSpec(), state, n.name());
        }
        if (n.vertex() instanceof ChannelPadVertex p) {
            Codes c = codes(n, in(n, 0));
            List<Integer> s = c.act().shape();
            if (s.size() != 4) {
                throw new IllegalArgumentException("vertex " + n.name() + ": channel padding needs NCHW codes, got " + s);
            }
            ActivationSpec out = c.act().withShape(List.of(1, s.get(1) + p.getBefore() + p.getAfter(), s.get(2),
                    s.get(3)));
            return emit(LayerSpec.builder(n.name(), "pad_channels", c.name()).inputShapes(s).output(out)
                    .channelPadding(p.getBefore(), p.getAfter()).build(), n.name());
        }
        throw new IllegalArgumentException("vertex " + n.name() + " (" + n.vertex().getClass().getSimpleName()
                + ") not supported; supported: ElementWiseVertex(Add) or QuantAddVertex of two inputs, ChannelPadVertex");
    }

    private void clip(Value v, String layer, org.nd4j.linalg.activations.IActivation a) {
        double[] r = ExportSupport.clipRange(layer, a);
        if (v instanceof Layer1 p) {
            p.layer().clip(layer, a);
        } else if (v instanceof Add add && r != null) {
            add.clipLo = Math.max(add.clipLo, r[0]);
            add.clipHi = Math.min(add.clipHi, r[1]);
        } else if (v instanceof Gap && r != null) {
            throw new IllegalArgumentException("layer " + layer + ": an activation after global average pooling is "
                    + "not supported");
        }
    }

    /** Emits a pending value with the output quantization of {@code spec} (observer state {@code state}). */
    private Codes resolve(Value v, QuantSpec spec, org.nd4j.linalg.api.ndarray.INDArray state, String siteLayer) {
        if (v instanceof Layer1 p) {
            return WeightedStep.resolve(this, p.layer(), spec, state, siteLayer);
        }
        return v instanceof Add a ? resolveAdd(a, spec, state, siteLayer) : resolveGap((Gap) v, spec, state, siteLayer);
    }

    private Codes resolveAdd(Add a, QuantSpec spec, org.nd4j.linalg.api.ndarray.INDArray state, String siteLayer) {
        ActivationSpec out = ExportSupport.activation(siteLayer, spec, state, a.a.act().shape());
        int lo = Math.max(ExportSupport.codeBound(a.clipLo, out, out.qmin()), spec.qmin());
        int hi = Math.min(ExportSupport.codeBound(a.clipHi, out, out.qmax()), spec.qmax());
        double s0 = a.a.act().scale();
        double s1 = a.b.act().scale();
        double twiceMax = 2 * Math.max(s0, s1);
        int maxBits = Math.max(a.a.act().bits(), a.b.act().bits());
        int shift = Math.min(ADD_LEFT_SHIFT, 30 - maxBits);
        boolean tiesToEven = spec.rounding() == RoundingMode.NEAREST_EVEN;
        LayerSpec l = LayerSpec.builder(a.name, "add", a.a.name(), a.b.name())
                .inputShapes(a.a.act().shape(), a.b.act().shape()).output(out)
                .inputRequant(Requantizer.requant(singleRound, s0 / twiceMax),
                        Requantizer.requant(singleRound, s1 / twiceMax), shift)
                .requant(Requantizer.requant(singleRound, tiesToEven, twiceMax / (Math.pow(2, shift) * out.scale())))
                .clamp(lo, hi).build();
        return emit(l, siteLayer);
    }

    private Codes resolveGap(Gap g, QuantSpec spec, org.nd4j.linalg.api.ndarray.INDArray state, String siteLayer) {
        List<Integer> s = g.in().act().shape();
        ActivationSpec out = ExportSupport.activation(siteLayer, spec, state, List.of(1, s.get(1)));
        int positions = s.get(2) * s.get(3);
        boolean tiesToEven = spec.rounding() == RoundingMode.NEAREST_EVEN;
        LayerSpec l = LayerSpec.builder(g.name(), "global_avg_pool", g.in().name()).inputShapes(s).output(out)
                .requant(Requantizer.requant(singleRound, tiesToEven, g.in().act().scale() / (positions * out.scale())))
                .clamp(spec.qmin(), spec.qmax()).build();
        return emit(l, siteLayer);
    }

    /** An activation layer on already quantized codes: ReLU or hard tanh become a clamp of the codes. */
    private Codes activationOnCodes(String name, Codes c, org.nd4j.linalg.activations.IActivation a) {
        double[] range = ExportSupport.clipRange(name, a);
        ActivationSpec act = c.act();
        if (range == null) {
            return c;
        }
        if (act.isBinary()) {
            if (range[0] == -1 && act.scale() <= 1) {
                return c; // hard tanh leaves +-scale alone
            }
            throw new IllegalArgumentException("layer " + name + ": activation " + a + " on binary codes not supported");
        }
        int lo = ExportSupport.codeBound(range[0], act, act.qmin());
        int hi = ExportSupport.codeBound(range[1], act, act.qmax());
        String op = range[0] == 0 && Double.isInfinite(range[1]) ? "relu" : "clamp";
        return emit(LayerSpec.builder(name, op, c.name()).inputShapes(act.shape()).output(act).clamp(lo, hi).build(),
                name);
    }

    private Value maxPool(ExportNetwork.Node n, SubsamplingLayer s, Value v) {
        if (s.getPoolingType() != PoolingType.MAX) {
            throw new IllegalArgumentException("layer " + n.name() + " (SubsamplingLayer " + s.getPoolingType()
                    + ") not supported; allowed: max pooling");
        }
        List<Integer> in = v instanceof Layer1 p ? p.layer().shapeAfterPools() : codes(n, v).act().shape();
        if (in.size() != 4) {
            throw new IllegalArgumentException("layer " + n.name() + " (max pooling) needs an NCHW input, got " + in);
        }
        ExportSupport.Window w = ExportSupport.Window.of(n.name(), s.getConvolutionMode(), s.getKernelSize(),
                s.getStride(), s.getPadding(), s.getDilation(), in.get(2), in.get(3));
        Pool pool = new Pool(n.name(), n.name(), w, List.of(1, in.get(1), w.outH(), w.outW()));
        if (v instanceof Layer1 p) {
            p.layer().pools.add(pool);
            return v;
        }
        return emitPool(pool, (Codes) v);
    }

    Codes emitPool(Pool p, Codes in) {
        ActivationSpec out = in.act().withShape(p.outShape());
        int[] pad = p.window().padding();
        return emit(LayerSpec.builder(p.name(), "max_pool", in.name()).inputShapes(in.act().shape()).output(out)
                .kernel(p.window().kernel()[0], p.window().kernel()[1]).stride(p.window().stride()[0],
                        p.window().stride()[1]).padding(pad[0], pad[1], pad[2], pad[3])
                .dilation(p.window().dilation()[0], p.window().dilation()[1]).build(), p.source());
    }

    /** Emits a flatten of NCHW codes before the dense layer {@code n} (DL4J's CnnToFeedForward, C-H-W order). */
    Codes flatten(ExportNetwork.Node n, Codes c) {
        if (!(n.pre() instanceof CnnToFeedForwardPreProcessor p) || p.getFormat() != CNN2DFormat.NCHW) {
            throw new IllegalArgumentException("layer " + n.name() + ": a dense layer after convolutional activations "
                    + "needs DL4J's NCHW CnnToFeedForward preprocessor, got " + n.pre());
        }
        List<Integer> s = c.act().shape();
        ActivationSpec out = c.act().withShape(List.of(1, s.get(1) * s.get(2) * s.get(3)));
        return emit(LayerSpec.builder(n.name() + "_flatten", "flatten", c.name()).inputShapes(s).output(out).build(),
                null);
    }

    /** Adds a layer to the export; {@code source} is the DL4J node its codes represent (null: none to compare). */
    Codes emit(LayerSpec spec, String source) {
        layers.add(spec);
        if (source != null) {
            sources.put(spec.name(), source);
        }
        return new Codes(spec.name(), spec.output());
    }

    void forgetSource(String layer) {
        sources.remove(layer);
    }

    Map<String, IntTensor> tensors() {
        return tensors;
    }

    boolean singleRound() {
        return singleRound;
    }

    Exporter.OutputQuant outputQuant() {
        return outputQuant;
    }
}
