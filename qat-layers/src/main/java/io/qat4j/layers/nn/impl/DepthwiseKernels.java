package io.qat4j.layers.nn.impl;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Depth-wise 2-D convolution on NCHW activations, forward and backward, replacing libnd4j's
 * {@code depthwise_conv2d} / {@code depthwise_conv2d_bp} ops as DL4J's {@code DepthwiseConvolution2DLayer}
 * calls them (measured at about 0.1 GFLOP/s on this project's machine). Float32 and float64.
 *
 * <p>Layouts are DL4J's: input {@code x [N, C, H, W]} (NCHW or CNHW in memory; other layouts are copied), weights
 * {@code w [kH, kW, C, M]} (M = depth multiplier), bias {@code [1, C·M]}, output {@code y [N, C·M, outH, outW]},
 * output channel {@code c·M + m} computed from input channel c:
 * <pre>
 *   y[n, cM+m, oh, ow] = Σ_{kh, kw} w[kh, kw, c, m] · x[n, c, oh·sH − pH + kh·dH, ow·sW − pW + kw·dW]  + b[cM+m]
 * </pre>
 * (taps outside the input count as 0; the taps are summed in (kh, kw) order, then the bias is added). The backward
 * pass gives {@code dx} (each tap's weight times the error, added onto the pixel it read), {@code dw} (per tap, the
 * error times the pixel, summed over each sample's plane, then over the samples in order) and {@code db} (the error
 * summed per plane, then over the samples). Results agree with libnd4j's up to the summation order.
 *
 * <p>The forward pass splits the minibatch across {@link KernelThreads#COUNT} threads, the backward pass the input
 * channels (each weight gradient is reduced over the whole minibatch by one thread), so results do not depend on
 * the thread count. The loops are in {@link DepthwiseFloat} and {@link DepthwiseDouble}.
 */
public final class DepthwiseKernels {
    private DepthwiseKernels() {
    }

    /** Whether the kernels handle these arrays: FLOAT or DOUBLE, each under 2<sup>31</sup> bytes. */
    public static boolean supports(INDArray... arrays) {
        for (INDArray a : arrays) {
            if (a != null && (!supported(a.dataType()) || a.length() * a.dataType().width() > Integer.MAX_VALUE)) {
                return false;
            }
        }
        return true;
    }

    private static boolean supported(DataType dt) {
        return dt == DataType.FLOAT || dt == DataType.DOUBLE;
    }

    /**
     * Writes the depth-wise convolution of {@code x} into {@code y} ({@code [N, C·M, outH, outW]}, written fully;
     * copied into when it is not C-contiguous); {@code b} may be null.
     */
    public static void forward(INDArray x, INDArray w, INDArray b, ConvGeometry g, INDArray y) {
        Shapes s = Shapes.check(x, w, g);
        DataType dt = checkType(y.dataType());
        INDArray src = planes(x.castTo(dt));
        INDArray dst = ConvKernels.isCContiguous(y) ? y
                : Nd4j.createUninitialized(dt, y.shape(), 'c');
        if (!Arrays.equals(dst.shape(), new long[] {s.n, s.c * s.m, g.outH(), g.outW()})) {
            throw new IllegalArgumentException("depth-wise output must be [" + s.n + ", " + s.c * s.m + ", "
                    + g.outH() + ", " + g.outW() + "], got " + Arrays.toString(y.shape()));
        }
        ConvKernels.Planes in = ConvKernels.Planes.of(src);
        if (dt == DataType.FLOAT) {
            float[] wt = w.castTo(dt).dup('c').data().asFloat();
            float[] bias = b == null ? null : b.castTo(dt).dup('c').data().asFloat();
            FloatBuffer xb = ConvKernels.floats(src);
            FloatBuffer yb = ConvKernels.floats(dst);
            KernelThreads.forEach(s.n, (from, to) -> DepthwiseFloat.forward(xb.duplicate(), in, wt, bias,
                    yb.duplicate(), from, to, s.c, s.m, g));
        } else {
            double[] wt = w.castTo(dt).dup('c').data().asDouble();
            double[] bias = b == null ? null : b.castTo(dt).dup('c').data().asDouble();
            DoubleBuffer xb = ConvKernels.doubles(src);
            DoubleBuffer yb = ConvKernels.doubles(dst);
            KernelThreads.forEach(s.n, (from, to) -> DepthwiseDouble.forward(xb.duplicate(), in, wt, bias,
                    yb.duplicate(), from, to, s.c, s.m, g));
        }
        if (dst != y) {
            y.assign(dst);
        }
    }

    /**
     * The gradients at (x, w) for {@code delta = dL/dy}: writes {@code dx} ({@code [N, C, H, W]}), {@code dw}
     * ({@code [kH, kW, C, M]}) and, when not null, {@code db} ({@code C·M} values), every element.
     */
    public static void backward(INDArray x, INDArray w, INDArray delta, ConvGeometry g, INDArray dx, INDArray dw,
                                INDArray db) {
        Shapes s = Shapes.check(x, w, g);
        DataType dt = checkType(dx.dataType());
        if (!Arrays.equals(delta.shape(), new long[] {s.n, s.c * s.m, g.outH(), g.outW()})
                || !Arrays.equals(dx.shape(), x.shape()) || dw.length() != w.length()
                || (db != null && db.length() != (long) s.c * s.m)) {
            throw new IllegalArgumentException("depth-wise backward: shapes do not match: x " + Arrays.toString(
                    x.shape()) + ", w " + Arrays.toString(w.shape()) + ", delta " + Arrays.toString(delta.shape())
                    + ", dx " + Arrays.toString(dx.shape()) + ", dw " + Arrays.toString(dw.shape()));
        }
        INDArray src = planes(x.castTo(dt));
        INDArray err = planes(delta.castTo(dt));
        INDArray dxDst = ConvKernels.densePlanes(dx) ? dx
                : Nd4j.createUninitialized(dt, dx.shape(), 'c');
        ConvKernels.Planes in = ConvKernels.Planes.of(src);
        ConvKernels.Planes de = ConvKernels.Planes.of(err);
        ConvKernels.Planes out = ConvKernels.Planes.of(dxDst);
        int taps = g.kernelArea();
        if (dt == DataType.FLOAT) {
            float[] wt = w.castTo(dt).dup('c').data().asFloat();
            float[] dwAll = new float[taps * s.c * s.m];
            float[] dbAll = new float[s.c * s.m];
            FloatBuffer xb = ConvKernels.floats(src);
            FloatBuffer eb = ConvKernels.floats(err);
            FloatBuffer ob = ConvKernels.floats(dxDst);
            KernelThreads.forEach(s.c, (from, to) -> DepthwiseFloat.backward(xb.duplicate(), in, eb.duplicate(), de,
                    wt, ob.duplicate(), out, dwAll, dbAll, from, to, s.n, s.c, s.m, g));
            dw.assign(Nd4j.createFromArray(dwAll).reshape(dw.shape()));
            if (db != null) {
                db.assign(Nd4j.createFromArray(dbAll).reshape(db.shape()));
            }
        } else {
            double[] wt = w.castTo(dt).dup('c').data().asDouble();
            double[] dwAll = new double[taps * s.c * s.m];
            double[] dbAll = new double[s.c * s.m];
            DoubleBuffer xb = ConvKernels.doubles(src);
            DoubleBuffer eb = ConvKernels.doubles(err);
            DoubleBuffer ob = ConvKernels.doubles(dxDst);
            KernelThreads.forEach(s.c, (from, to) -> DepthwiseDouble.backward(xb.duplicate(), in, eb.duplicate(), de,
                    wt, ob.duplicate(), out, dwAll, dbAll, from, to, s.n, s.c, s.m, g));
            dw.assign(Nd4j.createFromArray(dwAll).reshape(dw.shape()));
            if (db != null) {
                db.assign(Nd4j.createFromArray(dbAll).reshape(db.shape()));
            }
        }
        if (dxDst != dx) {
            dx.assign(dxDst);
        }
    }

    private static DataType checkType(DataType dt) {
        if (!supported(dt)) {
            throw new IllegalArgumentException("depth-wise kernels support FLOAT and DOUBLE, got " + dt);
        }
        return dt;
    }

    /** {@code a} if its planes are dense (NCHW or CNHW), else a C-ordered copy. */
    private static INDArray planes(INDArray a) {
        return ConvKernels.densePlanes(a) ? a : a.dup('c');
    }

    /** Minibatch, input channels and depth multiplier, checked against the geometry. */
    private record Shapes(int n, int c, int m) {
        static Shapes check(INDArray x, INDArray w, ConvGeometry g) {
            if (x.rank() != 4 || x.size(2) != g.inH() || x.size(3) != g.inW() || w.rank() != 4
                    || w.size(0) != g.kH() || w.size(1) != g.kW() || w.size(2) != x.size(1)) {
                throw new IllegalArgumentException("depth-wise convolution needs x [N, C, " + g.inH() + ", "
                        + g.inW() + "] and w [" + g.kH() + ", " + g.kW() + ", C, M], got " + Arrays.toString(x.shape())
                        + " and " + Arrays.toString(w.shape()));
            }
            return new Shapes((int) x.size(0), (int) x.size(1), (int) w.size(3));
        }
    }
}
