package io.qat4j.layers.convert;

import io.qat4j.layers.convert.ConversionReport.Entry;
import io.qat4j.layers.convert.ConversionReport.Status;
import io.qat4j.layers.nn.QuantAddVertex;
import io.qat4j.layers.nn.QuantSites;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The conversion of a {@code ComputationGraph}: every layer vertex as the rule says; with the options, a
 * {@code BatchNormalization} whose only input is a converted conv / dense layer (whose only consumer it is) folded
 * into it (the normalization's consumers then read the fused layer), and an {@code ElementWiseVertex(Add)} turned
 * into a {@link QuantAddVertex}, which also takes over a ReLU (or identity) {@code ActivationLayer} that is its only
 * consumer. Other vertices (merge, scale, L2 normalization, ...) and preprocessors are kept.
 */
final class GraphConversion {
    private GraphConversion() {
    }

    /**
     * The converted configuration, the normalization folded into each fused layer (by layer name) and the report.
     */
    record Plan(ComputationGraphConfiguration conf, Map<String, String> foldedBn, ConversionReport report) {
    }

    static Plan plan(ComputationGraphConfiguration floatConf, QuantizationRule rule, QatConverter.Options options,
                     boolean trained) {
        ComputationGraphConfiguration out = floatConf.clone();
        Map<String, GraphVertex> vertices = out.getVertices();
        Map<String, List<String>> inputs = out.getVertexInputs();
        Map<String, List<String>> consumers = new HashMap<>();
        inputs.forEach((v, ins) -> ins.forEach(i -> consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(v)));

        Map<String, QuantSites> sites = new HashMap<>();
        Map<String, Boolean> replaces = new HashMap<>();
        int index = 0;
        for (Map.Entry<String, GraphVertex> e : vertices.entrySet()) {
            if (e.getValue() instanceof LayerVertex lv) {
                Layer l = lv.getLayerConf().getLayer();
                QuantSites s = rule.sitesFor(index++, e.getKey(), l);
                sites.put(e.getKey(), s);
                replaces.put(e.getKey(), Decisions.replaces(l, s, options));
            }
        }

        Map<String, String> absorbedInto = new LinkedHashMap<>();
        Map<String, String> foldedBn = new HashMap<>();
        Map<String, String> keptWhy = new HashMap<>();
        Map<String, QuantAddVertex> adds = new HashMap<>();
        for (Map.Entry<String, GraphVertex> e : vertices.entrySet()) {
            String name = e.getKey();
            if (options.foldBatchNorm() && e.getValue() instanceof LayerVertex lv
                    && Decisions.isBatchNorm(lv.getLayerConf().getLayer()) && !replaces.get(name)) {
                String blocker = foldBlocker(out, name, lv, replaces, consumers);
                if (blocker == null) {
                    String linear = inputs.get(name).get(0);
                    absorbedInto.put(name, linear);
                    foldedBn.put(linear, name);
                } else {
                    keptWhy.put(name, "not folded: " + blocker);
                }
            } else if (e.getValue() instanceof ElementWiseVertex ew && ew.getOp() == ElementWiseVertex.Op.Add) {
                if (options.addSpec() == null) {
                    keptWhy.put(name, "quantizing additions is off");
                } else if (inputs.get(name).size() < 2) {
                    keptWhy.put(name, "an addition of one input");
                } else {
                    String act = mergeableActivation(out, name, consumers);
                    QuantAddVertex.Act a = QuantAddVertex.Act.IDENTITY;
                    if (act != null) {
                        absorbedInto.put(act, name);
                        IActivation f = ((ActivationLayer) ((LayerVertex) vertices.get(act)).getLayerConf().getLayer())
                                .getActivationFn();
                        a = f instanceof ActivationReLU ? QuantAddVertex.Act.RELU : QuantAddVertex.Act.IDENTITY;
                    }
                    adds.put(name, new QuantAddVertex(options.addSpec(), a));
                }
            }
        }

        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, GraphVertex> e : vertices.entrySet()) {
            String name = e.getKey();
            GraphVertex v = e.getValue();
            String from = v instanceof LayerVertex lv ? lv.getLayerConf().getLayer().getClass().getSimpleName()
                    : v instanceof ElementWiseVertex ew ? "ElementWiseVertex(" + ew.getOp() + ")"
                    : v.getClass().getSimpleName();
            if (absorbedInto.containsKey(name)) {
                boolean bn = foldedBn.containsValue(name);
                entries.add(new Entry(name, from, bn ? Status.FOLDED : Status.MERGED, absorbedInto.get(name), ""));
            } else if (adds.containsKey(name)) {
                QuantAddVertex q = adds.get(name);
                entries.add(Entry.converted(name, from, "QuantAddVertex", "output " + q.getSpec()
                        + (q.getActivation() == QuantAddVertex.Act.RELU ? ", relu" : "")));
            } else if (v instanceof LayerVertex lv && replaces.get(name)) {
                Layer l = lv.getLayerConf().getLayer();
                String bn = foldedBn.get(name);
                Layer q = bn == null ? LayerTwins.convert(l, sites.get(name))
                        : LayerTwins.fuse(l, (BatchNormalization) ((LayerVertex) vertices.get(bn)).getLayerConf()
                        .getLayer(), sites.get(name), options.bnFrozen(trained));
                lv.getLayerConf().setLayer(q);
                entries.add(Entry.converted(name, from, q.getClass().getSimpleName(), bn == null
                        ? StackConversion.detail(q) : Decisions.fusedDetail(sites.get(name), bn, q)));
            } else {
                String why = keptWhy.get(name);
                if (why == null) {
                    why = v instanceof LayerVertex lv ? Decisions.keptReason(lv.getLayerConf().getLayer(), options)
                            : "no quantized twin";
                }
                entries.add(Entry.kept(name, from, why));
            }
        }
        adds.forEach(vertices::put);
        for (String gone : absorbedInto.keySet()) {
            vertices.remove(gone);
            inputs.remove(gone);
        }
        inputs.values().forEach(ins -> ins.replaceAll(i -> absorbedInto.getOrDefault(i, i)));
        out.getNetworkOutputs().replaceAll(o -> absorbedInto.getOrDefault(o, o));
        return new Plan(out, foldedBn, new ConversionReport(entries));
    }

    /** Why the normalization vertex {@code bn} is not folded into its input, or null when it is. */
    private static String foldBlocker(ComputationGraphConfiguration conf, String bn, LayerVertex bnVertex,
                                      Map<String, Boolean> replaces, Map<String, List<String>> consumers) {
        List<String> ins = conf.getVertexInputs().get(bn);
        if (ins.size() != 1 || !(conf.getVertices().get(ins.get(0)) instanceof LayerVertex lin)) {
            return "its input " + ins + " is not a layer";
        }
        String linear = ins.get(0);
        BatchNormalization b = (BatchNormalization) bnVertex.getLayerConf().getLayer();
        if (!replaces.get(linear)) {
            return Decisions.foldBlockerBefore(lin.getLayerConf().getLayer(), b);
        }
        if (!List.of(bn).equals(consumers.get(linear)) || conf.getNetworkOutputs().contains(linear)) {
            return linear + "'s output also feeds " + consumers.get(linear);
        }
        if (bnVertex.getPreProcessor() != null) {
            return "an input preprocessor sits between it and " + linear;
        }
        String blocker = LayerTwins.foldBlocker(lin.getLayerConf().getLayer(), b);
        return blocker == null ? null : "into " + linear + ": " + blocker;
    }

    /** The activation layer an addition takes over: its only consumer, a plain ReLU or identity, not an output. */
    private static String mergeableActivation(ComputationGraphConfiguration conf, String add,
                                              Map<String, List<String>> consumers) {
        List<String> c = consumers.get(add);
        if (c == null || c.size() != 1 || conf.getNetworkOutputs().contains(add)
                || !(conf.getVertices().get(c.get(0)) instanceof LayerVertex lv)
                || lv.getLayerConf().getLayer().getClass() != ActivationLayer.class || lv.getPreProcessor() != null
                || conf.getNetworkOutputs().contains(c.get(0))) {
            return null;
        }
        ActivationLayer a = (ActivationLayer) lv.getLayerConf().getLayer();
        IActivation f = a.getActivationFn();
        boolean plainRelu = f instanceof ActivationReLU r && (r.getMax() == null || Double.isInfinite(r.getMax()))
                && (r.getThreshold() == null || r.getThreshold() == 0)
                && (r.getNegativeSlope() == null || r.getNegativeSlope() == 0);
        return a.getIDropout() == null && (plainRelu || f instanceof ActivationIdentity) ? c.get(0) : null;
    }

    /** The twin of a trained graph, its parameters copied by layer name (a fused layer's from both float layers). */
    static QatConverter.Result<ComputationGraph> convert(ComputationGraph trained, QuantizationRule rule,
                                                         QatConverter.Options options) {
        Plan p = plan(trained.getConfiguration(), rule, options, true);
        ComputationGraph out = new ComputationGraph(p.conf());
        out.init();
        for (org.deeplearning4j.nn.api.Layer l : out.getLayers()) {
            String name = l.conf().getLayer().getLayerName();
            String bn = p.foldedBn().get(name);
            if (bn == null) {
                Decisions.copyParams(trained.getLayer(name), l, "layer '" + name + "'");
            } else {
                Decisions.copyFusedParams(trained.getLayer(name), trained.getLayer(bn), l, "layer '" + name + "'");
            }
        }
        for (org.deeplearning4j.nn.graph.vertex.GraphVertex v : trained.getVertices()) {
            org.deeplearning4j.nn.graph.vertex.GraphVertex twin = out.getVertex(v.getVertexName());
            if (!v.hasLayer() && !v.isInputVertex() && v.numParams() > 0 && twin != null
                    && twin.numParams() == v.numParams()) {
                INDArray params = v.params();
                twin.params().assign(params); // e.g. the observer state of a vertex that is already quantized
            }
        }
        return new QatConverter.Result<>(out, p.report());
    }
}
