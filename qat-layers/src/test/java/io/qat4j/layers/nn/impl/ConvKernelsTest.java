package io.qat4j.layers.nn.impl;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.convolution.Convolution;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ConvKernels} against libnd4j's ops as DL4J's {@code ConvolutionLayer} calls them: im2col bit for bit,
 * col2im bit for bit, over a table of geometries, in float and double.
 */
class ConvKernelsTest {

    /** The patch matrix as ConvolutionLayer.preOutput builds it. */
    static INDArray referenceIm2col(INDArray x, ConvGeometry g, boolean same) {
        long n = x.size(0);
        long c = x.size(1);
        INDArray col = Nd4j.createUninitialized(x.dataType(), new long[] {n, g.outH(), g.outW(), c, g.kH(), g.kW()}, 'c');
        Convolution.im2col(x, g.kH(), g.kW(), g.sH(), g.sW(), g.pH(), g.pW(), g.dH(), g.dW(), same,
                col.permute(0, 3, 4, 5, 1, 2));
        return col.reshape('c', n * g.outPositions(), c * g.kernelArea());
    }

    /** col2im as ConvolutionLayer.backpropGradient calls it: into a permuted [C, N, H, W] buffer. */
    static INDArray referenceCol2im(INDArray col2d, ConvGeometry g, long n, long c) {
        INDArray eps6d = col2d.reshape('c', n, g.outH(), g.outW(), c, g.kH(), g.kW()).permute(0, 3, 4, 5, 1, 2);
        INDArray orig = Nd4j.createUninitialized(col2d.dataType(), new long[] {c, n, g.inH(), g.inW()}, 'c');
        INDArray out = orig.permute(1, 0, 2, 3);
        Convolution.col2im(eps6d, out, g.sH(), g.sW(), g.pH(), g.pW(), g.inH(), g.inW(), g.dH(), g.dW());
        return out;
    }

    /** Random values with a negative zero first (a copy keeps its sign bit, which the bitwise comparison sees). */
    static INDArray input(DataType dt, long... shape) {
        Nd4j.getRandom().setSeed(42);
        INDArray x = Nd4j.randn(dt, shape);
        x.putScalar(0, -0.0);
        return x;
    }

    static void assertBitsEqual(INDArray expected, INDArray actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        if (expected.dataType() == DataType.FLOAT) {
            assertArrayEquals(expected.dup('c').data().asFloat(), actual.dup('c').data().asFloat(), what);
        } else {
            assertArrayEquals(expected.dup('c').data().asDouble(), actual.dup('c').data().asDouble(), what);
        }
    }

