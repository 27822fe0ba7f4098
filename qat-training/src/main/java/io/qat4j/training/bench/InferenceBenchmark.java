package io.qat4j.training.bench;

import io.qat4j.inference.Quantization;
import io.qat4j.inference.engine.EngineConfig;
import io.qat4j.inference.engine.IntegerEngine;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.ExportReader;
import io.qat4j.training.config.ExperimentConfig;
import io.qat4j.training.data.DataSplits;
import io.qat4j.training.export.ExportInfo;
import io.qat4j.training.run.RunDirectory;
import io.qat4j.training.run.TrainingRun;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Inference throughput of the integer engine next to DL4J running the same trained model (its float32 fake-quant
 * graph), on the same test images.
 *
 * <p>Per export: the engine runs one image at a time on one thread (input quantization included); DL4J runs the
 * model with batch 1 and with batch 256. Every model is warmed up first and the measurements take turns over
 * several rounds. Writes the "bench-inference" section of {@code docs/benchmarks.md}.
 *
 * <p>Usage: {@code scripts/bench-inference [--images N] [--rounds R] [--out FILE] EXPORT_DIR...} (directories written
 * by {@code qat export}, whose {@code source.json} names the model and run).
 */
public final class InferenceBenchmark {
    private InferenceBenchmark() {
    }

    private record Subject(String name, ExportModel export, MultiLayerNetwork net) {
    }

    public static void main(String[] args) throws Exception {
        int images = 2000;
        int rounds = 3;
        Path out = Path.of("docs/benchmarks.md");
        List<Path> dirs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--images" -> images = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> {
                    if (args[i].startsWith("-")) {
                        usage("unknown option " + args[i]);
                    }
                    dirs.add(Path.of(args[i]));
                }
            }
        }
        if (dirs.isEmpty()) {
            usage("give at least one export directory");
        }
        List<Subject> subjects = new ArrayList<>();
        INDArray x = null;
        for (Path d : dirs) {
            ExportInfo info = ExportInfo.read(d);
            if (info == null || info.runDir() == null) {
                usage(d + " has no " + ExportInfo.FILE + " naming its run; export it with 'qat export'");
            }
            if (x == null) {
                RunDirectory run = new RunDirectory(Path.of(info.runDir()));
                DataSplits data = TrainingRun.loadData(ExperimentConfig.load(run.config(), List.of("dataset.validation=0")));
                x = firstImages(data.test(500), images);
            }
            Path named = d.getFileName().toString().equals("export") && d.getParent() != null ? d.getParent() : d;
            subjects.add(new Subject(named.getFileName().toString(), ExportReader.read(d),
                    (MultiLayerNetwork) io.qat4j.training.model.Network.restore(Path.of(info.model())).model()));
        }
        int n = (int) x.size(0);
        float[][] xs = x.reshape('c', n, x.length() / n).toFloatMatrix();
        // inputs sliced once; outputs are closed right away, so off-heap memory does not wait for the GC
        INDArray[] singles = new INDArray[n];
        for (int i = 0; i < n; i++) {
            singles[i] = x.get(NDArrayIndex.interval(i, i + 1)).dup();
        }
        List<INDArray> batches = new ArrayList<>();
        for (int i = 0; i < n; i += 256) {
            batches.add(x.get(NDArrayIndex.interval(i, Math.min(n, i + 256))).dup());
        }
        double[][] seconds = new double[subjects.size()][3];
        for (int r = -1; r < rounds; r++) { // round -1 warms up
            for (int s = 0; s < subjects.size(); s++) {
                Subject sub = subjects.get(s);
                IntegerEngine engine = new IntegerEngine(sub.export(), EngineConfig.INT32);
                int count = r < 0 ? Math.min(n, 300) : n;
                long t0 = System.nanoTime();
                long sink = 0;
                for (int i = 0; i < count; i++) {
                    sink += engine.run(Quantization.quantizeInput(xs[i], sub.export().manifest().input()))[0];
                }
                double engineSec = (System.nanoTime() - t0) / 1e9;
                t0 = System.nanoTime();
                for (int i = 0; i < count; i++) {
                    INDArray y = sub.net().output(singles[i], false);
                    sink += (long) y.getDouble(0);
                    y.close();
                }
                double single = (System.nanoTime() - t0) / 1e9;
                t0 = System.nanoTime();
                for (int k = 0; k < batches.size() && k * 256 < count; k++) {
                    INDArray y = sub.net().output(batches.get(k), false);
                    sink += (long) y.getDouble(0);
                    y.close();
                }
                double batched = (System.nanoTime() - t0) / 1e9;
                if (r >= 0) {
                    seconds[s][0] += engineSec;
                    seconds[s][1] += single;
                    seconds[s][2] += batched;
                }
                if (sink == Long.MIN_VALUE) {
                    System.out.println(sink);
                }
            }
        }
        StringBuilder table = new StringBuilder();
        table.append("| export | integer engine, 1 image (img/s) | DL4J fake-quant, batch 1 (img/s) | "
                + "DL4J fake-quant, batch 256 (img/s) | engine vs DL4J batch 1 |\n|---|---|---|---|---|\n");
        long total = (long) rounds * n;
        for (int s = 0; s < subjects.size(); s++) {
            double e = total / seconds[s][0];
            double b1 = total / seconds[s][1];
            double b256 = total / seconds[s][2];
            table.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %.0f | %.2fx |%n", subjects.get(s).name(), e,
                    b1, b256, e / b1));
        }
        System.out.print(table);
        String cmd = "scripts/bench-inference --images " + n + " --rounds " + rounds + " " + String.join(" ",
                dirs.stream().map(Path::toString).toList());
        String body = "## Integer engine vs DL4J inference (MNIST test images)\n\n`" + cmd + "`: each model runs the "
                + "same " + n + " test images for " + rounds + " rounds after a warm-up, models taking turns. The "
                + "integer engine (qat-inference, plain Java, one thread, one image at a time, input quantization "
                + "included, overflow tracking on) computes every layer in int32 arithmetic; DL4J runs the same trained "
                + "model's float32 fake-quant graph on the ND4J CPU backend. OMP_NUM_THREADS="
                + System.getenv().getOrDefault("OMP_NUM_THREADS", "(unset)") + ", " + LocalDate.now() + ".\n\n" + table;
        DocSections.write(out, QatBenchmark.TITLE, "bench-inference", body);
        System.out.println("wrote " + out);
    }

    private static INDArray firstImages(DataSetIterator it, int limit) {
        List<INDArray> parts = new ArrayList<>();
        int seen = 0;
        while (it.hasNext() && seen < limit) {
            INDArray f = it.next().getFeatures();
            int take = (int) Math.min(f.size(0), limit - seen);
            parts.add(take < f.size(0) ? f.get(NDArrayIndex.interval(0, take)).dup() : f);
            seen += take;
        }
        return Nd4j.concat(0, parts.toArray(new INDArray[0]));
    }

    private static void usage(String problem) {
        System.err.println("bench-inference: " + problem + ". Usage: scripts/bench-inference [--images N] [--rounds R] "
                + "[--out FILE] EXPORT_DIR...");
        System.exit(2);
    }
}
