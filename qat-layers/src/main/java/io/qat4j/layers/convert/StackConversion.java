package io.qat4j.layers.convert;

import io.qat4j.layers.convert.ConversionReport.Entry;
import io.qat4j.layers.nn.QuantSites;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The conversion of a {@code MultiLayerNetwork} (a stack): layer by layer, with a {@code BatchNormalization} folded
 * into the converted conv / dense layer right before it when the options say so (the stack then has one layer
 * less; input preprocessors move with their layers).
 */
final class StackConversion {
    private StackConversion() {
    }

    /**
     * The converted configuration, the float layers each new layer takes its parameters from ({@code {linear, bn}},
     * bn = -1 when none is folded in) and the report.
     */
    record Plan(MultiLayerConfiguration conf, List<int[]> sources, ConversionReport report) {
    }

    static Plan plan(MultiLayerConfiguration floatConf, QuantizationRule rule, QatConverter.Options options,
                     boolean trained) {
        MultiLayerConfiguration out = floatConf.clone();
        int n = out.getConfs().size();
        List<QuantSites> sites = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Layer l = out.getConf(i).getLayer();
            sites.add(rule.sitesFor(i, l.getLayerName(), l));
        }
        List<NeuralNetConfiguration> confs = new ArrayList<>();
        Map<Integer, InputPreProcessor> pre = new HashMap<>();
        List<int[]> sources = new ArrayList<>();
        List<Entry> entries = new ArrayList<>();
        String[] bnKept = new String[n];
        for (int i = 0; i < n; i++) {
            NeuralNetConfiguration nnc = out.getConf(i);
            Layer layer = nnc.getLayer();
            String name = name(layer, i);
            if (out.getInputPreProcess(i) != null) {
                pre.put(confs.size(), out.getInputPreProcess(i));
            }
            boolean replaces = Decisions.replaces(layer, sites.get(i), options);
            String bnBlocker = null;
            if (replaces && options.foldBatchNorm() && i + 1 < n && Decisions.isBatchNorm(out.getConf(i + 1).getLayer())
                    && !Decisions.replaces(out.getConf(i + 1).getLayer(), sites.get(i + 1), options)) {
                BatchNormalization bn = (BatchNormalization) out.getConf(i + 1).getLayer();
                bnBlocker = out.getInputPreProcess(i + 1) != null ? "an input preprocessor sits between them"
                        : LayerTwins.foldBlocker(layer, bn);
                if (bnBlocker == null) {
                    Layer fused = LayerTwins.fuse(layer, bn, sites.get(i), options.bnFrozen(trained));
                    nnc.setLayer(fused);
                    entries.add(Entry.converted(name, layer.getClass().getSimpleName(), fused.getClass().getSimpleName(),
                            Decisions.fusedDetail(sites.get(i), name(bn, i + 1), fused)));
                    entries.add(new Entry(name(bn, i + 1), "BatchNormalization", ConversionReport.Status.FOLDED, name,
                            ""));
                    confs.add(nnc);
                    sources.add(new int[] {i, i + 1});
                    i++;
                    continue;
                }
                bnKept[i + 1] = "not folded into " + name + ": " + bnBlocker;
            }
            if (replaces) {
                Layer q = LayerTwins.convert(layer, sites.get(i));
                nnc.setLayer(q);
                entries.add(Entry.converted(name, layer.getClass().getSimpleName(), q.getClass().getSimpleName(),
                        detail(q)));
            } else {
                String why = bnKept[i] != null ? bnKept[i] : Decisions.keptReason(layer, options);
                if (bnKept[i] == null && options.foldBatchNorm() && Decisions.isBatchNorm(layer)) {
                    why = "not folded: " + (i == 0 ? "it is the first layer"
                            : Decisions.foldBlockerBefore(out.getConf(i - 1).getLayer(), (BatchNormalization) layer));
                }
                entries.add(Entry.kept(name, layer.getClass().getSimpleName(), why));
            }
            confs.add(nnc);
            sources.add(new int[] {i, -1});
        }
        out.setConfs(confs);
        out.setInputPreProcessors(pre);
        return new Plan(out, sources, new ConversionReport(entries));
    }

    /** The twin of a trained network, its parameters copied (a fused layer's from both float layers). */
    static QatConverter.Result<MultiLayerNetwork> convert(MultiLayerNetwork trained, QuantizationRule rule,
                                                          QatConverter.Options options) {
        Plan p = plan(trained.getLayerWiseConfigurations(), rule, options, true);
        MultiLayerNetwork out = new MultiLayerNetwork(p.conf());
        out.init();
        for (int k = 0; k < p.sources().size(); k++) {
            int[] s = p.sources().get(k);
            String where = "layer " + k + " (" + name(out.getLayer(k).conf().getLayer(), k) + ")";
            if (s[1] < 0) {
                Decisions.copyParams(trained.getLayer(s[0]), out.getLayer(k), where);
            } else {
                Decisions.copyFusedParams(trained.getLayer(s[0]), trained.getLayer(s[1]), out.getLayer(k), where);
            }
        }
        return new QatConverter.Result<>(out, p.report());
    }

    static String detail(Layer q) {
        String d = ConversionReport.describe(((io.qat4j.layers.nn.QuantLayer) q).getQuantSites());
        return q instanceof io.qat4j.layers.nn.QuantSeparableConv2D ? d + "; point-wise weights as the weights" : d;
    }

    private static String name(Layer l, int i) {
        return l.getLayerName() == null ? "layer" + i : l.getLayerName();
    }
}
