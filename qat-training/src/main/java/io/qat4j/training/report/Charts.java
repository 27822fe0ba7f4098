package io.qat4j.training.report;

import io.qat4j.training.run.EpochMetrics;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * The report's charts, drawn with XChart and returned as PNG bytes (the report embeds them as base64 data URIs, so
 * the page needs no other file). Each method lays its charts out side by side in one image, at most
 * {@link #WIDTH} pixels wide, and returns null when there is nothing to draw.
 */
final class Charts {
    /** Width of a row of charts in pixels (the page's content width). */
    static final int WIDTH = 1200;
    private static final int HEIGHT = 360;
    private static final List<String> FIXED_POINT_METRICS = List.of("saturated_fraction", "flushed_to_zero_fraction",
            "bits_in_use");

    private Charts() {
    }

    /** Loss and accuracy per epoch (train, validation, test), side by side. */
    static byte[] learningCurves(List<EpochMetrics> rows) {
        XYChart loss = xy("loss", "loss", WIDTH / 2, Styler.LegendPosition.InsideNE);
        XYChart acc = xy("accuracy", "accuracy", WIDTH / 2, Styler.LegendPosition.InsideSE);
        series(loss, "train", rows, EpochMetrics::trainLoss);
        series(loss, "validation", rows, EpochMetrics::validationLoss);
        series(loss, "test", rows, EpochMetrics::testLoss);
        series(acc, "train (sample)", rows, EpochMetrics::trainAccuracy);
        series(acc, "validation", rows, EpochMetrics::validationAccuracy);
        series(acc, "test", rows, EpochMetrics::testAccuracy);
        return rows.isEmpty() ? null : png(List.of(loss, acc), 1, 2);
    }

    /** One chart per learned parameter key ({@code alpha}, {@code wstep}, ...), one line per layer, up to 2 per row. */
    static byte[] learnedParameters(List<EpochMetrics> rows) {
        Set<String> columns = new LinkedHashSet<>();
        rows.forEach(r -> columns.addAll(r.learned().keySet()));
        Map<String, List<String>> byKey = new LinkedHashMap<>();
        for (String c : columns) {
            String[] parts = c.split("\\.");
            boolean mean = parts.length >= 3 && parts[parts.length - 1].equals("mean");
            byKey.computeIfAbsent(parts[parts.length - (mean ? 2 : 1)], k -> new ArrayList<>()).add(c);
        }
        List<XYChart> charts = new ArrayList<>();
        int cols = Math.min(2, byKey.size());
        byKey.forEach((key, cs) -> {
            XYChart c = xy(key, key, WIDTH / Math.max(1, cols), Styler.LegendPosition.OutsideE);
            for (String column : cs) {
                String suffix = "." + key + (column.endsWith(".mean") ? ".mean" : "");
                String label = column.substring(0, column.length() - suffix.length()) + (column.endsWith(".mean") ? " (mean)" : "");
                series(c, label, rows, r -> r.learned().getOrDefault(column, Double.NaN));
            }
            charts.add(c);
        });
        if (charts.isEmpty()) {
            return null;
        }
        while (charts.size() % cols != 0) {
            charts.add(blank(WIDTH / cols));
        }
        return png(charts, charts.size() / cols, cols);
    }

    /** Saturated and flushed-to-zero fractions and bits in use per layer and path over the epochs. */
    @SuppressWarnings("unchecked")
    static byte[] fixedPoint(List<Map<String, Object>> entries) {
        List<XYChart> charts = new ArrayList<>();
        for (String metric : FIXED_POINT_METRICS) {
            XYChart c = xy(metric.replace('_', ' '), metric.equals("bits_in_use") ? "bits" : "fraction",
                    WIDTH / FIXED_POINT_METRICS.size(), HEIGHT + 80, Styler.LegendPosition.OutsideS);
            Map<String, List<double[]>> points = new LinkedHashMap<>();
            for (Map<String, Object> e : entries) {
                double epoch = LayerTable.number(e.get("epoch"));
                if (e.get("layers") instanceof Map<?, ?> layers) {
                    layers.forEach((layer, paths) -> ((Map<String, Object>) paths).forEach((path, stats) -> {
                        double v = LayerTable.number(((Map<String, Object>) stats).get(metric));
                        if (Double.isFinite(v)) {
                            points.computeIfAbsent(layer + " " + path, k -> new ArrayList<>()).add(new double[] {epoch, v});
                        }
                    }));
                }
            }
            points.forEach((name, p) -> c.addSeries(name, p.stream().map(x -> x[0]).toList(), p.stream().map(x -> x[1]).toList())
                    .setMarker(SeriesMarkers.CIRCLE));
            if (!points.isEmpty()) {
                charts.add(c);
            }
        }
        return charts.isEmpty() ? null : png(charts, 1, charts.size());
    }

    /**
     * Per exported layer, the fraction of the integer engine's codes identical to, and within 1 LSB of, the
     * fake-quant model's, as grouped bars.
     */
    static byte[] agreement(List<String> layers, List<Double> identical, List<Double> within1) {
        if (layers.isEmpty()) {
            return null;
        }
        CategoryChart c = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title("engine codes vs fake-quant model")
                .xAxisTitle("layer").yAxisTitle("fraction of values").build();
        style(c.getStyler());
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        c.getStyler().setYAxisMin(0.0);
        c.getStyler().setYAxisMax(1.0);
        c.addSeries("identical", layers, identical);
        c.addSeries("within 1 LSB", layers, within1);
        return png(List.of(c), 1, 1);
    }

    private static XYChart xy(String title, String yTitle, int width, Styler.LegendPosition legend) {
        return xy(title, yTitle, width, HEIGHT, legend);
    }

    private static XYChart xy(String title, String yTitle, int width, int height, Styler.LegendPosition legend) {
        XYChart c = new XYChartBuilder().width(width).height(height).title(title).xAxisTitle("epoch").yAxisTitle(yTitle).build();
        style(c.getStyler());
        c.getStyler().setLegendPosition(legend);
        c.getStyler().setMarkerSize(6);
        c.getStyler().setXAxisDecimalPattern("0");
        return c;
    }

    private static void style(Styler s) {
        s.setChartBackgroundColor(Color.WHITE);
        s.setLegendBorderColor(new Color(0xdddddd));
        s.setPlotBorderColor(new Color(0xcccccc));
    }

    private static XYChart blank(int width) {
        XYChart c = new XYChartBuilder().width(width).height(HEIGHT).build();
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setPlotBackgroundColor(Color.WHITE);
        c.getStyler().setAxisTicksVisible(false);
        c.getStyler().setPlotBorderVisible(false);
        c.getStyler().setPlotGridLinesVisible(false);
        c.getStyler().setLegendVisible(false);
        return c;
    }

    private static void series(XYChart c, String name, List<EpochMetrics> rows, ToDoubleFunction<EpochMetrics> f) {
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

    private static <T extends Chart<?, ?>> byte[] png(List<T> charts, int rows, int cols) {
        System.setProperty("java.awt.headless", "true");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            BitmapEncoder.saveBitmap(charts, rows, cols, out, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
