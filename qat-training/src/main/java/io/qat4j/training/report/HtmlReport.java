package io.qat4j.training.report;

import io.qat4j.training.run.EpochMetrics;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * Renders the report page: one self-contained HTML document (inline CSS, charts as base64 PNG data URIs, no script)
 * with the sections summary, learning curves, layers, learned quantizer parameters and fixed-point diagnostics
 * (when the run has them), confusion matrix, integer engine agreement, and the resolved configuration.
 *
 * <p>Its Content-Security-Policy allows nothing but inline styles and {@code data:} images, so a browser never
 * fetches anything for it; a reference to anything else would be blocked and reported on the browser's console,
 * which the rendering tests ({@code HtmlReportRunTest}, {@code HtmlReportGraphRunTest}) check stays empty.
 */
final class HtmlReport {
    /** The page's Content-Security-Policy. */
    static final String CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

    private static final String CSS = """
            body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1d232a;
                   background: #fff; margin: 0 auto; padding: 16px 24px 40px; max-width: 1232px; }
            h1 { font-size: 24px; margin: 8px 0 2px; }
            h2 { font-size: 19px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #1f5ea8; }
            h3 { font-size: 15px; margin: 18px 0 6px; }
            .sub, .note { color: #5a6570; }
            nav a { margin-right: 14px; color: #1f5ea8; text-decoration: none; }
            table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
            th, td { border: 1px solid #d5dae0; padding: 3px 7px; vertical-align: top; text-align: left; }
            th { background: #eef2f6; font-weight: 600; }
            td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
            td.name { font-weight: 600; white-space: nowrap; }
            td.spec { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; max-width: 260px;
                      overflow-wrap: anywhere; }
            table.kv td:first-child { color: #5a6570; }
            table.kv td:last-child { font-weight: 600; }
            table.confusion td.num { min-width: 44px; }
            .status-completed { color: #137333; } .status-diverged { color: #b3261e; }
            img.chart { display: block; max-width: 100%; height: auto; margin: 8px 0; border: 1px solid #e3e7eb; }
            pre.config { font-size: 12px; background: #f6f8fa; border: 1px solid #e3e7eb; padding: 10px 12px;
                         column-count: 2; column-gap: 32px; white-space: pre-wrap; }
            footer { margin-top: 32px; font-size: 12px; color: #5a6570; }
            """;

    private HtmlReport() {
    }

    /**
     * The page.
     *
     * @param data      the run's files
     * @param layers    the per-layer rows, or null when the model could not be read
     * @param confusion the test-set confusion matrix, or null
     * @param notes     why something is missing: {@code notes[0]} for the layers, {@code notes[1]} for the confusion
     *                  matrix (null entries when nothing is)
     */
    static String render(RunData data, List<LayerTable.Row> layers, Confusion confusion, String[] notes) {
        String name = data.name();
        StringBuilder sb = new StringBuilder(64 * 1024);
        sb.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta http-equiv=\"Content-Security-Policy\" content=\"").append(Html.esc(CSP)).append("\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>").append(Html.esc("qat4j run report: " + name)).append("</title>\n")
                .append("<style>\n").append(CSS).append("</style>\n</head>\n<body>\n");
        sb.append(Html.el("h1", "Run report: " + name)).append('\n');
        sb.append("<p class=\"sub\">").append(Html.esc(data.dir().root().toAbsolutePath().normalize().toString()))
                .append(" · generated ").append(Html.esc(ZonedDateTime.now().format(DateTimeFormatter.ofPattern(
                        "yyyy-MM-dd HH:mm z")))).append("</p>\n");
        sb.append("<nav>");
        for (String[] s : new String[][] {{"summary", "Summary"}, {"curves", "Learning curves"}, {"layers", "Layers"},
            {"confusion", "Confusion matrix"}, {"engine", "Integer engine"}, {"config", "Configuration"}}) {
            sb.append("<a href=\"#").append(s[0]).append("\">").append(Html.esc(s[1])).append("</a>");
        }
        sb.append("</nav>\n");

        section(sb, "summary", "Summary");
        sb.append(summary(data, confusion));

        section(sb, "curves", "Learning curves");
        byte[] curves = Charts.learningCurves(data.epochs());
        if (curves == null) {
            note(sb, "No epoch has finished yet (metrics.json has no rows).");
        } else {
            sb.append(Html.pngImage(curves, "learning curves: loss and accuracy per epoch"));
            sb.append(epochs(data.epochs()));
        }