    @ParameterizedTest(name = "{0}: n={1} c={2} {3}x{4} k={5}x{6} s={7},{8} p={9},{10} d={11},{12} {13}")
    @CsvSource({
        "FLOAT, 7, 3, 9, 11, 3, 3, 1, 1, 0, 0, 1, 1, Truncate",
        "FLOAT, 1, 2, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, Truncate",
        "FLOAT, 7, 1, 28, 28, 5, 5, 1, 1, 0, 0, 1, 1, Truncate",
        "FLOAT, 7, 4, 7, 9, 1, 1, 1, 1, 0, 0, 1, 1, Truncate",
        "FLOAT, 7, 4, 7, 9, 1, 1, 2, 2, 0, 0, 1, 1, Truncate",
        "FLOAT, 7, 3, 9, 10, 3, 3, 2, 2, 1, 1, 1, 1, Truncate",
        "FLOAT, 1, 3, 11, 9, 5, 3, 2, 1, 2, 1, 1, 1, Strict",
        "FLOAT, 7, 2, 13, 12, 3, 3, 1, 2, 2, 0, 2, 2, Truncate",
        "FLOAT, 7, 3, 9, 11, 3, 3, 1, 1, 0, 0, 1, 1, Same",
        "FLOAT, 7, 3, 9, 10, 3, 3, 2, 2, 0, 0, 1, 1, Same",
        "FLOAT, 1, 2, 7, 8, 5, 5, 2, 1, 0, 0, 1, 1, Same",
        "FLOAT, 7, 2, 10, 9, 3, 5, 1, 2, 0, 0, 2, 1, Same",
        "FLOAT, 7, 5, 7, 7, 1, 1, 3, 3, 0, 0, 1, 1, Same",
        "FLOAT, 3, 2, 5, 5, 5, 5, 1, 1, 3, 3, 1, 1, Truncate",
        "FLOAT, 3, 2, 2, 2, 3, 3, 1, 1, 2, 2, 1, 1, Truncate",
        "FLOAT, 3, 2, 4, 3, 3, 3, 1, 1, 0, 0, 1, 1, Truncate",
        "FLOAT, 2, 3, 6, 7, 3, 3, 1, 1, 2, 1, 1, 1, Truncate",
        "DOUBLE, 7, 3, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1, Truncate",
        "DOUBLE, 1, 2, 9, 10, 5, 5, 2, 2, 2, 2, 1, 1, Truncate",
        "DOUBLE, 7, 3, 9, 10, 3, 3, 2, 2, 0, 0, 1, 1, Same",
        "DOUBLE, 7, 2, 13, 12, 3, 3, 1, 1, 0, 0, 2, 2, Same",
        "DOUBLE, 7, 4, 7, 9, 1, 1, 1, 1, 0, 0, 1, 1, Same",
    })
    void im2colAndCol2imEqualLibnd4jBitForBit(DataType dt, int n, int c, int h, int w, int kH, int kW, int sH, int sW,
                                              int pH, int pW, int dH, int dW, ConvolutionMode mode) {
        INDArray x = input(dt, n, c, h, w);
        ConvGeometry g = ConvGeometry.of(x, new int[] {kH, kW}, new int[] {sH, sW}, new int[] {pH, pW},
                new int[] {dH, dW}, mode);
        INDArray expected = referenceIm2col(x, g, mode == ConvolutionMode.Same);
        INDArray actual = ConvKernels.im2col(x, g);
        assertBitsEqual(expected, actual, "im2col " + g);


        INDArray cols = Nd4j.randn(dt, expected.shape()).muli(1.7);
        INDArray expectedIm = referenceCol2im(cols, g, n, c);
        INDArray actualIm = Nd4j.createUninitialized(dt, new long[] {n, c, h, w}, 'c');
        ConvKernels.col2im(cols, g, actualIm);
        assertBitsEqual(expectedIm, actualIm, "col2im " + g);
        // the F-order [K, rows] product DL4J computes is accepted through its transpose
        INDArray fOrder = cols.transpose().dup('f');
        INDArray fromF = Nd4j.createUninitialized(dt, new long[] {n, c, h, w}, 'c');
        ConvKernels.col2im(fOrder.transpose(), g, fromF);
        assertBitsEqual(expectedIm, fromF, "col2im of an F-order product " + g);
    }

    @Test
    void viewsWithOffsetsAndOtherLayoutsAreReadCorrectly() {
        INDArray big = input(DataType.FLOAT, 9, 3, 8, 7);
        INDArray view = big.get(NDArrayIndex.interval(2, 6), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all());
        assertTrue(view.offset() > 0, "the view starts inside its buffer");
        ConvGeometry g = ConvGeometry.of(view, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1},
                ConvolutionMode.Truncate);
        INDArray expected = referenceIm2col(view.dup('c'), g, false);
        assertBitsEqual(expected, ConvKernels.im2col(view, g), "offset view");
        assertBitsEqual(expected, ConvKernels.im2col(view.dup('f'), g), "F-order input");
        INDArray nhwc = view.permute(0, 2, 3, 1).dup('c').permute(0, 3, 1, 2);
        assertBitsEqual(expected, ConvKernels.im2col(nhwc, g), "NHWC input");
        INDArray cnhw = view.permute(1, 0, 2, 3).dup('c').permute(1, 0, 2, 3);
        assertTrue(ConvKernels.densePlanes(cnhw) && !ConvKernels.densePlanes(nhwc), "CNHW is read in place");
        assertBitsEqual(expected, ConvKernels.im2col(cnhw, g), "CNHW input (DL4J's activation layout)");

