package io.qat4j.training.run;

import io.qat4j.layers.train.PathStats;
import io.qat4j.layers.train.TrainingMonitor;
import io.qat4j.training.model.Network;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Per-layer diagnostics of fixed-point training: the {@code fixed_point} entries of {@code metrics.json},
 * the {@code fixed-point.png} plot, and where a diverging run first overflowed.
 *
 * <p>One entry per epoch: {@code {"epoch": 3, "layers": {"conv2": {"errors": {...}, "gradients": {...}}}}}
 * where each path holds the {@link PathStats} fields: {@code tensors}, {@code values},
 * {@code saturated_fraction} (values beyond the format's range), {@code flushed_to_zero_fraction} (non-zero
 * values that became 0), {@code bits_in_use} (log2 of the number of distinct quantized values) and
 * {@code entropy_bits} (entropy of their histogram), averaged over the epoch's tensors.
 */
public final class FixedPointDiagnostics {
    private static final List<String> METRICS = List.of("saturated_fraction", "flushed_to_zero_fraction", "bits_in_use");

    private FixedPointDiagnostics() {
    }

    /** The metrics.json entry of one epoch, or null when no backward path was quantized. */
    public static Map<String, Object> entry(int epoch, Map<Integer, Map<TrainingMonitor.Path, PathStats>> stats,
                                            Network net) {
        if (stats.isEmpty()) {
            return null;
        }
        Map<String, Object> layers = new LinkedHashMap<>();
        stats.forEach((index, paths) -> {
            Map<String, Object> byPath = new LinkedHashMap<>();
            paths.forEach((path, s) -> byPath.put(path.configName(), s.toMap()));
            layers.put(layerName(net, index), byPath);
        });
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("epoch", epoch);
        e.put("layers", layers);
        return e;
    }

    static String layerName(Network net, int index) {
        String n = net.layerName(index);
        return n.isEmpty() ? "layer" + index : n;
    }

    /**
     * Where a run went wrong, as a sentence for the divergence message: the first place values overflowed in a
     * quantized backward path, else the first layer (in network order) whose parameters are no longer finite, else
     * an empty string.
     */
    public static String whereItOverflowed(Network net, TrainingMonitor.Overflow first) {
        if (first != null) {
            return "Values first overflowed in layer " + layerName(net, first.layer()) + " (" + first.path().configName()
                    + "): " + first.what() + ".";
        }
        for (org.deeplearning4j.nn.api.Layer l : net.layers()) {
            for (Map.Entry<String, INDArray> p : l.paramTable().entrySet()) {
                if (!TrainingMonitor.isFinite(p.getValue())) {
                    return "The parameters of layer " + layerName(net, l.getIndex()) + " (" + p.getKey() + ") were the "
                            + "first to become non-finite.";
                }
            }
        }
        return "";
    }

    /** True when every parameter of the network is finite. */
    public static boolean paramsFinite(Network net) {
        return TrainingMonitor.isFinite(net.params());
    }

    /** Writes {@code fixed-point.png}: saturation, flush-to-zero and bits in use per layer and path over epochs. */
    @SuppressWarnings("unchecked")
    static void writePlot(RunDirectory dir, String runName, List<Map<String, Object>> entries) {
        System.setProperty("java.awt.headless", "true");
        List<XYChart> charts = new ArrayList<>();
        for (String metric : METRICS) {
            XYChart c = new XYChartBuilder().width(560).height(420).title(runName + ": " + metric.replace('_', ' '))
                    .xAxisTitle("epoch").yAxisTitle(metric.equals("bits_in_use") ? "bits" : "fraction").build();
            c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
            c.getStyler().setMarkerSize(5);
            c.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
            Map<String, List<double[]>> series = new LinkedHashMap<>();
            for (Map<String, Object> e : entries) {
                int epoch = ((Number) e.get("epoch")).intValue();
                Map<String, Object> layers = (Map<String, Object>) e.get("layers");
                layers.forEach((layer, paths) -> ((Map<String, Object>) paths).forEach((path, stats) -> {
                    Object v = ((Map<String, Object>) stats).get(metric);
                    if (v instanceof Number n && Double.isFinite(n.doubleValue())) {
                        series.computeIfAbsent(layer + " " + path, k -> new ArrayList<>())
                                .add(new double[] {epoch, n.doubleValue()});
                    }
                }));
            }
            series.forEach((name, pts) -> c.addSeries(name, pts.stream().map(p -> p[0]).toList(),
                    pts.stream().map(p -> p[1]).toList()).setMarker(SeriesMarkers.CIRCLE));
            if (!series.isEmpty()) {
                charts.add(c);
            }
        }
        if (charts.isEmpty()) {
            return;
        }
        AtomicFiles.write(dir.fixedPointPlot(), tmp -> {
            String base = tmp.toString().substring(0, tmp.toString().length() - ".tmp".length());
            BitmapEncoder.saveBitmap(charts, 1, charts.size(), base, BitmapEncoder.BitmapFormat.PNG);
            java.nio.file.Files.move(java.nio.file.Path.of(base + ".png"), tmp,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        });
    }

    /** One log line per layer and path of an epoch entry, e.g. for the training log. */
    @SuppressWarnings("unchecked")
    static List<String> logLines(Map<String, Object> entry) {
        List<String> out = new ArrayList<>();
        ((Map<String, Object>) entry.get("layers")).forEach((layer, paths) -> ((Map<String, Object>) paths).forEach(
                (path, stats) -> {
                    Map<String, Object> s = (Map<String, Object>) stats;
                    Object bits = s.get("bits_in_use");
                    out.add(String.format(Locale.ROOT, "  %-10s %-9s saturated %6.3f%%  flushed to zero %6.2f%%  bits in use %s",
                            layer, path, 100 * ((Number) s.get("saturated_fraction")).doubleValue(),
                            100 * ((Number) s.get("flushed_to_zero_fraction")).doubleValue(),
                            bits == null ? "-" : String.format(Locale.ROOT, "%.2f", ((Number) bits).doubleValue())));
                }));
        return out;
    }
}
