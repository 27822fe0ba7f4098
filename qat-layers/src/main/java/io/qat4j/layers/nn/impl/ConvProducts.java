package io.qat4j.layers.nn.impl;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A 2-D convolution without bias and its backward pass as plain operators on C-ordered NCHW arrays (weights
 * {@code [nOut, C, kH, kW]}), for layers that need the convolution as a building block ({@link QuantConvBN2DImpl}'s
 * fold). The products are those of DL4J's {@code ConvolutionLayer} on the patch matrix of {@link ConvKernels#im2col}:
 * <pre>
 *   forward:  z [N·outH·outW, nOut] (F order) = col · W2d,       W2d = W viewed as [kW·kH·C, nOut] (F order)
 *   dW:       dW2dᵀ = colᵀ · δ2dᵀ   (Nd4j.gemm with both transposes), δ2d = δ viewed as [nOut, N·outH·outW]
 *   dx:       patch errors [C·kH·kW, N·outH·outW] (F order) = W2d · δ2d, then col2im
 * </pre>
 * The forward result is copied from the CNHW order of the product into NCHW, and δ from NCHW into CNHW, plane by
 * plane ({@link ConvKernels#copyPlanes}). All arrays are allocated uninitialized in the current workspace.
 */
final class ConvProducts {
    private ConvProducts() {
    }

    /** {@code conv(x, w)}: {@code [N, nOut, outH, outW]} in C order. */
    static INDArray forward(INDArray x, INDArray w, ConvGeometry g) {
        return forward(ConvKernels.im2col(x.castTo(w.dataType()), g), x.size(0), w, g);
    }

    /** {@code conv(x, w)} from the patch matrix {@code col} of x (N samples). */
    static INDArray forward(INDArray col, long n, INDArray w, ConvGeometry g) {
        DataType dt = w.dataType();
        long nOut = w.size(0);
        INDArray w2d = w.permute(3, 2, 1, 0).reshape('f', col.size(1), nOut);
        INDArray z = Nd4j.createUninitialized(dt, new long[] {col.size(0), nOut}, 'f');
        col.mmuli(w2d, z);
        INDArray cnhw = Shape.newShapeNoCopy(z, new long[] {g.outW(), g.outH(), n, nOut}, true).permute(2, 3, 1, 0);
        INDArray y = Nd4j.createUninitialized(dt, new long[] {n, nOut, g.outH(), g.outW()}, 'c');
        ConvKernels.copyPlanes(cnhw, y);
        return y;
    }

    /** {dL/dx [N, C, H, W], dL/dw [nOut, C, kH, kW]} (C order) at (x, w) for {@code delta = dL/dconv}. */
    static INDArray[] backward(INDArray x, INDArray w, INDArray delta, ConvGeometry g) {
        return backward(ConvKernels.im2col(x.castTo(w.dataType()), g), x.shape(), w, delta, g);
    }

    /** {@link #backward(INDArray, INDArray, INDArray, ConvGeometry)} from the patch matrix of x. */
    static INDArray[] backward(INDArray col, long[] xShape, INDArray w, INDArray delta, ConvGeometry g) {
        DataType dt = w.dataType();
        long n = xShape[0];
        long nOut = w.size(0);
        long k = col.size(1);
        long rows = col.size(0);
        INDArray channelMajor = Nd4j.createUninitialized(dt, new long[] {nOut, n, g.outH(), g.outW()}, 'c');
        ConvKernels.copyPlanes(delta.castTo(dt), channelMajor.permute(1, 0, 2, 3));
        INDArray delta2d = channelMajor.reshape('c', nOut, rows);

        INDArray dw = Nd4j.createUninitialized(dt, w.shape(), 'c');
        INDArray dw2df = Shape.newShapeNoCopy(dw, new long[] {nOut, k}, false).transpose();
        Nd4j.gemm(col, delta2d, dw2df, true, true, 1.0, 0.0);

        INDArray w2d = w.permute(3, 2, 1, 0).reshape('f', k, nOut);
        INDArray patchErrors = Nd4j.createUninitialized(dt, new long[] {k, rows}, 'f');
        w2d.mmuli(delta2d, patchErrors);
        INDArray dx = Nd4j.createUninitialized(dt, xShape, 'c');
        ConvKernels.col2im(patchErrors.transpose(), g, dx);
        return new INDArray[] {dx, dw};
    }
}
