package io.qat4j.training.report;

import io.qat4j.layers.nn.QuantLayer;
import io.qat4j.layers.nn.QuantParamInitializer;
import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.observe.Observer;
import io.qat4j.layers.observe.Observers;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.training.model.Network;
import io.qat4j.training.run.EpochMetrics;
import io.qat4j.zoo.LayerKind;
import org.deeplearning4j.nn.api.Layer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The per-layer table of the report, one row per layer of the trained network in network order (a graph's in
 * topological order): kind, parameters, weight and activation precision with their spec strings, the activation
 * ranges the observers saw (from their state in the model), the learned quantizer parameters at the end of each
 * epoch (from {@code metrics.json}) and, for fixed-point training, the last epoch's error and gradient diagnostics.
 */
final class LayerTable {

    /**
     * One layer.
     *
     * @param name       the layer name
     * @param kind       the {@link LayerKind} config name ({@code conv}, {@code dense}, ...)
     * @param type       the configuration's class name
     * @param params     parameter count (including observer state and learned quantizer parameters)
     * @param weights    the weight site's spec, or null (no weights, or not a quantized layer)
     * @param input      the input site's spec, or null
     * @param output     the output site's spec, or null
     * @param observed   the observed activation ranges as text, empty when no site observes
     * @param learned    learned quantizer parameters over epochs as text, empty when the layer has none
     * @param fixedPoint the last epoch's fixed-point diagnostics as text, empty when there are none
     */
    record Row(String name, String kind, String type, long params, QuantSpec weights, QuantSpec input, QuantSpec output,
               String observed, String learned, String fixedPoint) {
    }

    private LayerTable() {
    }

    /** The rows of a trained network, with the metrics of its run. */
    static List<Row> rows(Network net, List<EpochMetrics> epochs, List<Map<String, Object>> fixedPoint) {
        Map<String, String> diagnostics = fixedPointText(fixedPoint);
        List<Row> rows = new ArrayList<>();
        for (Layer l : net.layers()) {
            org.deeplearning4j.nn.conf.layers.Layer conf = l.conf().getLayer();
            String name = conf.getLayerName() == null ? "layer " + l.getIndex() : conf.getLayerName();
            long params = l.paramTable().values().stream().mapToLong(INDArray::length).sum();
            QuantSpec w = null;
            QuantSpec in = null;
            QuantSpec out = null;
            List<String> observed = new ArrayList<>();
            if (conf instanceof QuantLayer q) {
                QuantSites s = q.getQuantSites();
                LayerKind kind = LayerKind.of(conf);
                w = kind.hasWeights() ? s.weights() : null;
                in = s.input().isFloat() ? null : s.input();
                out = s.output().isFloat() ? null : s.output();
                observed(l, s.input(), QuantParamInitializer.INPUT_STATE_KEY, "in", observed);
                observed(l, s.output(), QuantParamInitializer.OUTPUT_STATE_KEY, "out", observed);
            }
            rows.add(new Row(name, LayerKind.of(conf).configName(), conf.getClass().getSimpleName(), params, w, in, out,
                    String.join("; ", observed), learned(l, name, epochs), diagnostics.getOrDefault(name, "")));
        }
        return rows;
    }

    /** The table's markup; the learned and fixed-point columns appear only when some layer has values. */
    static String render(List<Row> rows) {
        boolean learned = rows.stream().anyMatch(r -> !r.learned().isEmpty());
        boolean fixed = rows.stream().anyMatch(r -> !r.fixedPoint().isEmpty());
        List<String> header = new ArrayList<>(List.of("layer", "kind", "parameters", "W bits", "weight spec", "A bits",
                "activation spec", "observed activation range"));
        if (learned) {
            header.add("learned parameters (end of each epoch)");
        }
        if (fixed) {
            header.add("fixed-point training, last epoch");
        }
        Html.Table t = new Html.Table(header.toArray(String[]::new)).css("layers");
        for (Row r : rows) {
            List<Object> cells = new ArrayList<>(List.of(Html.cell(r.name(), "name"),
                    Html.cell(r.kind() + " (" + r.type() + ")", ""), Html.cell(Html.count(r.params()), "num"),
                    Html.cell(bits(r.weights()), "num"), Html.cell(spec(r.weights()), "spec"),
                    Html.cell(activationBits(r), "num"), Html.cell(activationSpecs(r), "spec"),
                    Html.cell(orNone(r.observed()), "")));
            if (learned) {
                cells.add(Html.cell(orNone(r.learned()), ""));
            }
            if (fixed) {
                cells.add(Html.cell(orNone(r.fixedPoint()), ""));
            }
            t.row(cells.toArray());
        }
        return t.render();
    }

