package io.qat4j.layers.nn.impl;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ConvProducts} (the convolution {@code QuantConvBN2D} folds around) against libnd4j's {@code conv2d} and
 * {@code conv2d_bp} ops, which it replaced: the same values up to the summation order of the products.
 */
class ConvProductsTest {

    static double relativeError(INDArray expected, INDArray actual) {
        return expected.sub(actual).norm2Number().doubleValue() / expected.norm2Number().doubleValue();
    }

    @ParameterizedTest(name = "{0}: k={1} s={2} p={3} d={4} {5}")
    @CsvSource({
        "DOUBLE, 3, 1, 0, 1, Truncate",
        "DOUBLE, 3, 2, 1, 1, Truncate",
        "DOUBLE, 5, 1, 0, 1, Same",
        "DOUBLE, 3, 2, 0, 2, Same",
        "FLOAT, 3, 1, 1, 1, Truncate",
        "FLOAT, 1, 2, 0, 1, Same",
    })
    void forwardAndBackwardEqualLibnd4jConv2d(DataType dt, int k, int s, int p, int d, ConvolutionMode mode) {
        Nd4j.getRandom().setSeed(31);
        INDArray x = Nd4j.randn(dt, 5, 3, 11, 10);
        INDArray w = Nd4j.randn(dt, 4, 3, k, k);
        ConvGeometry g = ConvGeometry.of(x, new int[] {k, k}, new int[] {s, s}, new int[] {p, p}, new int[] {d, d},
                mode);
        int[] args = {k, k, s, s, g.pH(), g.pW(), d, d, mode == ConvolutionMode.Same ? 1 : 0, 0, 1};
        INDArray expected = Nd4j.create(dt, 5, 4, g.outH(), g.outW());
        Nd4j.exec(DynamicCustomOp.builder("conv2d").addInputs(x, w).addOutputs(expected).addIntegerArguments(args)
                .build());
        INDArray y = ConvProducts.forward(x, w, g);
        double tol = dt == DataType.DOUBLE ? 1e-13 : 1e-6;
        assertTrue(relativeError(expected, y) < tol, "forward " + relativeError(expected, y));
        assertArrayEquals(expected.shape(), y.shape());

        INDArray delta = Nd4j.randn(dt, expected.shape());
        INDArray dx = Nd4j.create(dt, x.shape());
        INDArray dw = Nd4j.create(dt, w.shape());
        Nd4j.exec(DynamicCustomOp.builder("conv2d_bp").addInputs(x, w, delta).addOutputs(dx, dw)
                .addIntegerArguments(args).build());
        INDArray[] grads = ConvProducts.backward(x, w, delta, g);
        assertTrue(relativeError(dx, grads[0]) < tol, "dx " + relativeError(dx, grads[0]));
        assertTrue(relativeError(dw, grads[1]) < tol, "dw " + relativeError(dw, grads[1]));
    }

    @Test
    void copyPlanesMovesBetweenNchwAndCnhw() {
        INDArray nchw = Nd4j.rand(DataType.FLOAT, 3, 4, 5, 6);
        INDArray cnhw = Nd4j.createUninitialized(DataType.FLOAT, new long[] {4, 3, 5, 6}, 'c').permute(1, 0, 2, 3);
        ConvKernels.copyPlanes(nchw, cnhw);
        assertTrue(nchw.equals(cnhw));
        INDArray back = Nd4j.createUninitialized(DataType.FLOAT, new long[] {3, 4, 5, 6}, 'c');
        ConvKernels.copyPlanes(cnhw, back);
        assertArrayEquals(nchw.data().asFloat(), back.data().asFloat());
        INDArray nhwc = Nd4j.createUninitialized(DataType.FLOAT, new long[] {3, 5, 6, 4}, 'c').permute(0, 3, 1, 2);
        ConvKernels.copyPlanes(nchw, nhwc);
        assertTrue(nchw.equals(nhwc), "other layouts through assign");
    }
}
