package io.qat4j.training.bench;

import io.qat4j.inference.Quantization;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qat4j.inference.engine.EngineConfig;
import io.qat4j.inference.engine.FastEngine;
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
import java.util.Map;

/**
 * Inference throughput of the integer engine next to DL4J running the same trained model (its float32 fake-quant
 * graph), on the same test images.
 *
 * <p>Per export: the reference integer engine runs one image at a time on one thread; the fast integer engine
 * ({@link FastEngine}, the same output codes) runs batches of 256 images on 1 and on 2 threads (input quantization
 * included in both); DL4J runs the model with batch 1 and with batch 256. Every model is warmed up first and the
 * measurements take turns over several rounds. Writes the "bench-inference" section of {@code docs/benchmarks.md}
 * and, with {@code --json FILE}, the numbers per export ({@code engine_reference_img_s}, {@code engine_fast_img_s}
 * (2 threads), {@code engine_fast_1_thread_img_s}, {@code dl4j_batch1_img_s}, {@code dl4j_batch_img_s}).
 *
 * <p>Usage: {@code scripts/bench-inference [--images N] [--rounds R] [--out FILE] [--json FILE] EXPORT_DIR...}
 * (directories written by {@code qat export}, whose {@code source.json} names the model and run).
 */
public final class InferenceBenchmark {
    private InferenceBenchmark() {
    }

    private record Subject(String name, ExportModel export, MultiLayerNetwork net) {
    }

    /** Images per second of one export, as written by {@code --json}. */
    public record Result(@JsonProperty("export") String export,
                  @JsonProperty("engine_reference_img_s") double engineReference,
                  @JsonProperty("engine_fast_1_thread_img_s") double engineFast1,
                  @JsonProperty("engine_fast_img_s") double engineFast,
                  @JsonProperty("engine_fast_threads") int fastThreads,
                  @JsonProperty("dl4j_batch1_img_s") double dl4jBatch1,
                  @JsonProperty("dl4j_batch_img_s") double dl4jBatch,
                  @JsonProperty("dl4j_batch_size") int batch) {
    }

    private static final int BATCH = 256;

    public static void main(String[] args) throws Exception {
        int images = 2000;
        int rounds = 3;
        Path out = Path.of("docs/benchmarks.md");
        Path json = null;
        List<Path> dirs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--images" -> images = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--json" -> json = Path.of(args[++i]);
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
                    TrainingRun.restoreModel(Path.of(info.model()))));
        }
        int n = (int) x.size(0);
        float[][] xs = x.reshape('c', n, x.length() / n).toFloatMatrix();
        // inputs sliced once; outputs are closed right away, so off-heap memory does not wait for the GC
        INDArray[] singles = new INDArray[n];
        for (int i = 0; i < n; i++) {
            singles[i] = x.get(NDArrayIndex.interval(i, i + 1)).dup();
        }
        List<INDArray> batches = new ArrayList<>();
        for (int i = 0; i < n; i += BATCH) {
            batches.add(x.get(NDArrayIndex.interval(i, Math.min(n, i + BATCH))).dup());
        }
        double[][] seconds = new double[subjects.size()][5];
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
                double[] fastSec = new double[2];
                for (int threads = 1; threads <= 2; threads++) {
                    try (FastEngine fast = new FastEngine(sub.export(), EngineConfig.INT32, threads)) {
                        // the warm-up runs every image three times: the JIT needs a few thousand images
                        int fastCount = r < 0 ? 3 * n : n;
                        t0 = System.nanoTime();
                        for (int j = 0; j < fastCount; j += BATCH) {
                            int i = j % n;
                            int[][] codes = new int[Math.min(BATCH, n - i)][];
                            for (int b = 0; b < codes.length; b++) {
                                codes[b] = Quantization.quantizeInput(xs[i + b], sub.export().manifest().input());
                            }
                            sink += fast.run(codes)[0][0];
                        }
                        fastSec[threads - 1] = (System.nanoTime() - t0) / 1e9;
                    }
                }
                t0 = System.nanoTime();
                for (int i = 0; i < count; i++) {
                    INDArray y = sub.net().output(singles[i], false);
                    sink += (long) y.getDouble(0);
                    y.close();
                }
                double single = (System.nanoTime() - t0) / 1e9;
                t0 = System.nanoTime();
                for (int k = 0; k < batches.size() && k * BATCH < count; k++) {
                    INDArray y = sub.net().output(batches.get(k), false);
                    sink += (long) y.getDouble(0);
                    y.close();
                }
                double batched = (System.nanoTime() - t0) / 1e9;
                if (r >= 0) {
                    seconds[s][0] += engineSec;
                    seconds[s][1] += single;
                    seconds[s][2] += batched;
                    seconds[s][3] += fastSec[0];
                    seconds[s][4] += fastSec[1];
                }
                if (sink == Long.MIN_VALUE) {
                    System.out.println(sink);
                }
            }
        }
        StringBuilder table = new StringBuilder();
        table.append("| export | reference engine, 1 image (img/s) | fast engine, 1 thread (img/s) | fast engine, "
                + "2 threads (img/s) | DL4J fake-quant, batch 1 (img/s) | DL4J fake-quant, batch 256 (img/s) | "
                + "fast (2 threads) vs DL4J batch 256 |\n|---|---|---|---|---|---|---|\n");
        long total = (long) rounds * n;
        List<Result> results = new ArrayList<>();
        for (int s = 0; s < subjects.size(); s++) {
            Result res = new Result(subjects.get(s).name(), total / seconds[s][0], total / seconds[s][3],
                    total / seconds[s][4], 2, total / seconds[s][1], total / seconds[s][2], BATCH);
            results.add(res);
            table.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.1fx |%n", res.export(),
                    res.engineReference(), res.engineFast1(), res.engineFast(), res.dl4jBatch1(), res.dl4jBatch(),
                    res.engineFast() / res.dl4jBatch()));
        }
        System.out.print(table);
        if (json != null) {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), Map.of("images", n,
                    "rounds", rounds, "omp_num_threads", System.getenv().getOrDefault("OMP_NUM_THREADS", "(unset)"),
                    "date", LocalDate.now().toString(), "exports", results));
            System.out.println("wrote " + json);
        }
        String cmd = "scripts/bench-inference --images " + n + " --rounds " + rounds + " " + String.join(" ",
                dirs.stream().map(Path::toString).toList());
        String body = "## Integer engine vs DL4J inference (MNIST test images)\n\n`" + cmd + "`: each model runs the "
                + "same " + n + " test images for " + rounds + " rounds after a warm-up, models taking turns. The "
                + "reference integer engine (qat-inference, plain Java, one thread, one image at a time, overflow "
                + "tracking on) and the fast integer engine (the same output codes, bit for bit; batches of " + BATCH
                + " images side by side in vectorized int32 loops, on 1 and 2 threads) both include input "
                + "quantization; DL4J runs the same trained model's float32 fake-quant graph on the ND4J CPU backend. "
                + "OMP_NUM_THREADS="
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
                + "[--out FILE] [--json FILE] EXPORT_DIR...");
        System.exit(2);
    }
}