    private static String orNone(String s) {
        return s.isEmpty() ? Html.NONE : s;
    }

    /** Bits of a spec ({@code 1} for binary, {@code 2} for ternary), {@code float} for float, {@link Html#NONE} for null. */
    static String bits(QuantSpec spec) {
        return spec == null ? Html.NONE : spec.isFloat() ? "float" : Integer.toString(spec.bits());
    }

    private static String spec(QuantSpec spec) {
        return spec == null ? Html.NONE : spec.toString();
    }

    private static String activationBits(Row r) {
        if (r.input() == null && r.output() == null) {
            return Html.NONE;
        }
        return r.input() == null ? bits(r.output()) : "in " + bits(r.input()) + (r.output() == null ? ""
                : ", out " + bits(r.output()));
    }

    private static String activationSpecs(Row r) {
        if (r.input() == null) {
            return spec(r.output());
        }
        return "in: " + r.input() + (r.output() == null ? "" : "; out: " + r.output());
    }

    /**
     * The range an activation site's observer holds: {@code out [0, 5.31] after 1,200 updates}; per channel the
     * extremes over the channels, with their count.
     */
    private static void observed(Layer l, QuantSpec spec, String key, String site, List<String> out) {
        if (spec.isFloat() || !spec.needsObserver()) {
            return;
        }
        INDArray state = l.paramTable().get(key);
        if (state == null || state.length() == 0) {
            return;
        }
        Observer o = Observers.of(spec.observer());
        INDArray min = o.min(state);
        INDArray max = o.max(state);
        long updates = o.updates(state);
        if (updates == 0) {
            out.add(site + ": no updates");
            return;
        }
        String channels = min.length() > 1 ? String.format(Locale.ROOT, " over %d channels", min.length()) : "";
        out.add(String.format(Locale.ROOT, "%s [%s, %s]%s after %s updates%s", site, Html.num(min.minNumber().doubleValue()),
                Html.num(max.maxNumber().doubleValue()), channels, Html.count(updates), o.frozen(state) ? " (frozen)" : ""));
    }

    /**
     * The learned parameters of a layer, one {@code key: v1 → v2 → v3} per parameter over the epochs of
     * metrics.json ({@code (mean)} for per-channel ones); the model's current value when metrics.json has none.
     */
    private static String learned(Layer l, String name, List<EpochMetrics> epochs) {
        List<String> out = new ArrayList<>();
        for (String key : QuantParamInitializer.learnedKeys(l.conf().getLayer())) {
            INDArray v = l.getParam(key);
            String column = name + "." + key + (v.length() == 1 ? "" : ".mean");
            List<String> values = epochs.stream().map(e -> e.learned().get(column)).filter(x -> x != null && Double.isFinite(x))
                    .map(Html::num).toList();
            if (values.isEmpty()) {
                values = List.of(Html.num(v.meanNumber().doubleValue()));
            }
            out.add(key + (v.length() == 1 ? "" : " (mean)") + ": " + String.join(" → ", values));
        }
        return String.join("; ", out);
    }

    /** Per layer, the last fixed-point entry's paths as text: {@code errors: 0.12% saturated, 3.40% flushed, 6.1 bits}. */
    @SuppressWarnings("unchecked")
    static Map<String, String> fixedPointText(List<Map<String, Object>> entries) {
        Map<String, String> out = new LinkedHashMap<>();
        if (entries.isEmpty()) {
            return out;
        }
        Object layers = entries.get(entries.size() - 1).get("layers");
        if (!(layers instanceof Map<?, ?> byLayer)) {
            return out;
        }
        byLayer.forEach((layer, paths) -> {
            if (paths instanceof Map<?, ?> p) {
                out.put(String.valueOf(layer), ((Map<String, Object>) p).entrySet().stream().map(e -> pathText(e.getKey(),
                        e.getValue())).collect(Collectors.joining("; ")));
            }
        });
        return out;
    }

    private static String pathText(String path, Object stats) {
        Map<?, ?> s = stats instanceof Map<?, ?> m ? m : Map.of();
        return path + ": " + Html.pct(number(s.get("saturated_fraction"))) + " saturated, "
                + Html.pct(number(s.get("flushed_to_zero_fraction"))) + " flushed to zero, "
                + Html.num(number(s.get("bits_in_use"))) + " bits in use";
    }

    static double number(Object o) {
        return o instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