        INDArray cols = Nd4j.randn(DataType.FLOAT, expected.shape());
        INDArray im = referenceCol2im(cols, g, 4, 3);
        INDArray bigOut = Nd4j.zeros(DataType.FLOAT, 9, 3, 8, 7);
        INDArray outView = bigOut.get(NDArrayIndex.interval(3, 7), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all());
        ConvKernels.col2im(cols, g, outView);
        assertBitsEqual(im, outView, "col2im into an offset view");
        assertEquals(0.0, bigOut.get(NDArrayIndex.interval(0, 3)).amaxNumber().doubleValue(), "nothing written before");
        assertEquals(0.0, bigOut.get(NDArrayIndex.interval(7, 9)).amaxNumber().doubleValue(), "nothing written after");
        INDArray cnhwBuffer = Nd4j.createUninitialized(DataType.FLOAT, new long[] {3, 4, 8, 7}, 'c');
        ConvKernels.col2im(cols, g, cnhwBuffer.permute(1, 0, 2, 3));
        assertBitsEqual(im, cnhwBuffer.permute(1, 0, 2, 3), "col2im into a CNHW buffer, DL4J's error layout");
        INDArray nhwcOut = Nd4j.createUninitialized(DataType.FLOAT, new long[] {4, 8, 7, 3}, 'c');
        ConvKernels.col2im(cols, g, nhwcOut.permute(0, 3, 1, 2));
        assertBitsEqual(im, nhwcOut.permute(0, 3, 1, 2), "col2im into an NHWC buffer (through a copy)");
    }

    @Test
    void worksInsideAWorkspace() {
        WorkspaceConfiguration conf = WorkspaceConfiguration.builder().initialSize(10_000_000).build();
        INDArray x = input(DataType.FLOAT, 5, 2, 9, 9);
        ConvGeometry g = ConvGeometry.of(x, new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}, new int[] {1, 1},
                ConvolutionMode.Truncate);
        INDArray expected = referenceIm2col(x, g, false);
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(conf, "CONV_KERNELS_TEST")) {
            Nd4j.create(DataType.FLOAT, 13);
            INDArray inWs = x.dup();
            INDArray col = ConvKernels.im2col(inWs, g);
            assertTrue(col.isAttached(), "allocated in the open workspace, as DL4J's own");
            assertBitsEqual(expected, col.detach(), "im2col in a workspace");
        }
    }

    @Test
    void rejectsWrongShapesAndTypes() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 5, 5);
        ConvGeometry g = ConvGeometry.of(x, new int[] {3, 3}, new int[] {1, 1}, new int[] {0, 0}, new int[] {1, 1},
                ConvolutionMode.Truncate);
        assertThrows(IllegalArgumentException.class, () -> ConvKernels.im2col(Nd4j.rand(DataType.FLOAT, 2, 3, 6, 5), g));
        assertThrows(IllegalArgumentException.class, () -> ConvKernels.im2col(x, g, Nd4j.create(DataType.FLOAT, 3, 27)));
        assertThrows(IllegalArgumentException.class, () -> ConvKernels.im2col(x.castTo(DataType.HALF), g,
                Nd4j.create(DataType.HALF, 18, 27)));
        assertThrows(IllegalArgumentException.class, () -> ConvKernels.col2im(Nd4j.create(DataType.FLOAT, 17, 27), g,
                Nd4j.create(DataType.FLOAT, 2, 3, 5, 5)));
    }

    @Test
    void threadCountFollowsOmpNumThreads() {
        assertEquals(3, KernelThreads.count("3", 8));
        assertEquals(8, KernelThreads.count(null, 8));
        assertEquals(8, KernelThreads.count("zero", 8));
        assertEquals(8, KernelThreads.count("0", 8));
        assertEquals(1, KernelThreads.count(null, 0));
    }
}
