package io.qat4j.layers.train;

import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Diagnostics of the quantized backward paths of a network being trained on this thread: per layer and
 * path, the {@link PathStats} since the last {@link #takeStats()}, and the first place where values
 * overflowed (became infinite or NaN).
 *
 * <p>The training loop {@link #install() installs} a monitor on its thread; the error sites, gradient
 * and update regularizations and the quantized loss report to {@link #current()} when one is installed
 * (and skip the measuring otherwise). Layers are identified by their index in the network.
 *
 * <p>Example: {@code TrainingMonitor m = TrainingMonitor.install(); net.fit(ds); m.takeStats();
 * TrainingMonitor.uninstall();}
 */
public final class TrainingMonitor {
    private static final ThreadLocal<TrainingMonitor> CURRENT = new ThreadLocal<>();

    /** The backward tensors a monitor tells apart. */
    public enum Path {
        /** Errors (epsilons): the loss gradient entering the output layer and the errors layers hand back. */
        ERRORS,
        /** Weight and bias gradients before the updater. */
        GRADIENTS,
        /** Weight and bias updates after the updater. */
        UPDATES;

        /** Lower-case name used in metrics files. */
        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Where values first overflowed.
     *
     * @param layer index of the layer in the network
     * @param path  the tensor's path
     * @param what  what was seen, e.g. "NaN in the input of shift(bits=8)"
     */
    public record Overflow(int layer, Path path, String what) {
    }

    private final Map<Integer, EnumMap<Path, PathStats>> stats = new TreeMap<>();
    private final Histogram histogram = new Histogram();
    private Overflow firstOverflow;

    private TrainingMonitor() {
    }

    /** Installs a new monitor on this thread (replacing any) and returns it. */
    public static TrainingMonitor install() {
        TrainingMonitor m = new TrainingMonitor();
        CURRENT.set(m);
        return m;
    }

    /** Removes this thread's monitor. */
    public static void uninstall() {
        CURRENT.remove();
    }

    /** This thread's monitor, or null. */
    public static TrainingMonitor current() {
        return CURRENT.get();
    }

    /** The first overflow seen since installation (or the last {@link #clearOverflow()}), or null. */
    public synchronized Overflow firstOverflow() {
        return firstOverflow;
    }

    public synchronized void clearOverflow() {
        firstOverflow = null;
    }

    /** The statistics gathered since the last call, by layer index and path; resets them. */
    public synchronized Map<Integer, Map<Path, PathStats>> takeStats() {
        Map<Integer, Map<Path, PathStats>> out = new TreeMap<>();
        stats.forEach((k, v) -> out.put(k, Collections.unmodifiableMap(new EnumMap<>(v))));
        stats.clear();
        return Collections.unmodifiableMap(out);
    }

    synchronized void overflow(int layer, Path path, String what) {
        if (firstOverflow == null) {
            firstOverflow = new Overflow(layer, path, what);
        }
    }

    synchronized void record(int layer, Path path, INDArray x, GradientQuantizer.Quantized q) {
        float[] xs = GradientQuantizer.floats(x);
        float[] ys = GradientQuantizer.floats(q.output());
        stats.computeIfAbsent(layer, k -> new EnumMap<>(Path.class)).computeIfAbsent(path, k -> new PathStats())
                .measure(xs, ys, q, histogram);
    }

    /**
     * Quantizes one backward tensor and reports it to this thread's monitor (if any). A non-finite tensor is
     * returned unchanged and reported as an overflow of this layer and path, so that training reaches its
     * divergence check instead of failing inside a quantizer; a quantizer that produces infinities (a minifloat
     * with {@code overflow=infinity}) is reported too.
     *
     * @return a new array (or x itself when x is not finite)
     */
    public static INDArray quantize(GradientQuantizer q, INDArray x, long seed, double lr, int layer, Path path) {
        TrainingMonitor m = current();
        if (!isFinite(x)) {
            if (m != null) {
                m.overflow(layer, path, "non-finite values (" + firstNonFinite(x) + ") in the " + path.configName()
                        + " before " + q.spec());
            }
            return x;
        }
        GradientQuantizer.Quantized r = q.quantize(x, seed, lr);
        if (m != null) {
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                if (!isFinite(r.output())) {
                    m.overflow(layer, path, "the " + path.configName() + " overflowed to " + firstNonFinite(r.output())
                            + " in " + q.spec());
                }
                m.record(layer, path, x, r);
            }
        }
        return r.output();
    }

    /** True when every element is finite. */
    public static boolean isFinite(INDArray x) {
        if (x == null || x.isEmpty()) {
            return true;
        }
        if (Double.isFinite(x.sumNumber().doubleValue())) {
            return true;
        }
        for (float f : GradientQuantizer.floats(x)) {
            if (!Float.isFinite(f)) {
                return false;
            }
        }
        return true;
    }

    private static String firstNonFinite(INDArray x) {
        for (float f : GradientQuantizer.floats(x)) {
            if (!Float.isFinite(f)) {
                return Float.toString(f);
            }
        }
        return "none";
    }
}
