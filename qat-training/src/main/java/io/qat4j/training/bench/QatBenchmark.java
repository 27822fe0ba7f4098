package io.qat4j.training.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.qat4j.layers.nn.impl.ConvKernels;
import io.qat4j.training.config.ExperimentConfig;
import io.qat4j.training.data.DataSplits;
import io.qat4j.training.model.ModelFactory;
import io.qat4j.training.run.TrainingRun;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Training throughput on the same MNIST batches (batch size of the experiment configs): LeNet-5 as DL4J's stock float
 * network (what {@code lenet5-fp32.yaml} builds), as the project's own float path (the quantized layers with every
 * site float, on the project's convolution kernels), W8A8 and W4A4; and a ResNet-(6n+2) for 28x28 images (stock
 * float, own float, W4A4); and the FP8 training emulation against its float twin. Models take turns in rounds after
 * a warm-up, so that machine noise affects all alike.
 *
 * <p>{@code --threads 1,2} measures each thread count in its own JVM with {@code OMP_NUM_THREADS} set before ND4J
 * loads (the only reliable way to set ND4J's OpenMP / OpenBLAS threads); each child reports the thread counts ND4J
 * and the kernels actually use. Without it the current JVM measures with the current setting.
 *
 * <p>Usage: {@code scripts/bench-qat [--threads 1,2] [--iterations N] [--rounds R] [--warmup N] [--resnet-blocks N]
 * [--resnet-iterations N] [--fp8-iterations N] [--json FILE] [--out docs/benchmarks.md]}.
 */
public final class QatBenchmark {
    /** First line of a new benchmarks file. */
    static final String TITLE = "# Benchmarks";
    /** LeNet-5 models: JSON key prefix, label. */
    static final String[][] LENET = {{"stock_float", "DL4J stock float"}, {"float", "float (quantized layers, float sites)"},
        {"w8a8", "W8A8 (`lenet5-w8a8.yaml`)"}, {"w4a4", "W4A4 (`lenet5-w4a4.yaml`)"}};
    /** FP8 emulation models (LeNet-5 WAGE variant): JSON key prefix, label. */
    static final String[][] FP8 = {{"wage_stock_float", "DL4J stock float (`lenet5-wage-fp32.yaml`)"},
        {"fp8", "FP8 training, FP16 chunked accumulation (`lenet5-fp8-train.yaml`)"}};
    /** ResNet models: JSON key prefix, label. */
    static final String[][] RESNET = {{"resnet_stock_float", "DL4J stock float"},
        {"resnet_float", "float (quantized layers, float sites)"}, {"resnet_w4a4", "W4A4"}};

    private QatBenchmark() {
    }

    /** The command-line options. */
    record Options(int iterations, int rounds, int warmup, Path out, Path configs, List<Integer> threads, Path json,
                   int resnetBlocks, int resnetIterations, int fp8Iterations, Path fromJson, boolean child) {
        static Options parse(String[] args) {
            int iterations = 100;
            int rounds = 3;
            int warmup = 30;
            Path out = Path.of("docs/benchmarks.md");
            Path configs = Path.of("configs/mnist");
            List<Integer> threads = null;
            Path json = null;
            int resnetBlocks = 3;
            int resnetIterations = 10;
            int fp8Iterations = 10;
            Path fromJson = null;
            boolean child = false;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--iterations" -> iterations = Integer.parseInt(args[++i]);
                    case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                    case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                    case "--out" -> out = Path.of(args[++i]);
                    case "--configs" -> configs = Path.of(args[++i]);
                    case "--threads" -> threads = Arrays.stream(args[++i].split(",")).map(String::trim)
                            .map(Integer::parseInt).toList();
                    case "--json" -> json = Path.of(args[++i]);
                    case "--resnet-blocks" -> resnetBlocks = Integer.parseInt(args[++i]);
                    case "--resnet-iterations" -> resnetIterations = Integer.parseInt(args[++i]);
                    case "--fp8-iterations" -> fp8Iterations = Integer.parseInt(args[++i]);
                    case "--from-json" -> fromJson = Path.of(args[++i]);
                    case "--child" -> child = true;
                    default -> {
                        System.err.println("bench-qat: unknown argument " + args[i] + "; allowed: --threads LIST, "
                                + "--iterations N, --rounds R, --warmup N, --resnet-blocks N (0: no ResNet), "
                                + "--resnet-iterations N, --fp8-iterations N (0: no FP8), --json FILE, --out FILE, "
                                + "--configs DIR, --from-json FILE (rewrite the Markdown of a saved run, given its options)");
                        System.exit(2);
                    }
                }
            }
            if (threads != null && threads.stream().anyMatch(t -> t < 1)) {
                System.err.println("bench-qat: --threads takes positive thread counts, got " + threads);
                System.exit(2);
            }
            return new Options(iterations, rounds, warmup, out, configs, threads, json, resnetBlocks, resnetIterations,
                    fp8Iterations, fromJson, child);
        }

        /** The arguments a child JVM gets. */
        List<String> childArgs(Path childJson) {
            return List.of("--child", "--json", childJson.toString(), "--iterations", "" + iterations, "--rounds",
                    "" + rounds, "--warmup", "" + warmup, "--configs", configs.toString(), "--resnet-blocks",
                    "" + resnetBlocks, "--resnet-iterations", "" + resnetIterations, "--fp8-iterations",
                    "" + fp8Iterations);
        }
    }

    public static void main(String[] args) {
        Options o = Options.parse(args);
        if (o.child()) {
            writeJson(o.json(), measure(o));
            return;
        }
        if (o.fromJson() != null) {
            rewrite(o);
            return;
        }
        double loadBefore = load();
        Map<String, Map<String, Object>> results = new LinkedHashMap<>();
        if (o.threads() == null) {
            Map<String, Object> r = measure(o);
            results.put(String.valueOf(r.get("omp_num_threads")), r);
        } else {
            for (int t : o.threads()) {
                results.put(String.valueOf(t), runChild(o, t));
            }
        }
        double loadAfter = load();
        String doc = BenchReport.markdown(o, results, loadBefore, loadAfter, LocalDate.now());
        System.out.print(doc);
        DocSections.write(o.out(), TITLE, "bench-qat", doc);
        System.out.println("wrote " + o.out());
        if (o.json() != null) {
            Map<String, Object> all = new LinkedHashMap<>();
            all.put("date", LocalDate.now().toString());
            all.put("load_average_before", loadBefore);
            all.put("load_average_after", loadAfter);
            all.put("threads", results);
            writeJson(o.json(), all);
            System.out.println("wrote " + o.json());
        }
    }

    /** Writes the Markdown section of a run saved with {@code --json} (measured with the options given now). */
    @SuppressWarnings("unchecked")
    private static void rewrite(Options o) {
        try {
            Map<String, Object> saved = new ObjectMapper().readValue(o.fromJson().toFile(), LinkedHashMap.class);
            Map<String, Map<String, Object>> results = (Map<String, Map<String, Object>>) saved.get("threads");
            String doc = BenchReport.markdown(o, results, ((Number) saved.get("load_average_before")).doubleValue(),
                    ((Number) saved.get("load_average_after")).doubleValue(), LocalDate.parse((String) saved.get("date")));
            DocSections.write(o.out(), TITLE, "bench-qat", doc);
            System.out.println("wrote " + o.out());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The 1-minute load average of the machine (negative when unknown). */
    static double load() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    /** Measures in a child JVM whose OMP_NUM_THREADS is {@code threads}; returns its results. */
    private static Map<String, Object> runChild(Options o, int threads) {
        try {
            Path tmp = Files.createTempFile("bench-qat-", ".json");
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add(QatBenchmark.class.getName());
            cmd.addAll(o.childArgs(tmp));
            ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
            pb.environment().put("OMP_NUM_THREADS", String.valueOf(threads));
            System.out.println("bench-qat: OMP_NUM_THREADS=" + threads + " (child JVM)");
            int exit = pb.start().waitFor();
            if (exit != 0) {
                throw new IllegalStateException("bench-qat: the child JVM with OMP_NUM_THREADS=" + threads
                        + " failed (exit code " + exit + ")");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> r = new ObjectMapper().readValue(tmp.toFile(), LinkedHashMap.class);
            Files.deleteIfExists(tmp);
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static void writeJson(Path file, Map<String, Object> value) {
        try {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Measures every model in this JVM: img/s and ms per step by model key, and the thread counts in use. */
    static Map<String, Object> measure(Options o) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("omp_num_threads", System.getenv().getOrDefault("OMP_NUM_THREADS", "(unset)"));
        r.put("omp_wait_policy", System.getenv().getOrDefault("OMP_WAIT_POLICY", "(unset)"));
        r.put("nd4j_max_threads", Nd4j.getEnvironment().maxThreads());
        r.put("kernel_threads", ConvKernels.threads());
        r.put("load_average_start", load());
        System.out.println("bench-qat: OMP_NUM_THREADS=" + r.get("omp_num_threads") + ", ND4J max threads "
                + r.get("nd4j_max_threads") + ", kernel threads " + r.get("kernel_threads"));

        ExperimentConfig fp32 = ExperimentConfig.load(o.configs().resolve("lenet5-fp32.yaml"), List.of());
        MultiLayerConfiguration stockConf = stack(ModelFactory.build(fp32));
        if (!BenchNetworks.allStock(stockConf)) {
            throw new IllegalStateException("lenet5-fp32.yaml no longer builds stock DL4J layers: " + stockConf);
        }
        List<MultiLayerNetwork> nets = new ArrayList<>();
        nets.add(init(stockConf));
        nets.add(init(BenchNetworks.floatTwin(stockConf)));
        nets.get(1).setParams(nets.get(0).params().dup());
        for (String file : new String[] {"lenet5-w8a8.yaml", "lenet5-w4a4.yaml"}) {
            nets.add(init(stack(ModelFactory.build(ExperimentConfig.load(o.configs().resolve(file), List.of())))));
        }
        int batch = fp32.training().batchSize();
        r.put("batch_size", batch);
        DataSplits data = TrainingRun.loadData(fp32);
        List<DataSet> batches = new ArrayList<>();
        DataSetIterator it = data.train(batch, 0);
        int needed = Math.max(Math.max(o.iterations(), o.warmup()), Math.max(o.resnetIterations(), o.fp8Iterations()));
        while (it.hasNext() && batches.size() < needed) {
            batches.add(it.next());
        }
        double[][] t = timeTurns(nets.stream().<Consumer<DataSet>>map(n -> n::fit).toList(), batches, o.iterations(),
                o.rounds(), o.warmup());
        put(r, LENET, t, (long) o.rounds() * o.iterations() * batch);

        if (o.fp8Iterations() > 0) {
            List<MultiLayerNetwork> fp8 = new ArrayList<>();
            for (String file : new String[] {"lenet5-wage-fp32.yaml", "lenet5-fp8-train.yaml"}) {
                fp8.add(init(stack(ModelFactory.build(ExperimentConfig.load(o.configs().resolve(file), List.of())))));
            }
            double[][] ft = timeTurns(fp8.stream().<Consumer<DataSet>>map(n -> n::fit).toList(), batches,
                    o.fp8Iterations(), o.rounds(), Math.max(2, o.fp8Iterations() / 3));
            put(r, FP8, ft, (long) o.rounds() * o.fp8Iterations() * batch);
        }
        if (o.resnetBlocks() > 0) {
            List<ComputationGraph> graphs = new ArrayList<>();
            for (BenchNetworks.Variant v : BenchNetworks.Variant.values()) {
                ComputationGraph g = new ComputationGraph(BenchNetworks.resnet(o.resnetBlocks(), v));
                g.init();
                graphs.add(g);
            }
            graphs.get(1).setParams(graphs.get(0).params().dup());
            int resnetWarmup = Math.max(2, o.resnetIterations() / 3);
            double[][] rt = timeTurns(graphs.stream().<Consumer<DataSet>>map(g -> g::fit).toList(), batches,
                    o.resnetIterations(), o.rounds(), resnetWarmup);
            put(r, RESNET, rt, (long) o.rounds() * o.resnetIterations() * batch);
            r.put("resnet_depth", 6 * o.resnetBlocks() + 2);
        }
        r.put("load_average_end", load());
        return r;
    }

    private static MultiLayerConfiguration stack(io.qat4j.zoo.NetConf conf) {
        return ((io.qat4j.zoo.NetConf.Stack) conf).conf();
    }

    private static MultiLayerNetwork init(MultiLayerConfiguration c) {
        MultiLayerNetwork n = new MultiLayerNetwork(c);
        n.init();
        return n;
    }

    private static void put(Map<String, Object> r, String[][] models, double[][] t, long images) {
        for (int m = 0; m < models.length; m++) {
            r.put(models[m][0] + "_img_s", images / t[0][m]);
            r.put(models[m][0] + "_ms_per_step", 1000 * t[0][m] * t[2][0] / images);
            r.put(models[m][0] + "_cpu_ms_per_step", 1000 * t[1][m] * t[2][0] / images);
        }
    }

    /**
     * Trains each model on {@code warmup} batches, then {@code rounds} times each model in turn on {@code iterations}
     * batches. Returns {wall seconds per model, process CPU seconds per model, {batch size}}.
     */
    static double[][] timeTurns(List<Consumer<DataSet>> models, List<DataSet> batches, int iterations, int rounds,
                                int warmup) {
        for (Consumer<DataSet> m : models) {
            for (int i = 0; i < warmup; i++) {
                m.accept(batches.get(i % batches.size()));
            }
        }
        double[] wall = new double[models.size()];
        double[] cpu = new double[models.size()];
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        for (int r = 0; r < rounds; r++) {
            for (int m = 0; m < models.size(); m++) {
                long t0 = System.nanoTime();
                long c0 = os.getProcessCpuTime();
                for (int i = 0; i < iterations; i++) {
                    models.get(m).accept(batches.get(i % batches.size()));
                }
                cpu[m] += (os.getProcessCpuTime() - c0) / 1e9;
                wall[m] += (System.nanoTime() - t0) / 1e9;
            }
        }
        return new double[][] {wall, cpu, {batches.get(0).numExamples()}};
    }
}
