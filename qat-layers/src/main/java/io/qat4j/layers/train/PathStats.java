package io.qat4j.layers.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the quantized backward tensors of one layer and path (errors, gradients or updates) looked like
 * over a stretch of training (normally one epoch): how many values saturated, how many non-zero values
 * were flushed to zero, and how many bits the quantized values actually used.
 *
 * <p>Per quantized tensor: {@code saturated} = inputs beyond the format's representable range (clipped),
 * {@code flushed} = non-zero inputs that became 0; {@code bits in use} = log2 of the number of distinct
 * quantized values (the bits needed to index the values present), {@code entropy} = Shannon entropy of
 * their histogram in bits. Both bit measures are averaged over the tensors seen.
 */
public final class PathStats {
    private long tensors;
    private long values;
    private long nonZeroInputs;
    private long saturated;
    private long flushed;
    private double bitsInUseSum;
    private double entropySum;
    private long histogramTensors;

    /** Adds one quantized tensor. */
    void add(long n, long nonZero, long sat, long flush, double bitsInUse, double entropy) {
        tensors++;
        values += n;
        nonZeroInputs += nonZero;
        saturated += sat;
        flushed += flush;
        if (Double.isFinite(bitsInUse)) {
            bitsInUseSum += bitsInUse;
            entropySum += entropy;
            histogramTensors++;
        }
    }

    public long tensors() {
        return tensors;
    }

    public long values() {
        return values;
    }

    /** Fraction of all values that lay beyond the representable range. */
    public double saturatedFraction() {
        return values == 0 ? 0 : (double) saturated / values;
    }

    /** Fraction of the non-zero input values that were flushed to zero. */
    public double flushedFraction() {
        return nonZeroInputs == 0 ? 0 : (double) flushed / nonZeroInputs;
    }

    /** Mean over tensors of log2(number of distinct quantized values); NaN when none was measured. */
    public double bitsInUse() {
        return histogramTensors == 0 ? Double.NaN : bitsInUseSum / histogramTensors;
    }

    /** Mean over tensors of the entropy of the quantized values, in bits; NaN when none was measured. */
    public double entropyBits() {
        return histogramTensors == 0 ? Double.NaN : entropySum / histogramTensors;
    }

    /** The summary as an ordered map (for metrics.json). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tensors", tensors);
        m.put("values", values);
        m.put("saturated_fraction", saturatedFraction());
        m.put("flushed_to_zero_fraction", flushedFraction());
        m.put("bits_in_use", finite(bitsInUse()));
        m.put("entropy_bits", finite(entropyBits()));
        return m;
    }

    private static Object finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    /**
     * Measures one quantized tensor: x the input values (C order), y the quantized ones, q for the saturation
     * test. Histograms are capped at {@link Histogram#CAPACITY} distinct values (bits in use then reads as at least
     * log2 of the cap).
     */
    void measure(float[] x, float[] y, GradientQuantizer.Quantized q, Histogram h) {
        long nonZero = 0;
        long sat = 0;
        long flush = 0;
        h.clear();
        for (int i = 0; i < x.length; i++) {
            float xi = x[i];
            if (xi != 0) {
                nonZero++;
                if (y[i] == 0) {
                    flush++;
                }
            }
            if (q.saturated(i, xi)) {
                sat++;
            }
            h.add(y[i]);
        }
        add(x.length, nonZero, sat, flush, h.log2Distinct(), h.entropy(x.length));
    }
}
