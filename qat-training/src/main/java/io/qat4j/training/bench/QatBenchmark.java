package io.qat4j.training.bench;

import io.qat4j.training.config.ExperimentConfig;
import io.qat4j.training.data.DataSplits;
import io.qat4j.training.model.ModelFactory;
import io.qat4j.training.run.TrainingRun;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Training throughput of float, W8A8 and W4A4 LeNet-5 on the same MNIST batches, and the
 * fake-quantization overhead per training step. Models take turns in rounds (after a warm-up) so
 * that machine noise affects all of them alike.
 *
 * <p>Usage: {@code scripts/bench-qat [--iterations N] [--rounds R] [--out docs/benchmarks.md]}.
 */
public final class QatBenchmark {
    /** First line of a new benchmarks file. */
    static final String TITLE = "# Benchmarks";

    private QatBenchmark() {
    }

    public static void main(String[] args) {
        int iterations = 100;
        int rounds = 3;
        int warmup = 30;
        Path out = Path.of("docs/benchmarks.md");
        Path configs = Path.of("configs/mnist");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--iterations" -> iterations = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--configs" -> configs = Path.of(args[++i]);
                default -> {
                    System.err.println("bench-qat: unknown argument " + args[i]
                            + "; allowed: --iterations N, --rounds R, --warmup N, --out FILE, --configs DIR");
                    System.exit(2);
                }
            }
        }
        Map<String, String> models = new LinkedHashMap<>();
        models.put("float32", "lenet5-fp32.yaml");
        models.put("W8A8", "lenet5-w8a8.yaml");
        models.put("W4A4", "lenet5-w4a4.yaml");

        List<ExperimentConfig> cfgs = new ArrayList<>();
        List<MultiLayerNetwork> nets = new ArrayList<>();
        for (String file : models.values()) {
            ExperimentConfig c = ExperimentConfig.load(configs.resolve(file), List.of());
            cfgs.add(c);
            MultiLayerNetwork n = new MultiLayerNetwork(((io.qat4j.zoo.NetConf.Stack) ModelFactory.build(c)).conf());
            n.init();
            nets.add(n);
        }
        int batch = cfgs.get(0).training().batchSize();
        DataSplits data = TrainingRun.loadData(cfgs.get(0));
        List<DataSet> batches = new ArrayList<>();
        DataSetIterator it = data.train(batch, 0);
        while (it.hasNext() && batches.size() < Math.max(iterations, warmup)) {
            batches.add(it.next());
        }
        for (MultiLayerNetwork n : nets) {
            for (int i = 0; i < warmup; i++) {
                n.fit(batches.get(i % batches.size()));
            }
        }
        double[] seconds = new double[nets.size()];
        double[] cpuSeconds = new double[nets.size()];
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        for (int r = 0; r < rounds; r++) {
            for (int m = 0; m < nets.size(); m++) {
                long t0 = System.nanoTime();
                long c0 = threads.getCurrentThreadCpuTime();
                for (int i = 0; i < iterations; i++) {
                    nets.get(m).fit(batches.get(i % batches.size()));
                }
                cpuSeconds[m] += (threads.getCurrentThreadCpuTime() - c0) / 1e9;
                seconds[m] += (System.nanoTime() - t0) / 1e9;
            }
        }
        long images = (long) rounds * iterations * batch;
        StringBuilder table = new StringBuilder();
        table.append("| model | config | img/s (wall) | ms per step (wall) | CPU ms per step | overhead vs float32 (CPU) |"
                + " overhead (wall) |\n|---|---|---|---|---|---|---|\n");
        List<String> names = new ArrayList<>(models.keySet());
        for (int m = 0; m < nets.size(); m++) {
            double ips = images / seconds[m];
            double ms = 1000 * seconds[m] / (rounds * iterations);
            double cpuMs = 1000 * cpuSeconds[m] / (rounds * iterations);
            double overhead = seconds[m] / seconds[0] - 1;
            double cpuOverhead = cpuSeconds[m] / cpuSeconds[0] - 1;
            table.append(String.format(Locale.ROOT, "| %s | `configs/mnist/%s` | %.0f | %.1f | %.1f | %s | %s |%n", names.get(m),
                    models.get(names.get(m)), ips, ms, cpuMs,
                    m == 0 ? "-" : String.format(Locale.ROOT, "%+.1f%%", 100 * cpuOverhead),
                    m == 0 ? "-" : String.format(Locale.ROOT, "%+.1f%%", 100 * overhead)));
        }
        System.out.print(table);
        String doc = "## Quantization-aware training overhead (LeNet-5, MNIST, batch " + batch + ")\n\n"
                + "`scripts/bench-qat --iterations " + iterations + " --rounds " + rounds + "`: the three networks train on the "
                + "same " + iterations + " batches, taking turns for " + rounds + " rounds after " + warmup
                + " warm-up steps each; overhead is the extra time per training step against float32. CPU time is the training thread's own "
                + "(with OMP_NUM_THREADS=1 ND4J computes on that thread), which other processes on the machine do not "
                + "inflate; wall time is what a user waits. Measured on this project's 2-core build machine, CPU "
                + "backend, OMP_NUM_THREADS=" + System.getenv().getOrDefault("OMP_NUM_THREADS", "(unset)") + ", "
                + LocalDate.now() + ".\n\n" + table;
        DocSections.write(out, TITLE, "bench-qat", doc);
        System.out.println("wrote " + out);
    }
}
