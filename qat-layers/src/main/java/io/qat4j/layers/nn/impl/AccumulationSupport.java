package io.qat4j.layers.nn.impl;

import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.train.ChunkedAccumulation;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The pre-activation of a dense, output or convolution layer whose sites name an accumulator format:
 * {@code z = x · W_q + b_q} with the product accumulated by {@link ChunkedAccumulation} (and the bias added in the
 * accumulator format), in DL4J's ACTIVATIONS workspace. A convolution is the same product on the im2col matrix
 * ({@link ConvKernels#im2col}: one row per output position, K = C·kH·kW products per output). The backward pass
 * differentiates the float32 product (a straight-through view of the accumulator rounding).
 */
final class AccumulationSupport {
    private AccumulationSupport() {
    }

    /** z for input x, quantized weights w and bias b (or null). */
    static INDArray preOutput(QuantSites sites, INDArray x, INDArray w, INDArray b, boolean training,
                              LayerWorkspaceMgr mgr) {
        try (MemoryWorkspace ignored = mgr.notifyScopeBorrowed(ArrayType.ACTIVATIONS)) {
            return product(sites, x.castTo(w.dataType()), w, b, training);
        }
    }

    /** {@code x · w (+ b)} accumulated in the sites' format, the bias added in that format. */
    static INDArray product(QuantSites sites, INDArray x, INDArray w, INDArray b, boolean training) {
        INDArray z = ChunkedAccumulation.matmul(x, w, sites.accumulation(), sites.accumulationChunk());
        if (b != null) {
            z.addiRowVector(b.reshape(1, b.length()));
            z = io.qat4j.layers.quant.Quantizers.of(sites.accumulation())
                    .forward(z, new io.qat4j.layers.quant.QuantContext(-1, null, null, 0, training)).output();
        }
        return z;
    }

    /** The column sums of {@code m} [rows, cols] accumulated in the sites' format: {@code 1ᵀ · m}, shape [1, cols]. */
    static INDArray columnSums(QuantSites sites, INDArray m) {
        INDArray ones = org.nd4j.linalg.factory.Nd4j.ones(m.dataType(), 1, m.size(0));
        return product(sites, ones, m, null, true);
    }
}
