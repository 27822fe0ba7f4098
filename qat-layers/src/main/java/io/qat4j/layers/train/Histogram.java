package io.qat4j.layers.train;

/**
 * Counts distinct float values (by bit pattern, with -0 folded into +0) in an open-addressing table
 * that is reused between tensors. Used by {@link PathStats} for the bits-in-use measures.
 */
final class Histogram {
    /** Most distinct values counted; beyond it further new values are ignored. */
    static final int CAPACITY = 1 << 17;
    private static final int EMPTY = 0x7fc00001;

    private final int[] keys = new int[CAPACITY * 2];
    private final int[] counts = new int[CAPACITY * 2];
    private final int[] used = new int[CAPACITY];
    private int distinct;
    private boolean full;

    Histogram() {
        java.util.Arrays.fill(keys, EMPTY);
    }

    void clear() {
        for (int i = 0; i < distinct; i++) {
            keys[used[i]] = EMPTY;
            counts[used[i]] = 0;
        }
        distinct = 0;
        full = false;
    }

    void add(float v) {
        int k = v == 0 ? 0 : Float.floatToIntBits(v);
        int mask = keys.length - 1;
        int slot = (k * 0x9E3779B1) >>> 14 & mask;
        while (true) {
            if (keys[slot] == k) {
                counts[slot]++;
                return;
            }
            if (keys[slot] == EMPTY) {
                if (distinct == CAPACITY) {
                    full = true;
                    return;
                }
                keys[slot] = k;
                counts[slot] = 1;
                used[distinct++] = slot;
                return;
            }
            slot = (slot + 1) & mask;
        }
    }

    /** log2 of the number of distinct values (0 for a constant tensor, NaN for an empty one). */
    double log2Distinct() {
        return distinct == 0 ? Double.NaN : Math.log(distinct) / Math.log(2);
    }

    /** True when more distinct values arrived than the table holds. */
    boolean full() {
        return full;
    }

    /** Shannon entropy in bits of the counted values, out of {@code total}. */
    double entropy(long total) {
        if (total == 0) {
            return Double.NaN;
        }
        double h = 0;
        for (int i = 0; i < distinct; i++) {
            double p = (double) counts[used[i]] / total;
            h -= p * Math.log(p);
        }
        return h / Math.log(2);
    }
}
