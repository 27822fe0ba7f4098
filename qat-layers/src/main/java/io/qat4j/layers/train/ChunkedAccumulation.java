package io.qat4j.layers.train;

import io.qat4j.layers.quant.Granularity;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizer;
import io.qat4j.layers.quant.Quantizers;
import org.nd4j.linalg.api.blas.params.MMulTranspose;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.Mmul;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Emulates a matrix product whose accumulator has reduced precision, with chunk-based accumulation.
 *
 * <p>Forward: for {@code z = x · W} with x {@code [n, K]} and W {@code [K, m]}, the K products of each
 * output are summed in chunks of C: {@code p_j = x[:, jC:(j+1)C] · W[jC:(j+1)C, :]} (in float32, then
 * rounded once to the accumulator format A), and the chunk sums are added in A:
 * {@code acc <- A(acc + A(p_j))}. With C = K this is one rounding of the float32 sum; with C = 1 it is
 * sequential accumulation in A, where small products are swamped by a large running sum, the effect
 * chunking limits. Inside a chunk the sum is exact in float32 (the emulation rounds it once), so this
 * models the swamping across chunks, not the rounding inside one.
 *
 * <p>Paper: Wang et al., "Training Deep Neural Networks with 8-bit Floating Point Numbers",
 * arXiv:1812.08011, section 3 (chunk-based accumulation, FP16 accumulator, chunk 64).
 *
 * <p>Example: {@code ChunkedAccumulation.matmul(x, w, QuantSpec.parse("fp16"), 64)}.
 */
public final class ChunkedAccumulation {
    private ChunkedAccumulation() {
    }

    /** Checks an accumulator format and chunk size, naming the allowed values. */
    public static void check(QuantSpec accumulator, int chunk) {
        GradientSpec.of(accumulator);
        if (!accumulator.isFloat() && accumulator.granularity() != Granularity.TENSOR) {
            throw new IllegalArgumentException("accumulator format '" + accumulator + "' must be per tensor");
        }
        if (chunk < 1 || chunk > 1 << 20) {
            throw new IllegalArgumentException("accumulation chunk must be in [1, 1048576] products, got " + chunk);
        }
    }

    /** {@code x · W} accumulated in {@code accumulator} with chunks of {@code chunk} products (a new array). */
    public static INDArray matmul(INDArray x, INDArray w, QuantSpec accumulator, int chunk) {
        check(accumulator, chunk);
        if (x.rank() != 2 || w.rank() != 2 || x.size(1) != w.size(0)) {
            throw new IllegalArgumentException("matmul needs x [n, K] and W [K, m], got " + java.util.Arrays.toString(
                    x.shape()) + " and " + java.util.Arrays.toString(w.shape()));
        }
        if (accumulator.isFloat()) {
            return x.mmul(w);
        }
        Quantizer a = Quantizers.of(accumulator);
        QuantContext ctx = new QuantContext(-1, null, null, 0, true);
        long k = x.size(1);
        INDArray acc = null;
        for (long start = 0; start < k; start += chunk) {
            long end = Math.min(k, start + chunk);
            INDArray p = chunkProduct(x.get(NDArrayIndex.all(), NDArrayIndex.interval(start, end)),
                    w.get(NDArrayIndex.interval(start, end), NDArrayIndex.all()));
            INDArray q = a.forward(p, ctx).output();
            acc = acc == null ? q : a.forward(acc.addi(q), ctx).output();
        }
        return acc == null ? x.mmul(w) : acc;
    }

    /**
     * {@code xc · wc} for two chunk views: the product {@code INDArray.mmul} computes (libnd4j's {@code Mmul} op on
     * the views, into an F-order array), without the copies {@code mmul} adds around it (of the views, for a
     * parameter object it does not use, and of the result into C order); the same values, in F order. Products
     * with a single row or column keep {@code mmul}, which computes them as matrix-vector products.
     */
    static INDArray chunkProduct(INDArray xc, INDArray wc) {
        if (xc.rows() == 1 || wc.columns() == 1) {
            return xc.mmul(wc);
        }
        INDArray p = Nd4j.createUninitialized(xc.dataType(), new long[] {xc.rows(), wc.columns()}, 'f');
        Nd4j.exec(new Mmul(xc, wc, p, 1.0, 0.0, MMulTranspose.builder().transposeA(false).transposeB(false).build()));
        return p;
    }
}
