package io.qat4j.training.bench;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The Markdown section {@link QatBenchmark} writes into docs/benchmarks.md from its results by thread count. */
final class BenchReport {
    private static final int CORES = Runtime.getRuntime().availableProcessors();

    private BenchReport() {
    }

    static String markdown(QatBenchmark.Options o, Map<String, Map<String, Object>> byThreads, double loadBefore,
                           double loadAfter, LocalDate date) {
        List<String> threads = new ArrayList<>(byThreads.keySet());
        Map<String, Object> first = byThreads.get(threads.get(0));
        StringBuilder s = new StringBuilder();
        s.append("## Training throughput: stock DL4J vs quantization-aware training (MNIST, batch ")
                .append(first.get("batch_size")).append(")\n\n");
        s.append("`scripts/bench-qat").append(o.threads() == null ? "" : " --threads " + String.join(",", threads))
                .append(" --iterations ").append(o.iterations()).append(" --rounds ").append(o.rounds())
                .append(" --resnet-blocks ").append(o.resnetBlocks()).append(" --resnet-iterations ")
                .append(o.resnetIterations()).append(" --fp8-iterations ").append(o.fp8Iterations())
                .append("`: the networks train on the same MNIST batches, taking turns for ")
                .append(o.rounds()).append(" rounds of ").append(o.iterations()).append(" steps (ResNet: ")
                .append(o.resnetIterations()).append(") after a warm-up; img/s is wall-clock. Each thread count runs in "
                + "its own JVM with OMP_NUM_THREADS set before ND4J loads (ND4J's OpenMP / OpenBLAS threads and the "
                + "convolution kernels' threads follow it). *DL4J stock float* is what `configs/mnist/lenet5-fp32.yaml` "
                + "builds (plain `ConvolutionLayer` / `SubsamplingLayer` / `DenseLayer` / `OutputLayer`); *float* is the "
                + "same network of quantized layers with every site float, the project's own float path (its "
                + "convolutions run on the project's im2col / col2im kernels and compute the stock network's numbers bit "
                + "for bit); W8A8 and W4A4 are the experiment configs. ")
                .append(String.format(Locale.ROOT, "Load average of the machine (%d cores): %.2f before, %.2f after. "
                        + "%s.", CORES, loadBefore, loadAfter, date));
        if (Math.max(loadBefore, loadAfter) > CORES) {
            s.append(" Other work kept the machine oversubscribed during this run: the wall-clock numbers, above all "
                    + "those with 2 threads (ND4J's OpenMP threads spin-wait for each other when one of them is "
                    + "descheduled), understate what a quiet machine gives; the 1-thread CPU times per step are the "
                    + "steadier figures, and the ratios between models measured in the same JVM still hold.");
        }
        s.append("\n\n");
        s.append("Threads in use per run (OMP_NUM_THREADS / ND4J max threads / kernel threads / OMP_WAIT_POLICY): ");
        List<String> used = new ArrayList<>();
        for (String t : threads) {
            Map<String, Object> r = byThreads.get(t);
            used.add(r.get("omp_num_threads") + " / " + r.get("nd4j_max_threads") + " / " + r.get("kernel_threads")
                    + " / " + r.get("omp_wait_policy"));
        }
        s.append(String.join("; ", used)).append(".\n\n");
        s.append("### LeNet-5 (20C5-MP2-50C5-MP2-500FC)\n\n");
        table(s, QatBenchmark.LENET, threads, byThreads);
        ratios(s, "", threads, byThreads, true);
        s.append("\nProcess CPU ms per training step (all threads; with other work on the machine, less inflated than "
                + "wall time):\n\n");
        cpuTable(s, QatBenchmark.LENET, threads, byThreads);
        if (first.containsKey("fp8_img_s")) {
            s.append("\n### FP8 training emulation (LeNet-5 WAGE variant, 32C5-MP2-64C5-MP2-512FC)\n\n");
            table(s, QatBenchmark.FP8, threads, byThreads);
            s.append("\n| threads | FP8 step time / stock float step time |\n|---|---|\n");
            for (String t : threads) {
                Map<String, Object> r = byThreads.get(t);
                s.append(String.format(Locale.ROOT, "| %s | %.2fx |%n", t,
                        value(r, "wage_stock_float_img_s") / value(r, "fp8_img_s")));
            }
        }
        if (first.containsKey("resnet_float_img_s")) {
            s.append("\n### ResNet-").append(first.get("resnet_depth")).append(" (28x28x1, 3x3 conv + BN + ReLU blocks "
                    + "at 16 / 32 / 64 channels, ComputationGraph)\n\n");
            table(s, QatBenchmark.RESNET, threads, byThreads);
            ratios(s, "resnet_", threads, byThreads, false);
            s.append("\nResNet W4A4: 4-bit per-channel weights and 4-bit unsigned EMA-ranged inputs on every convolution "
                    + "(8 bits for the first), 8-bit output-layer weights.\n");
        }
        return s.toString();
    }

