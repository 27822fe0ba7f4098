package io.qat4j.training.report;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The report's section on the exported integer model ({@code export/manifest.json}) and how the integer-only engine
 * agreed with the fake-quant model ({@code export/simulate.json}, written by {@code qat simulate}): both accuracies,
 * top-1 agreement, output codes, and per exported layer the fraction of codes identical and within 1 LSB, the
 * declared accumulator width and, where the reference engine collected them, the widths seen and overflows.
 */
final class EngineSection {

    private EngineSection() {
    }

    /** The section's markup (without heading), or a note when the run was not exported. */
    static String render(RunData data) {
        JsonNode m = data.manifest();
        JsonNode s = data.simulate();
        if (m == null) {
            return "<p class=\"note\">" + Html.esc("Not exported: run 'qat export " + data.dir().root() + "' and then "
                    + "'qat simulate " + RunData.exportDir(data.dir()) + "' to compare the integer-only engine with the "
                    + "fake-quant model.") + "</p>\n";
        }
        StringBuilder sb = new StringBuilder();
        if (s == null) {
            sb.append("<p class=\"note\">").append(Html.esc("Exported (" + RunData.exportDir(data.dir()) + ") but not "
                    + "simulated: run 'qat simulate " + RunData.exportDir(data.dir()) + "' for the engine agreement."))
                    .append("</p>\n");
        } else {
            sb.append(summary(s).render());
        }
        sb.append(layers(m, s).render());
        if (s != null) {
            List<String> names = new ArrayList<>();
            List<Double> identical = new ArrayList<>();
            List<Double> within = new ArrayList<>();
            for (JsonNode l : s.path("layers")) {
                names.add(l.path("name").asText());
                identical.add(l.path("identical_fraction").asDouble());
                within.add(l.path("within_1_lsb_fraction").asDouble());
            }
            names.add("logits");
            identical.add(s.path("output_identical_fraction").asDouble());
            within.add(s.path("output_within_1_lsb_fraction").asDouble());
            sb.append(Html.pngImage(Charts.agreement(names, identical, within),
                    "bar chart: per exported layer, the fraction of engine codes identical to and within 1 LSB of the "
                            + "fake-quant model's"));
        }
        return sb.toString();
    }

    private static Html.Table summary(JsonNode s) {
        Html.Table t = new Html.Table("", "").css("kv agreement");
        t.row("test images simulated", Html.count(s.path("examples").asLong()));
        t.row("engine", text(s, "engine"));
        t.row("integer engine accuracy", Html.pct(number(s, "engine_accuracy")));
        t.row("fake-quant model accuracy", Html.pct(number(s, "fake_quant_accuracy")));
        t.row("top-1 agreement", Html.pct(number(s, "top1_agreement")));
        t.row("output (int" + s.path("output_bits").asInt() + " logits) codes identical",
                Html.pct(number(s, "output_identical_fraction")));
        t.row("output codes within 1 LSB", Html.pct(number(s, "output_within_1_lsb_fraction")));
        t.row("output codes: largest difference", s.path("output_max_abs_diff_lsb").asLong() + " LSB");
        t.row("accumulator width simulated", s.path("accumulator_bits").asInt() + " bits, overflow "
                + text(s, "overflow"));
        t.row("engine speed", Html.num(number(s, "engine_images_per_second")) + " images/s");
        return t;
    }

    /** One row per exported layer: the manifest's shape and widths, joined with simulate.json's agreement. */
    private static Html.Table layers(JsonNode m, JsonNode s) {
        Map<String, JsonNode> agreement = byName(s == null ? null : s.path("layers"));
        Map<String, JsonNode> accumulators = byName(s == null ? null : s.path("accumulators"));
        Html.Table t = new Html.Table("exported layer", "op", "output", "weight bits", "accumulator bits (declared)",
                "accumulator bits seen", "overflows", "compared with", "codes identical", "within 1 LSB",
                "max |diff|").css("engine");
        JsonNode all = m.path("layers");
        for (int i = 0; i < all.size(); i++) {
            JsonNode l = all.get(i);
            String name = l.path("name").asText();
            JsonNode a = agreement.get(name);
            JsonNode acc = accumulators.get(name);
            boolean logits = i == all.size() - 1 && s != null;
            JsonNode out = l.path("output");
            String output = (out.path("binary").asBoolean() ? "binary" : (out.path("signed").asBoolean(true) ? "int" : "uint")
                    + out.path("bits").asInt()) + " " + shape(out.path("shape"));
            t.row(Html.cell(name, "name"), l.path("op").asText(), output,
                    Html.cell(l.has("weights") ? l.path("weights").path("bits").asText() : Html.NONE, "num"),
                    Html.cell(l.has("accumulator_bits") ? l.path("accumulator_bits").asText() : Html.NONE, "num"),
                    Html.cell(acc == null ? Html.NONE : acc.path("bits_seen").asText(), "num"),
                    Html.cell(acc == null ? Html.NONE : Html.count(acc.path("overflows").asLong()), "num"),
                    logits ? "logits" : a == null ? Html.NONE : a.path("compared_with").asText(),
                    Html.cell(logits ? Html.pct(number(s, "output_identical_fraction"))
                            : a == null ? Html.NONE : Html.pct(number(a, "identical_fraction")), "num"),
                    Html.cell(logits ? Html.pct(number(s, "output_within_1_lsb_fraction"))
                            : a == null ? Html.NONE : Html.pct(number(a, "within_1_lsb_fraction")), "num"),
                    Html.cell(logits ? s.path("output_max_abs_diff_lsb").asText() + " LSB"
                            : a == null ? Html.NONE : a.path("max_abs_diff_lsb").asText() + " LSB", "num"));
        }
        return t;
    }

    private static Map<String, JsonNode> byName(JsonNode list) {
        Map<String, JsonNode> out = new HashMap<>();
        if (list != null) {
            list.forEach(n -> out.put(n.path("name").asText(), n));
        }
        return out;
    }

    private static String shape(JsonNode shape) {
        List<String> dims = new ArrayList<>();
        shape.forEach(d -> dims.add(d.asText()));
        return dims.isEmpty() ? "" : "[" + String.join("×", dims) + "]";
    }

    private static double number(JsonNode n, String key) {
        JsonNode v = n.get(key);
        return v == null || !v.isNumber() ? Double.NaN : v.asDouble();
    }

    private static String text(JsonNode n, String key) {
        JsonNode v = n.get(key);
        return v == null || v.isNull() ? Html.NONE : v.asText();
    }
}
