package io.qat4j.training.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/**
 * Writes {@code metrics.csv}, {@code metrics.json} and the learning-curve PNG from the epoch rows, for
 * runs with learned quantizers the PNG of their parameters per epoch ({@code learned-params.png}), and for
 * fixed-point runs the per-layer error and gradient diagnostics ({@code fixed-point.png}).
 */
public final class MetricsFiles {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private MetricsFiles() {
    }

    /** Rewrites all three files (each atomically). */
    public static void write(RunDirectory dir, String runName, List<EpochMetrics> rows) {
        write(dir, runName, rows, List.of(), "cross-entropy");
    }

    /**
     * Rewrites the files; with fixed-point diagnostics ({@link FixedPointDiagnostics}) metrics.json gets their
     * {@code fixed_point} entries and {@code fixed-point.png} is drawn.
     *
     * @param lossLabel the y axis of the loss plot, e.g. {@code cross-entropy}
     */
    public static void write(RunDirectory dir, String runName, List<EpochMetrics> rows, List<Map<String, Object>> fixedPoint,
                             String lossLabel) {
        AtomicFiles.writeString(dir.metricsCsv(), csv(rows));
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("run", runName);
        doc.put("columns", columns(rows));
        doc.put("epochs", rows.stream().map(EpochMetrics::toMap).toList());
        if (!fixedPoint.isEmpty()) {
            doc.put("fixed_point", fixedPoint);
        }
        try {
            AtomicFiles.writeString(dir.metricsJson(), JSON.writeValueAsString(doc));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!rows.isEmpty()) {
            writePlot(dir, runName, rows, lossLabel);
            List<String> learned = learnedColumns(rows);
            if (!learned.isEmpty()) {
                writeLearnedPlot(dir, runName, rows, learned);
            }
        }
        if (!fixedPoint.isEmpty()) {
            FixedPointDiagnostics.writePlot(dir, runName, fixedPoint);
        }
    }

    /** The fixed columns, then every learned-parameter column any row has, in order of appearance. */
    public static List<String> columns(List<EpochMetrics> rows) {
        List<String> c = new ArrayList<>(EpochMetrics.COLUMNS);
        c.addAll(learnedColumns(rows));
        return c;
    }

    private static List<String> learnedColumns(List<EpochMetrics> rows) {
        Set<String> c = new LinkedHashSet<>();
        rows.forEach(r -> c.addAll(r.learned().keySet()));
        return new ArrayList<>(c);
    }

    /** The CSV text: a header line, then one line per epoch; NaN (or a missing value) is an empty field. */
    public static String csv(List<EpochMetrics> rows) {
        List<String> columns = columns(rows);
        StringBuilder sb = new StringBuilder(String.join(",", columns)).append('\n');
        for (EpochMetrics r : rows) {
            Map<String, Object> m = r.toMap();
            sb.append(columns.stream().map(c -> cell(m.get(c))).collect(Collectors.joining(","))).append('\n');
        }
        return sb.toString();
    }

    private static String cell(Object v) {
        if (v == null) {
            return "";
        }
        if (v instanceof Double d) {
            return String.format(Locale.ROOT, "%.6g", d);
        }
        return v.toString();
    }

    private static void writePlot(RunDirectory dir, String runName, List<EpochMetrics> rows, String lossLabel) {
        System.setProperty("java.awt.headless", "true");
        XYChart loss = chart(runName + ": loss", lossLabel, Styler.LegendPosition.InsideNE);
        XYChart acc = chart(runName + ": accuracy", "accuracy", Styler.LegendPosition.InsideSE);
        addSeries(loss, "train", rows, EpochMetrics::trainLoss);
        addSeries(loss, "validation", rows, EpochMetrics::validationLoss);
        addSeries(loss, "test", rows, EpochMetrics::testLoss);
        addSeries(acc, "train (sample)", rows, EpochMetrics::trainAccuracy);
        addSeries(acc, "validation", rows, EpochMetrics::validationAccuracy);
        addSeries(acc, "test", rows, EpochMetrics::testAccuracy);
        AtomicFiles.write(dir.plot(), tmp -> {
            // XChart appends the extension itself; write next to the temporary name and move over it.
            String base = tmp.toString().substring(0, tmp.toString().length() - ".tmp".length());
            BitmapEncoder.saveBitmap(List.of(loss, acc), 1, 2, base, BitmapEncoder.BitmapFormat.PNG);
            java.nio.file.Files.move(java.nio.file.Path.of(base + ".png"), tmp,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        });
    }

    /**
     * One chart per learned parameter key (alpha, wstep, astep, wc, ...), one series per layer, the
     * value at the end of each epoch.
     */
    private static void writeLearnedPlot(RunDirectory dir, String runName, List<EpochMetrics> rows, List<String> columns) {
        System.setProperty("java.awt.headless", "true");
        Map<String, List<String>> byKey = new LinkedHashMap<>();
        for (String c : columns) {
            byKey.computeIfAbsent(LearnedParameters.key(c), k -> new ArrayList<>()).add(c);
        }
        List<XYChart> charts = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : byKey.entrySet()) {
            XYChart c = chart(runName + ": " + e.getKey(), e.getKey(), Styler.LegendPosition.OutsideE);
            for (String column : e.getValue()) {
                String name = LearnedParameters.layer(column) + (column.endsWith(".mean") ? " (mean)" : "");
                addSeries(c, name, rows, r -> r.learned().getOrDefault(column, Double.NaN));
            }
            charts.add(c);
        }
        int cols = Math.min(2, charts.size());
        int chartRows = (charts.size() + cols - 1) / cols;
        while (charts.size() < chartRows * cols) {
            XYChart blank = new XYChartBuilder().width(640).height(420).build();
            blank.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
            blank.getStyler().setPlotBackgroundColor(java.awt.Color.WHITE);
            blank.getStyler().setAxisTicksVisible(false);
            blank.getStyler().setPlotBorderVisible(false);
            blank.getStyler().setPlotGridLinesVisible(false);
            blank.getStyler().setLegendVisible(false);
            charts.add(blank);
        }
        AtomicFiles.write(dir.learnedPlot(), tmp -> {
            String base = tmp.toString().substring(0, tmp.toString().length() - ".tmp".length());
            BitmapEncoder.saveBitmap(charts, chartRows, cols, base, BitmapEncoder.BitmapFormat.PNG);
            java.nio.file.Files.move(java.nio.file.Path.of(base + ".png"), tmp,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        });
    }

    private static XYChart chart(String title, String yTitle, Styler.LegendPosition legend) {
        XYChart c = new XYChartBuilder().width(640).height(420).title(title).xAxisTitle("epoch").yAxisTitle(yTitle).build();
        c.getStyler().setLegendPosition(legend);
        c.getStyler().setMarkerSize(6);
        c.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        return c;
    }

    private static void addSeries(XYChart c, String name, List<EpochMetrics> rows, ToDoubleFunction<EpochMetrics> f) {
        List<Double> xs = new ArrayList<>();
        List<Double> ys = new ArrayList<>();
        for (EpochMetrics r : rows) {
            double y = f.applyAsDouble(r);
            if (Double.isFinite(y)) {
                xs.add((double) r.epoch());
                ys.add(y);
            }
        }
        if (!xs.isEmpty()) {
            c.addSeries(name, xs, ys).setMarker(SeriesMarkers.CIRCLE);
        }
    }
}
