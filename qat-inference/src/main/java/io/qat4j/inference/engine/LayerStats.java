package io.qat4j.inference.engine;

/**
 * Accumulator statistics of one layer since the last reset: additions performed, overflow events of the
 * configured narrow accumulator, the signed width the exact partial sums needed ({@code bitsSeen}) and the
 * width the manifest declares ({@code bitsDeclared}, or 0). Layers without an accumulator report zeros.
 */
public record LayerStats(String name, String op, long additions, long overflows, int bitsSeen, int bitsDeclared) {}
