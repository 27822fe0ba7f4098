package io.qat4j.training.bench;

import io.qat4j.layers.convert.ConversionReport;
import io.qat4j.layers.convert.QatConverter;
import io.qat4j.layers.convert.QuantizationRule;
import io.qat4j.layers.nn.QuantSites;
import io.qat4j.training.run.AtomicFiles;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.objdetect.Yolo2OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.deeplearning4j.zoo.ZooModel;
import org.deeplearning4j.zoo.model.AlexNet;
import org.deeplearning4j.zoo.model.Darknet19;
import org.deeplearning4j.zoo.model.FaceNetNN4Small2;
import org.deeplearning4j.zoo.model.InceptionResNetV1;
import org.deeplearning4j.zoo.model.LeNet;
import org.deeplearning4j.zoo.model.NASNet;
import org.deeplearning4j.zoo.model.ResNet50;
import org.deeplearning4j.zoo.model.SimpleCNN;
import org.deeplearning4j.zoo.model.SqueezeNet;
import org.deeplearning4j.zoo.model.TextGenerationLSTM;
import org.deeplearning4j.zoo.model.TinyYOLO;
import org.deeplearning4j.zoo.model.UNet;
import org.deeplearning4j.zoo.model.VGG16;
import org.deeplearning4j.zoo.model.VGG19;
import org.deeplearning4j.zoo.model.Xception;
import org.deeplearning4j.zoo.model.YOLO2;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * Converts every network of deeplearning4j-zoo 1.0.0-M2.1 to its W8A8 twin and checks that the twin works: the float
 * model builds (random initialization; pretrained weights need the internet and are never downloaded) and runs
 * forward with finite outputs; {@link QatConverter} converts it (8-bit per-channel weights, 8-bit activations with an
 * EMA observer at every quantized layer's input, batch normalization folded, additions quantized); the twin runs
 * forward, trains (a finite score after two fit steps on random data), and saves and reloads with identical outputs.
 * Writes a Markdown table, one row per network, with the input size used (reduced where the network allows it).
 *
 * <p>Usage: {@code scripts/check-zoo [--only NAME,NAME] [--out docs/zoo-conversion.md]}.
 */
public final class ZooCheck {
    /** The W8A8 rule: 8-bit per-channel weights, 8-bit (affine, unsigned) activations with an EMA observer. */
    static final QuantizationRule W8A8 = QuantizationRule.uniform(QuantSites.of("int(bits=8, signed=false, observer=ema)",
            "int(bits=8, narrow=true, axis=channel)", "float", "float"));
    /**
     * Batch normalization folded (batch statistics, as the randomly initialized float network trains), additions
     * quantized like the activations.
     */
    static final QatConverter.Options OPTIONS = QatConverter.Options.DEFAULTS.withFoldBatchNorm(true)
            .withBnStart(QatConverter.BnStart.BATCH_STATISTICS).withAddSpec("int(bits=8, signed=false, observer=ema)");
    private static final int CLASSES = 10;
    private static final int BATCH = 2;

    /** One zoo network: its name, the input shape used, a note, and how to build it at that shape. */
    record Net(String name, int[] shape, String note, Function<int[], ZooModel<?>> build) {
    }

    /** One table row. */
    record Row(String name, String input, String floatRuns, String conversion, String forward, String trains,
               String reload, double seconds) {
    }

    static List<Net> nets() {
        return List.of(
                new Net("AlexNet", new int[] {3, 64, 64}, "", s -> AlexNet.builder().numClasses(CLASSES).inputShape(s)
                        .build()),
                new Net("Darknet19", new int[] {3, 64, 64}, "", s -> Darknet19.builder().numClasses(CLASSES)
                        .inputShape(s).build()),
                new Net("FaceNetNN4Small2", new int[] {3, 96, 96}, "", s -> FaceNetNN4Small2.builder()
                        .numClasses(CLASSES).inputShape(s).build()),
                new Net("InceptionResNetV1", new int[] {3, 160, 160}, "", s -> InceptionResNetV1.builder()
                        .numClasses(CLASSES).inputShape(s).build()),
                new Net("LeNet", new int[] {1, 28, 28}, "", s -> LeNet.builder().numClasses(CLASSES).inputShape(s)
                        .build()),
                new Net("NASNet", new int[] {3, 224, 224}, "the zoo's graphBuilder() asks for activation types before "
                        + "init() adds the input, at any input size", s -> NASNet.builder().numClasses(CLASSES)
                        .inputShape(s).build()),
                new Net("ResNet50", new int[] {3, 160, 160}, "zoo default init: truncated normal, sigma 0.5",
                        s -> ResNet50.builder().numClasses(CLASSES).inputShape(s).build()),
                new Net("ResNet50 (He init)", new int[] {3, 160, 160}, "weightInit(RELU) instead of the zoo default",
                        s -> ResNet50.builder().numClasses(CLASSES).inputShape(s).weightInit(WeightInit.RELU.getWeightInitFunction())
                                .build()),
                new Net("SimpleCNN", new int[] {3, 48, 48}, "", s -> SimpleCNN.builder().numClasses(CLASSES)
                        .inputShape(s).build()),
                new Net("SqueezeNet", new int[] {3, 64, 64}, "", s -> SqueezeNet.builder().numClasses(CLASSES)
                        .inputShape(s).build()),
                new Net("TextGenerationLSTM", new int[] {40, 47}, "input [characters, length]",
                        s -> TextGenerationLSTM.builder().inputShape(s).build()),
                new Net("TinyYOLO", new int[] {3, 64, 64}, "2 classes", s -> TinyYOLO.builder().numClasses(2)
                        .inputShape(s).build()),
                new Net("UNet", new int[] {3, 64, 64}, "", s -> UNet.builder().inputShape(s).build()),
                new Net("VGG16", new int[] {3, 32, 32}, "", s -> VGG16.builder().numClasses(CLASSES).inputShape(s)
                        .build()),
                new Net("VGG19", new int[] {3, 32, 32}, "", s -> VGG19.builder().numClasses(CLASSES).inputShape(s)
                        .build()),
                new Net("Xception", new int[] {3, 71, 71}, "", s -> Xception.builder().numClasses(CLASSES)
                        .inputShape(s).build()),
                new Net("YOLO2", new int[] {3, 64, 64}, "2 classes", s -> YOLO2.builder().numClasses(2).inputShape(s)
                        .build()));
    }

    private ZooCheck() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of("docs/zoo-conversion.md");
        List<String> only = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[++i]);
                case "--only" -> only = Arrays.asList(args[++i].split(","));
                default -> {
                    System.err.println("check-zoo: unknown argument " + args[i] + "; allowed: --only NAME,NAME, --out FILE");
                    System.exit(2);
                }
            }
        }
        List<Row> rows = new ArrayList<>();
        List<String> reports = new ArrayList<>();
        long start = System.nanoTime();
        String loadBefore = loadAverage();
        for (Net n : nets()) {
            if (only != null && !only.contains(n.name())) {
                continue;
            }
            StringBuilder report = new StringBuilder();
            Row r = check(n, report);
            rows.add(r);
            reports.add(report.toString());
            System.out.printf(Locale.ROOT, "%-20s %s | %s | %s | %s | %s | %s | %.1f s%n", r.name(), r.input(),
                    r.floatRuns(), r.conversion(), r.forward(), r.trains(), r.reload(), r.seconds());
        }
        double total = (System.nanoTime() - start) / 1e9;
        String load = "load average (1 min) " + loadBefore + " at the start, " + loadAverage() + " at the end, on "
                + Runtime.getRuntime().availableProcessors() + " cores";
        AtomicFiles.writeString(out, doc(rows, reports, total, load));
        System.out.println("wrote " + out);
    }

    /** Runs the checks of one network; the conversion report goes into {@code report}. */
    static Row check(Net n, StringBuilder report) {
        long t0 = System.nanoTime();
        String input = n.shape().length == 3 ? n.shape()[0] + "x" + n.shape()[1] + "x" + n.shape()[2]
                : n.shape()[0] + "x" + n.shape()[1];
        Model f;
        INDArray x;
        try {
            f = n.build().apply(n.shape()).init();
            x = input(n, f);
            INDArray y = output(f, x);
            if (!finite(y)) {
                return row(n, input, "no: non-finite outputs in float (random init" + note(n) + ")", t0);
            }
        } catch (RuntimeException | Error e) {
            return row(n, input, "no: " + brief(e) + note(n), t0);
        }
        String floatRuns = "yes" + note(n);
        String conversion = "-";
        String forward = "-";
        String trains = "-";
        String reload = "-";
        try {
            Model q;
            ConversionReport rep;
            if (f instanceof ComputationGraph g) {
                QatConverter.Result<ComputationGraph> r = QatConverter.convert(g, W8A8, OPTIONS);
                q = r.model();
                rep = r.report();
            } else {
                QatConverter.Result<MultiLayerNetwork> r = QatConverter.convert((MultiLayerNetwork) f, W8A8, OPTIONS);
                q = r.model();
                rep = r.report();
            }
            conversion = rep.converted() + " / " + rep.count(ConversionReport.Status.FOLDED) + " / "
                    + rep.count(ConversionReport.Status.MERGED) + " / " + rep.keptFloat();
            report.append("### ").append(n.name()).append("\n\n").append(rep.summary()).append(". Kept float:\n\n");
            rep.keptByClass().forEach((k, count) -> {
                ConversionReport.Entry first = rep.entries().stream().filter(e -> e.status()
                        == ConversionReport.Status.KEPT && e.from().equals(k)).findFirst().orElseThrow();
                report.append("- ").append(k).append(" ×").append(count).append(" (e.g. ").append(first.name())
                        .append(": ").append(first.detail()).append(")\n");
            });
            forward = finite(output(q, x)) ? "yes" : "no: non-finite outputs";
            trains = trains(q, x);
            reload = reloads(q, x);
        } catch (RuntimeException | Error e) {
            String why = "no: " + brief(e);
            if (conversion.equals("-")) {
                conversion = why;
            } else if (forward.equals("-")) {
                forward = why;
            } else if (trains.equals("-")) {
                trains = why;
            } else {
                reload = why;
            }
        }
        return new Row(n.name(), input, floatRuns, conversion, forward, trains, reload, seconds(t0));
    }

    private static Row row(Net n, String input, String floatRuns, long t0) {
        return new Row(n.name(), input, floatRuns, "-", "-", "-", "-", seconds(t0));
    }

    private static String note(Net n) {
        return n.note().isEmpty() ? "" : "; " + n.note();
    }

    /** Random input of the network's shape: NCHW images in [0, 1), or one-hot characters for the LSTM. */
    static INDArray input(Net n, Model m) {
        Nd4j.getRandom().setSeed(42);
        if (n.shape().length == 2) {
            INDArray x = Nd4j.zeros(DataType.FLOAT, BATCH, n.shape()[1], n.shape()[0]);
            for (int b = 0; b < BATCH; b++) {
                for (int t = 0; t < n.shape()[0]; t++) {
                    x.putScalar(new long[] {b, (t * 7 + b) % n.shape()[1], t}, 1.0);
                }
            }
            return x;
        }
        return Nd4j.rand(DataType.FLOAT, BATCH, n.shape()[0], n.shape()[1], n.shape()[2]);
    }

    static INDArray output(Model m, INDArray x) {
        return m instanceof ComputationGraph g ? g.output(false, x)[0] : ((MultiLayerNetwork) m).output(x, false);
    }

    static void fit(Model m, MultiDataSet d) {
        if (m instanceof ComputationGraph g) {
            g.fit(d);
        } else {
            ((MultiLayerNetwork) m).fit(new org.nd4j.linalg.dataset.DataSet(d.getFeatures(0), d.getLabels(0)));
        }
    }

    /**
     * Labels for the output layer: one class per example (per time step, per pixel) of the output's shape; for YOLO
     * one box [0.2, 0.2, 0.8, 0.8] (grid units) of class 0 in the top-left cell.
     */
    static INDArray labels(Model m, INDArray y) {
        Layer out = m instanceof ComputationGraph g
                ? g.getOutputLayer(0).conf().getLayer() : ((MultiLayerNetwork) m).getOutputLayer().conf().getLayer();
        if (out instanceof Yolo2OutputLayer yolo) {
            long boxes = yolo.getBoundingBoxes().size(0);
            long classes = y.size(1) / boxes - 5;
            INDArray l = Nd4j.zeros(DataType.FLOAT, y.size(0), 4 + classes, y.size(2), y.size(3));
            for (int b = 0; b < y.size(0); b++) {
                l.put(new org.nd4j.linalg.indexing.INDArrayIndex[] {NDArrayIndex.point(b), NDArrayIndex.interval(0, 4),
                    NDArrayIndex.point(0), NDArrayIndex.point(0)}, Nd4j.createFromArray(0.2f, 0.2f, 0.8f, 0.8f));
                l.putScalar(new long[] {b, 4, 0, 0}, 1.0);
            }
            return l;
        }
        INDArray l = Nd4j.zeros(DataType.FLOAT, y.shape());
        if (y.rank() == 4 && y.size(1) == 1) {
            return l.assign(Nd4j.rand(DataType.FLOAT, y.shape()).gt(0.5).castTo(DataType.FLOAT)); // binary masks
        }
        long positions = y.length() / (y.size(0) * y.size(1));
        INDArray flat = l.reshape(y.size(0), y.size(1), positions);
        for (int b = 0; b < y.size(0); b++) {
            for (int p = 0; p < positions; p++) {
                flat.putScalar(new long[] {b, (b + p) % y.size(1), p}, 1.0);
            }
        }
        return flat.reshape(y.shape());
    }

    /** Two fit steps on random labels: "yes (score)" when the score is finite. */
    static String trains(Model q, INDArray x) {
        boolean hasOutputLayer = q instanceof ComputationGraph g ? g.getOutputLayer(0) instanceof IOutputLayer
                : ((MultiLayerNetwork) q).getOutputLayer() instanceof IOutputLayer;
        if (!hasOutputLayer) {
            return "n/a: the zoo configuration has no output layer (nor can the float network train)";
        }
        try {
            MultiDataSet d = new MultiDataSet(x, labels(q, output(q, x)));
            for (int i = 0; i < 2; i++) {
                fit(q, d);
            }
            double score = q.score();
            return Double.isFinite(score) ? String.format(Locale.ROOT, "yes (%.4g)", score) : "no: score " + score;
        } catch (RuntimeException | Error e) {
            return "no: " + brief(e);
        }
    }

    /** Saves the twin (with its updater) and reloads it: "yes" when the reloaded outputs are identical. */
    static String reloads(Model q, INDArray x) throws RuntimeException {
        try {
            File f = Files.createTempFile("zoo-twin", ".zip").toFile();
            try {
                ModelSerializer.writeModel(q, f, true);
                Model back = q instanceof ComputationGraph ? ModelSerializer.restoreComputationGraph(f, true)
                        : ModelSerializer.restoreMultiLayerNetwork(f, true);
                boolean same = output(q, x).equals(output(back, x)) && q.params().equals(back.params());
                return same ? "yes" : "no: outputs differ after reloading";
            } finally {
                Files.deleteIfExists(f.toPath());
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static boolean finite(INDArray y) {
        return y != null && !y.isNaN().any() && !y.isInfinite().any();
    }

    static String brief(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        m = m.lines().findFirst().orElse("").replace("|", "/");
        return m.length() > 160 ? m.substring(0, 157) + "..." : m;
    }

    static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    /** The 1-minute load average of the machine (Linux), or "unknown". */
    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (java.io.IOException | RuntimeException e) {
            return "unknown";
        }
    }

    static String doc(List<Row> rows, List<String> reports, double total, String load) {
        StringBuilder b = new StringBuilder("# Zoo networks converted to W8A8\n\n");
        b.append("Generated by `scripts/check-zoo` (`io.qat4j.training.bench.ZooCheck`) on ").append(LocalDate.now())
                .append(". Every network of deeplearning4j-zoo 1.0.0-M2.1 is built with random initialization (pretrained ")
                .append("weights need the internet and are not used), at the input size shown (reduced where the ")
                .append("network allows it), with ").append(CLASSES).append(" classes where it takes a class count, ")
                .append("and converted by `QatConverter` with 8-bit per-channel weights ")
                .append("(`int(bits=8, narrow=true, axis=channel)`), 8-bit activations with an EMA observer at every ")
                .append("quantized layer's input (`int(bits=8, signed=false, observer=ema)`), batch normalization folded ")
                .append("into the conv / dense layer before it (`QuantConvBN2D` / `QuantDenseBN`, training with batch ")
                .append("statistics as the float network does), and additions turned into `QuantAddVertex` with the same ")
                .append("8-bit spec. Batches of ").append(BATCH).append(" random inputs.\n\n")
                .append("Columns: *float runs*: the float model builds and its inference outputs are finite; ")
                .append("*converted / folded / merged / kept float*: layers and vertices replaced by a quantized twin, ")
                .append("batch normalizations folded, activation layers merged into a quantized addition, layers and ")
                .append("vertices left as they are; *W8A8 forward*: the twin's inference outputs are finite; ")
                .append("*trains*: score after two fit steps (finite); *save / reload*: `ModelSerializer` round trip ")
                .append("with identical outputs and parameters.\n\n");
        b.append("| network | input | float runs | converted / folded / merged / kept float | W8A8 forward | trains | ")
                .append("save / reload | seconds |\n|---|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            b.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %.1f |%n", r.name(), r.input(),
                    r.floatRuns(), r.conversion(), r.forward(), r.trains(), r.reload(), r.seconds()));
        }
        b.append(String.format(Locale.ROOT, "%nTotal: %.0f s; %s (the machine was shared with other work, so the "
                + "seconds are indicative only).%n%n## What stayed float%n%n", total, load));
        reports.stream().filter(s -> !s.isEmpty()).forEach(s -> b.append(s).append('\n'));
        return b.toString();
    }
}