        section(sb, "layers", "Layers");
        if (layers == null) {
            note(sb, notes[0]);
        } else {
            sb.append(LayerTable.render(layers));
        }
        byte[] learned = Charts.learnedParameters(data.epochs());
        if (learned != null) {
            sb.append(Html.el("h3", "Learned quantizer parameters per epoch")).append('\n');
            sb.append(Html.pngImage(learned, "learned quantizer parameters per epoch, one chart per parameter"));
        }
        byte[] fixed = Charts.fixedPoint(data.fixedPoint());
        if (fixed != null) {
            sb.append(Html.el("h3", "Fixed-point training: errors and gradients per layer")).append('\n');
            sb.append(Html.pngImage(fixed, "saturated and flushed-to-zero fractions and bits in use per layer and epoch"));
        }

        section(sb, "confusion", "Confusion matrix (test set)");
        if (confusion == null) {
            note(sb, notes[1]);
        } else {
            note(sb, "The model " + confusion.model().getFileName() + " on " + Html.count(confusion.result().examples())
                    + " test images: accuracy " + Html.pct(confusion.result().accuracy()) + ". Rows: label; columns: "
                    + "prediction; shading: share of the label's images.");
            sb.append(confusion.render());
        }

        section(sb, "engine", "Integer-only engine vs fake-quant model");
        sb.append(EngineSection.render(data));

        section(sb, "config", "Configuration (config.yaml, resolved)");
        sb.append("<pre class=\"config\">").append(Html.esc(data.configText())).append("</pre>\n");

        sb.append("<footer>").append(Html.esc("Written by 'qat report --html' (qat4j) from " + data.dir().root()
                + ": summary.json, metrics.json, config.yaml, the model zip and export/.")).append("</footer>\n");
        return sb.append("</body>\n</html>\n").toString();
    }

    private static void section(StringBuilder sb, String id, String title) {
        sb.append("<h2 id=\"").append(id).append("\">").append(Html.esc(title)).append("</h2>\n");
    }

    private static void note(StringBuilder sb, String text) {
        sb.append("<p class=\"note\">").append(Html.esc(text)).append("</p>\n");
    }

    private static String summary(RunData d, Confusion confusion) {
        if (d.summary() == null) {
            return "<p class=\"note\">" + Html.esc("No summary.json: the run has not ended (or was interrupted); "
                    + "the sections below show what it has written so far.") + "</p>\n";
        }
        Html.Table t = new Html.Table("", "").css("kv");
        String status = d.summaryText("status");
        t.row(Html.cell("status", ""), Html.cell(status, "status-" + status));
        t.row("data set / model", d.summaryText("dataset") + " / " + d.summaryText("model"));
        t.row("test accuracy (best model)", Html.pct(d.summaryNumber("test_accuracy")) + " on "
                + Html.count((long) d.summaryNumber("test_examples")) + " test images");
        t.row("best validation accuracy", Html.pct(d.summaryNumber("best_validation_accuracy")));
        t.row("epochs / best epoch", d.summaryText("epochs") + " / " + d.summaryText("best_epoch"));
        t.row("test accuracy after the last epoch", Html.pct(d.summaryNumber("last_test_accuracy")));
        t.row("training speed", Html.num(d.summaryNumber("train_images_per_second")) + " images/s");
        t.row("wall time (training time)", Html.duration(d.summaryNumber("wall_seconds")) + " ("
                + Html.duration(d.summaryNumber("train_seconds")) + ")");
        t.row("parameters", Html.count((long) d.summaryNumber("parameters")));
        if (confusion != null) {
            t.row("model evaluated below", confusion.model().getFileName().toString());
        }
        return t.render();
    }

    private static String epochs(List<EpochMetrics> rows) {
        Html.Table t = new Html.Table("epoch", "learning rate", "train loss", "train accuracy", "validation loss",
                "validation accuracy", "test loss", "test accuracy", "images/s", "epoch time").css("epochs");
        for (EpochMetrics r : rows) {
            t.row(Html.cell(Integer.toString(r.epoch()), "num"), Html.cell(Html.num(r.learningRate()), "num"),
                    Html.cell(Html.num(r.trainLoss()), "num"), Html.cell(Html.pct(r.trainAccuracy()), "num"),
                    Html.cell(Html.num(r.validationLoss()), "num"), Html.cell(Html.pct(r.validationAccuracy()), "num"),
                    Html.cell(Html.num(r.testLoss()), "num"), Html.cell(Html.pct(r.testAccuracy()), "num"),
                    Html.cell(Html.num(r.imagesPerSecond()), "num"), Html.cell(Html.duration(r.epochSeconds()), "num"));
        }
        return t.render();
    }
}