    private static double value(Map<String, Object> r, String key) {
        return ((Number) r.get(key)).doubleValue();
    }

    private static void table(StringBuilder s, String[][] models, List<String> threads,
                              Map<String, Map<String, Object>> byThreads) {
        s.append("| model |");
        for (String t : threads) {
            s.append(" img/s, ").append(t).append(t.equals("1") ? " thread" : " threads").append(" |");
        }
        for (int i = 1; i < threads.size(); i++) {
            s.append(" ").append(threads.get(i)).append(" / ").append(threads.get(0)).append(" threads |");
        }
        s.append("\n|---|").append("---|".repeat(2 * threads.size() - 1)).append("\n");
        for (String[] m : models) {
            s.append("| ").append(m[1]).append(" |");
            for (String t : threads) {
                s.append(String.format(Locale.ROOT, " %.0f |", value(byThreads.get(t), m[0] + "_img_s")));
            }
            double base = value(byThreads.get(threads.get(0)), m[0] + "_img_s");
            for (int i = 1; i < threads.size(); i++) {
                s.append(String.format(Locale.ROOT, " %.2fx |", value(byThreads.get(threads.get(i)), m[0] + "_img_s")
                        / base));
            }
            s.append("\n");
        }
    }

    private static void cpuTable(StringBuilder s, String[][] models, List<String> threads,
                                 Map<String, Map<String, Object>> byThreads) {
        s.append("| model |");
        for (String t : threads) {
            s.append(" CPU ms/step, ").append(t).append(t.equals("1") ? " thread" : " threads").append(" |");
        }
        s.append("\n|---|").append("---|".repeat(threads.size())).append("\n");
        for (String[] m : models) {
            s.append("| ").append(m[1]).append(" |");
            for (String t : threads) {
                s.append(String.format(Locale.ROOT, " %.1f |", value(byThreads.get(t), m[0] + "_cpu_ms_per_step")));
            }
            s.append("\n");
        }
    }

    private static void ratios(StringBuilder s, String prefix, List<String> threads,
                               Map<String, Map<String, Object>> byThreads, boolean w8a8) {
        s.append("\n| threads | float / stock float | W4A4 / stock float |")
                .append(w8a8 ? " W8A8 overhead vs float |" : "").append(" W4A4 overhead vs float |\n|---|---|---|")
                .append(w8a8 ? "---|" : "").append("---|\n");
        for (String t : threads) {
            Map<String, Object> r = byThreads.get(t);
            double stock = value(r, prefix + "stock_float_img_s");
            double own = value(r, prefix + "float_img_s");
            double w4 = value(r, prefix + "w4a4_img_s");
            s.append(String.format(Locale.ROOT, "| %s | %.2fx | %.2fx |", t, own / stock, w4 / stock));
            if (w8a8) {
                s.append(String.format(Locale.ROOT, " %+.1f%% |", 100 * (own / value(r, "w8a8_img_s") - 1)));
            }
            s.append(String.format(Locale.ROOT, " %+.1f%% |%n", 100 * (own / w4 - 1)));
        }
    }
}
