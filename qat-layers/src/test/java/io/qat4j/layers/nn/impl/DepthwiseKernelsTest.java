package io.qat4j.layers.nn.impl;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link DepthwiseKernels} against libnd4j's {@code depthwise_conv2d} / {@code depthwise_conv2d_bp} as DL4J's
 * {@code DepthwiseConvolution2DLayer} calls them: forward, dx, dw and db equal up to the summation order.
 */
class DepthwiseKernelsTest {

    static double relativeError(INDArray expected, INDArray actual) {
        double norm = expected.norm2Number().doubleValue();
        return expected.sub(actual).norm2Number().doubleValue() / Math.max(norm, 1e-300);
    }

    @ParameterizedTest(name = "{0}: n={1} c={2} m={3} {4}x{5} k={6} s={7} p={8} d={9} {10} bias={11}")
    @CsvSource({
        "DOUBLE, 7, 3, 1, 9, 11, 3, 1, 0, 1, Same, true",
        "DOUBLE, 7, 3, 2, 9, 10, 3, 2, 1, 1, Truncate, true",
        "DOUBLE, 1, 4, 1, 8, 8, 5, 2, 0, 1, Same, false",
        "DOUBLE, 3, 2, 3, 13, 12, 3, 1, 2, 2, Truncate, true",
        "DOUBLE, 3, 2, 1, 11, 9, 2, 1, 0, 1, Truncate, false",
        "FLOAT, 7, 16, 1, 16, 16, 3, 1, 0, 1, Same, true",
        "FLOAT, 7, 8, 1, 9, 9, 3, 2, 0, 1, Same, true",
        "FLOAT, 5, 6, 2, 7, 8, 3, 2, 1, 2, Truncate, false",
    })
    void forwardAndBackwardEqualLibnd4j(DataType dt, int n, int c, int m, int h, int w, int k, int s, int p, int d,
                                        ConvolutionMode mode, boolean bias) {
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.randn(dt, n, c, h, w);
        INDArray wt = Nd4j.randn(dt, k, k, c, m);
        INDArray b = bias ? Nd4j.randn(dt, 1, c * m) : null;
        ConvGeometry g = ConvGeometry.of(x, new int[] {k, k}, new int[] {s, s}, new int[] {p, p}, new int[] {d, d},
                mode);
        int[] args = {k, k, s, s, g.pH(), g.pW(), d, d, mode == ConvolutionMode.Same ? 1 : 0, 0};
        INDArray expected = Nd4j.create(dt, n, c * m, g.outH(), g.outW());
        Nd4j.exec(DynamicCustomOp.builder("depthwise_conv2d").addInputs(bias ? new INDArray[] {x, wt, b}
                : new INDArray[] {x, wt}).addOutputs(expected).addIntegerArguments(args).callInplace(false).build());
        INDArray y = Nd4j.create(dt, expected.shape());
        // the input as DL4J's convolution layers leave it: a CNHW buffer
        INDArray cnhw = x.permute(1, 0, 2, 3).dup('c').permute(1, 0, 2, 3);
        DepthwiseKernels.forward(cnhw, wt, b, g, y);
        double tol = dt == DataType.DOUBLE ? 1e-13 : 1e-6;
        assertTrue(relativeError(expected, y) < tol, "forward " + relativeError(expected, y));

        INDArray delta = Nd4j.randn(dt, expected.shape());
        INDArray dx = Nd4j.create(dt, x.shape());
        INDArray dw = Nd4j.create(dt, wt.shape());
        INDArray db = Nd4j.create(dt, 1, c * m);
        Nd4j.exec(DynamicCustomOp.builder("depthwise_conv2d_bp").addInputs(bias ? new INDArray[] {x, wt, b, delta}
                : new INDArray[] {x, wt, delta}).addOutputs(bias ? new INDArray[] {dx, dw, db} : new INDArray[] {dx, dw})
                .addIntegerArguments(args).callInplace(false).build());
        INDArray dx2 = Nd4j.valueArrayOf(x.shape(), Double.NaN, dt);
        INDArray dw2 = Nd4j.valueArrayOf(wt.shape(), Double.NaN, dt);
        INDArray db2 = Nd4j.valueArrayOf(new long[] {1, c * m}, Double.NaN, dt);
        DepthwiseKernels.backward(x, wt, delta, g, dx2, dw2, bias ? db2 : null);
        double tolB = dt == DataType.DOUBLE ? 1e-12 : 1e-5;
        assertTrue(relativeError(dx, dx2) < tolB, "dx " + relativeError(dx, dx2));
        assertTrue(relativeError(dw, dw2) < tolB, "dw " + relativeError(dw, dw2));
        if (bias) {
            assertTrue(relativeError(db, db2) < tolB, "db " + relativeError(db, db2));
        }
    }
}
