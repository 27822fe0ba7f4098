package io.qat4j.layers.nn.impl;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The threads of the convolution kernels ({@link ConvKernels}): as many as ND4J's native code uses, i.e. the
 * environment variable {@code OMP_NUM_THREADS} when set to a positive integer, else the available processors.
 * A fixed pool of that many threads minus one daemon workers; the calling thread computes the first share, so one
 * thread means no pool and no hand-off.
 */
final class KernelThreads {
    /** The number of threads a kernel splits its work across. */
    static final int COUNT = count(System.getenv("OMP_NUM_THREADS"), Runtime.getRuntime().availableProcessors());

    private static final ExecutorService POOL = COUNT > 1 ? Executors.newFixedThreadPool(COUNT - 1, r -> {
        Thread t = new Thread(r, "qat4j-conv-kernel");
        t.setDaemon(true);
        return t;
    }) : null;

    private KernelThreads() {
    }

    /** The thread count for an {@code OMP_NUM_THREADS} value (null when unset) and a processor count. */
    static int count(String ompNumThreads, int processors) {
        if (ompNumThreads != null) {
            try {
                int n = Integer.parseInt(ompNumThreads.trim());
                if (n > 0) {
                    return n;
                }
            } catch (NumberFormatException ignored) {
                // not a number: fall back to the processors, as OpenMP ignores a malformed value
            }
        }
        return Math.max(1, processors);
    }

    /** Work on the items {@code [from, to)}. */
    @FunctionalInterface
    interface Range {
        void run(int from, int to);
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into at most {@link #COUNT} contiguous ranges of (nearly) equal
     * size, one per thread, and returns when all are done. Each item is processed by exactly one thread, so
     * results do not depend on the thread count.
     */
    static void forEach(int n, Range body) {
        int parts = Math.min(COUNT, n);
        if (parts <= 1) {
            body.run(0, n);
            return;
        }
        List<Future<?>> futures = new ArrayList<>(parts - 1);
        for (int p = 1; p < parts; p++) {
            int from = (int) ((long) n * p / parts);
            int to = (int) ((long) n * (p + 1) / parts);
            futures.add(POOL.submit(() -> body.run(from, to)));
        }
        RuntimeException failure = null;
        try {
            body.run(0, (int) ((long) n / parts));
        } catch (RuntimeException e) {
            failure = e;
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (failure == null) {
                    failure = e.getCause() instanceof RuntimeException re ? re
                            : new IllegalStateException(e.getCause());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) {
                    failure = new IllegalStateException("interrupted while waiting for a convolution kernel", e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
