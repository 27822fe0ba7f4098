package io.qat4j.training.bench;

import io.qat4j.inference.Quantization;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qat4j.inference.engine.EngineConfig;
import io.qat4j.inference.engine.FastEngine;
import io.qat4j.inference.engine.IntegerEngine;
import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.ExportReader;
import io.qat4j.training.config.ExperimentConfig;
import io.qat4j.training.data.DataSplits;
import io.qat4j.training.export.ExportInfo;
import io.qat4j.training.run.RunDirectory;
import io.qat4j.training.run.TrainingRun;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
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
 * (2 threads), {@code engine_fast_1_thread_img_s}, {@code dl4j_batch1_img_s}, {@code dl4j_batch_img_s}, and per
 * CPU second of the measuring thread {@code *_cpu_img_s}, which other processes on the machine do not inflate).
 *
 * <p>Usage: {@code scripts/bench-inference [--images N] [--rounds R] [--out FILE] [--json FILE] EXPORT_DIR...}
 * (directories written by {@code qat export}, whose {@code source.json} names the model and run).
 */
public final class InferenceBenchmark {
    private InferenceBenchmark() {
    }

    private record Subject(String name, ExportModel export, io.qat4j.training.model.Network net) {
    }

    /** Images per second of one export, as written by {@code --json}. */
    public record Result(@JsonProperty("export") String export,
                  @JsonProperty("engine_reference_img_s") double engineReference,
                  @JsonProperty("engine_fast_1_thread_img_s") double engineFast1,
                  @JsonProperty("engine_fast_img_s") double engineFast,
                  @JsonProperty("engine_fast_threads") int fastThreads,
                  @JsonProperty("dl4j_batch1_img_s") double dl4jBatch1,
                  @JsonProperty("dl4j_batch_img_s") double dl4jBatch,
                  @JsonProperty("dl4j_batch_size") int batch,
                  @JsonProperty("engine_reference_cpu_img_s") double engineReferenceCpu,
                  @JsonProperty("engine_fast_1_thread_cpu_img_s") double engineFast1Cpu,
                  @JsonProperty("dl4j_batch1_cpu_img_s") double dl4jBatch1Cpu,
                  @JsonProperty("dl4j_batch_cpu_img_s") double dl4jBatchCpu) {
    }

    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();
    private static long sink;

    /** Wall and CPU seconds (of this thread) that a task takes. */
    private static double[] time(Runnable task) {
        long wall = System.nanoTime();
        long cpu = CPU.getCurrentThreadCpuTime();
        task.run();
        return new double[] {(System.nanoTime() - wall) / 1e9, (CPU.getCurrentThreadCpuTime() - cpu) / 1e9};
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
                DataSplits data = TrainingRun.loadData(ExperimentConfig.load(run.config(), List.of()));
                x = firstImages(data.test(500), images);
            }
            Path named = d.getFileName().toString().equals("export") && d.getParent() != null ? d.getParent() : d;
            subjects.add(new Subject(named.getFileName().toString(), ExportReader.read(d),
                    io.qat4j.training.model.Network.restore(Path.of(info.model()))));
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
        // seconds[export][measurement][0 = wall, 1 = CPU of this thread]; measurements: reference engine, fast
        // engine 1 thread, fast engine 2 threads (wall only), DL4J batch 1, DL4J batch 256
        double[][][] seconds = new double[subjects.size()][5][2];
        for (int r = -1; r < rounds; r++) { // round -1 warms up
            for (int s = 0; s < subjects.size(); s++) {
                Subject sub = subjects.get(s);
                ActivationSpec in = sub.export().manifest().input();
                IntegerEngine engine = new IntegerEngine(sub.export(), EngineConfig.INT32);
                int count = r < 0 ? Math.min(n, 300) : n;
                double[][] t = new double[5][];
                t[0] = time(() -> {
                    for (int i = 0; i < count; i++) {
                        sink += engine.run(Quantization.quantizeInput(xs[i], in))[0];
                    }
                });
                for (int threads = 1; threads <= 2; threads++) {
                    try (FastEngine fast = new FastEngine(sub.export(), EngineConfig.INT32, threads)) {
                        // the JIT needs about 10,000 images to settle: the warm-up repeats the images
                        int fastCount = r < 0 ? Math.max(3 * n, 10_000) : n;
                        t[threads] = time(() -> {
                            for (int j = 0; j < fastCount; j += BATCH) {
                                int i = j % n;
                                int[][] codes = new int[Math.min(BATCH, n - i)][];
                                for (int b = 0; b < codes.length; b++) {
                                    codes[b] = Quantization.quantizeInput(xs[i + b], in);
                                }
                                sink += fast.run(codes)[0][0];
                            }
                        });
                    }
                }
                t[3] = time(() -> {
                    for (int i = 0; i < count; i++) {
                        INDArray y = sub.net().output(singles[i]);
                        sink += (long) y.getDouble(0);
                        y.close();
                    }
                });
                t[4] = time(() -> {
                    for (int k = 0; k < batches.size() && k * BATCH < count; k++) {
                        INDArray y = sub.net().output(batches.get(k));
                        sink += (long) y.getDouble(0);
                        y.close();
                    }
                });
                for (int k = 0; k < 5 && r >= 0; k++) {
                    seconds[s][k][0] += t[k][0];
                    seconds[s][k][1] += t[k][1];
                }
            }
        }
        if (sink == Long.MIN_VALUE) {
            System.out.println(sink);
        }
        StringBuilder table = new StringBuilder();
        table.append("| export | reference engine, 1 image | fast engine, 1 thread | fast engine, 2 threads | DL4J "
                + "fake-quant, batch 1 | DL4J fake-quant, batch 256 | fast vs DL4J batch 256 |\n"
                + "|---|---|---|---|---|---|---|\n");
        long total = (long) rounds * n;
        List<Result> results = new ArrayList<>();
        for (int s = 0; s < subjects.size(); s++) {
            double[][] sec = seconds[s];
            Result res = new Result(subjects.get(s).name(), total / sec[0][0], total / sec[1][0], total / sec[2][0], 2,
                    total / sec[3][0], total / sec[4][0], BATCH, total / sec[0][1], total / sec[1][1],
                    total / sec[3][1], total / sec[4][1]);
            results.add(res);
            table.append(String.format(Locale.ROOT, "| %s | %.0f (%.0f) | %.0f (%.0f) | %.0f | %.0f (%.0f) | %.0f (%.0f) "
                    + "| %.1fx (1 thread, CPU), %.1fx (2 threads, wall) |%n", res.export(), res.engineReference(),
                    res.engineReferenceCpu(), res.engineFast1(), res.engineFast1Cpu(), res.engineFast(),
                    res.dl4jBatch1(), res.dl4jBatch1Cpu(), res.dl4jBatch(), res.dl4jBatchCpu(),
                    res.engineFast1Cpu() / res.dl4jBatchCpu(), res.engineFast() / res.dl4jBatch()));
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
                + "Each cell is images per second of wall time, and in parentheses per second of the measuring "
                + "thread's CPU time (with OMP_NUM_THREADS=1 DL4J computes on that thread), which other processes "
                + "on the machine do not inflate; the 2-thread engine has wall time only. OMP_NUM_THREADS="
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
