package io.qat4j.layers.nn.impl;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.convolution.Convolution;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * im2col and col2im for 2-D convolutions on NCHW activations, replacing libnd4j's {@code im2col} /
 * {@code col2im} ops in the layout DL4J's {@code ConvolutionLayer} uses them, float32 and float64.
 *
 * <p><b>Patch matrix.</b> For an input {@code x [N, C, H, W]} and a {@link ConvGeometry}, the patch matrix is
 * {@code col [N·outH·outW, C·kH·kW]} in C order: row {@code (n, oh, ow)}, column {@code (c, kh, kw)} holds
 * {@code x[n, c, oh·sH − pH + kh·dH, ow·sW − pW + kw·dW]}, or 0 where that falls into the padding. This is the
 * buffer {@code ConvolutionLayer.preOutput} builds (a C-order {@code [N, outH, outW, C, kH, kW]} array filled by
 * {@code Convolution.im2col} through a permuted view, then viewed as 2-D); {@link #im2col} is a pure copy and
 * yields the same bits. It writes one output row {@code oh} of a sample at a time (all its {@code outW} patch
 * rows, contiguous), from a heap copy of the sample.
 *
 * <p><b>Reduction.</b> {@link #col2im} adds every patch value back onto the input pixel it was copied from:
 * {@code out[n, c, ih, iw] = Σ col[(n, oh, ow), (c, kh, kw)]} over the (oh, ow, kh, kw) that read that pixel,
 * starting from 0. The additions for one pixel happen in libnd4j's {@code col2im} order (output row, then output
 * column ascending), so the result equals {@code Convolution.col2im} bit for bit.
 *
 * <p>The minibatch is split across {@link KernelThreads#COUNT} threads (one sample is never split, so results do
 * not depend on the thread count). Off-heap data is read and written through {@link java.nio} views of the
 * arrays' native memory. Images (the input of im2col, the output of col2im) may be C-ordered NCHW or the permuted
 * CNHW buffers DL4J's convolution layers use; other layouts, and a patch matrix that is not C-contiguous, are
 * copied. Arrays of 2<sup>31</sup> bytes or more fall back to libnd4j's ops.
 */
public final class ConvKernels {
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private ConvKernels() {
    }

    /** The number of threads the kernels split a minibatch across ({@code OMP_NUM_THREADS}, else the processors). */
    public static int threads() {
        return KernelThreads.COUNT;
    }

    /**
     * The patch matrix of {@code x} (NCHW, float or double), a new C-order {@code [N·outH·outW, C·kH·kW]} array of
     * its type, allocated uninitialized in the current workspace (as DL4J allocates its own).
     */
    public static INDArray im2col(INDArray x, ConvGeometry g) {
        checkInput(x, g);
        INDArray col = Nd4j.createUninitialized(x.dataType(),
                new long[] {x.size(0) * g.outPositions(), x.size(1) * g.kernelArea()}, 'c');
        im2col(x, g, col);
        return col;
    }

    /**
     * Writes the patch matrix of {@code x} (NCHW; cast to {@code col}'s type if needed) into {@code col}: a
     * C-contiguous array of {@code N·outH·outW·C·kH·kW} elements (2-D {@code [N·outH·outW, C·kH·kW]} or 6-D
     * {@code [N, outH, outW, C, kH, kW]}), every element of which is overwritten.
     */
    public static void im2col(INDArray x, ConvGeometry g, INDArray col) {
        checkInput(x, g);
        int n = (int) x.size(0);
        int c = (int) x.size(1);
        long length = (long) n * g.outPositions() * c * g.kernelArea();
        if (!isCContiguous(col) || col.length() != length) {
            throw new IllegalArgumentException("im2col needs a C-contiguous output of " + length + " elements, got "
                    + col.shapeInfoToString());
        }
        DataType dt = checkType(col.dataType());
        INDArray cast = x.castTo(dt);
        INDArray src = densePlanes(cast) ? cast : cast.dup('c');
        if (tooLarge(col) || tooLarge(src)) {
            INDArray col6 = col.reshape('c', n, g.outH(), g.outW(), c, g.kH(), g.kW());
            Convolution.im2col(src, g.kH(), g.kW(), g.sH(), g.sW(), g.pH(), g.pW(), g.dH(), g.dW(), false,
                    col6.permute(0, 3, 4, 5, 1, 2));
            return;
        }
        Planes planes = Planes.of(src);
        if (dt == DataType.FLOAT) {
            FloatBuffer in = floats(src);
            FloatBuffer out = floats(col);
            KernelThreads.forEach(n, (from, to) -> Im2Col.floats(in.duplicate(), planes, out.duplicate(), from, to,
                    c, g));
        } else {
            DoubleBuffer in = doubles(src);
            DoubleBuffer out = doubles(col);
            KernelThreads.forEach(n, (from, to) -> Im2Col.doubles(in.duplicate(), planes, out.duplicate(), from, to,
                    c, g));
        }
    }

    /**
     * Adds the patch gradients {@code col} ({@code [N·outH·outW, C·kH·kW]} in any layout, e.g. the transpose of
     * the F-order product DL4J's backward pass computes) back onto the pixels they came from and writes the sums
     * into {@code out} ({@code [N, C, inH, inW]}, any layout, every element overwritten; NCHW and CNHW memory orders
     * are written in place).
     */
    public static void col2im(INDArray col, ConvGeometry g, INDArray out) {
        if (out.rank() != 4 || out.size(2) != g.inH() || out.size(3) != g.inW()) {
            throw new IllegalArgumentException("col2im output must be [N, C, " + g.inH() + ", " + g.inW() + "], got "
                    + Arrays.toString(out.shape()));
        }
        int n = (int) out.size(0);
        int c = (int) out.size(1);
        long rows = (long) n * g.outPositions();
        long cols = (long) c * g.kernelArea();
        if (col.length() != rows * cols || (col.rank() == 2 && (col.size(0) != rows || col.size(1) != cols))) {
            throw new IllegalArgumentException("col2im input must be [" + rows + ", " + cols + "], got "
                    + Arrays.toString(col.shape()));
        }
        DataType dt = checkType(out.dataType());
        INDArray src = contiguous(col.castTo(dt));
        INDArray dst = densePlanes(out) ? out : Nd4j.createUninitialized(dt, out.shape(), 'c');
        if (tooLarge(src) || tooLarge(dst)) {
            INDArray col6 = src.reshape('c', n, g.outH(), g.outW(), c, g.kH(), g.kW()).permute(0, 3, 4, 5, 1, 2);
            Convolution.col2im(col6, dst, g.sH(), g.sW(), g.pH(), g.pW(), g.inH(), g.inW(), g.dH(), g.dW());
        } else if (dt == DataType.FLOAT) {
            FloatBuffer in = floats(src);
            FloatBuffer o = floats(dst);
            Planes planes = Planes.of(dst);
            KernelThreads.forEach(n, (from, to) -> Col2Im.floats(in.duplicate(), o.duplicate(), planes, from, to, c,
                    g));
        } else {
            DoubleBuffer in = doubles(src);
            DoubleBuffer o = doubles(dst);
            Planes planes = Planes.of(dst);
            KernelThreads.forEach(n, (from, to) -> Col2Im.doubles(in.duplicate(), o.duplicate(), planes, from, to, c,
                    g));
        }
        if (dst != out) {
            out.assign(dst);
        }
    }

    /**
     * Copies {@code src} into {@code dst}, both {@code [N, C, H, W]} with dense planes in NCHW or CNHW memory order
     * (e.g. DL4J's CNHW convolution output into a C-order NCHW array), one {@code [H, W]} plane at a time; other
     * layouts go through {@code assign}.
     */
    public static void copyPlanes(INDArray src, INDArray dst) {
        if (!Arrays.equals(src.shape(), dst.shape()) || src.dataType() != dst.dataType()) {
            throw new IllegalArgumentException("copyPlanes needs equal shapes and types, got " + src.shapeInfoToString()
                    + " and " + dst.shapeInfoToString());
        }
        if (!densePlanes(src) || !densePlanes(dst) || tooLarge(src) || (src.dataType() != DataType.FLOAT
                && src.dataType() != DataType.DOUBLE)) {
            dst.assign(src);
            return;
        }
        Planes from = Planes.of(src);
        Planes to = Planes.of(dst);
        int c = (int) src.size(1);
        int plane = from.plane();
        if (src.dataType() == DataType.FLOAT) {
            FloatBuffer in = floats(src);
            FloatBuffer out = floats(dst);
            KernelThreads.forEach((int) src.size(0), (a, b) -> {
                FloatBuffer i = in.duplicate();
                FloatBuffer o = out.duplicate();
                for (int n = a; n < b; n++) {
                    for (int ci = 0; ci < c; ci++) {
                        o.put(to.offset(n, ci), i, from.offset(n, ci), plane);
                    }
                }
            });
        } else {
            DoubleBuffer in = doubles(src);
            DoubleBuffer out = doubles(dst);
            KernelThreads.forEach((int) src.size(0), (a, b) -> {
                DoubleBuffer i = in.duplicate();
                DoubleBuffer o = out.duplicate();
                for (int n = a; n < b; n++) {
                    for (int ci = 0; ci < c; ci++) {
                        o.put(to.offset(n, ci), i, from.offset(n, ci), plane);
                    }
                }
            });
        }
    }

    private static void checkInput(INDArray x, ConvGeometry g) {
        if (x.rank() != 4 || x.size(2) != g.inH() || x.size(3) != g.inW()) {
            throw new IllegalArgumentException("im2col input must be NCHW [N, C, " + g.inH() + ", " + g.inW()
                    + "], got " + Arrays.toString(x.shape()));
        }
    }

    private static DataType checkType(DataType dt) {
        if (dt != DataType.FLOAT && dt != DataType.DOUBLE) {
            throw new IllegalArgumentException("convolution kernels support FLOAT and DOUBLE, got " + dt);
        }
        return dt;
    }

    /**
     * Whether {@code a} can still be read: detached, or in a workspace whose scope is open and has not been reset
     * since {@code a} was allocated (the check DL4J's workspace validation makes).
     */
    static boolean live(INDArray a) {
        if (!a.isAttached()) {
            return true;
        }
        MemoryWorkspace ws = a.data().getParentWorkspace();
        return ws != null && ws.isScopeActive() && ws.getGenerationId() == a.data().getGenerationId();
    }

    /** Whether the elements of {@code a} lie in C order, densely, from its buffer's start (offset included). */
    static boolean isCContiguous(INDArray a) {
        return a.ordering() == 'c' && Shape.hasDefaultStridesForShape(a) && !a.isEmpty();
    }

    private static INDArray contiguous(INDArray a) {
        return isCContiguous(a) ? a : a.dup('c');
    }

    /**
     * Whether a 4-D array {@code [N, C, H, W]} is dense with dense {@code [H, W]} planes in either NCHW memory order
     * (C order) or CNHW memory order (DL4J's convolution layers keep activations and errors as permuted
     * {@code [C, N, H, W]} buffers).
     */
    static boolean densePlanes(INDArray a) {
        if (a.rank() != 4 || a.isEmpty()) {
            return false;
        }
        long n = a.size(0);
        long c = a.size(1);
        long h = a.size(2);
        long w = a.size(3);
        long plane = h * w;
        boolean densePlane = (w == 1 || a.stride(3) == 1) && (h == 1 || a.stride(2) == w);
        long s0 = n == 1 ? c * plane : a.stride(0);
        long s1 = c == 1 ? plane : a.stride(1);
        return densePlane && ((s1 == plane && s0 == c * plane) || (s0 == plane && s1 == n * plane));
    }

    /** Where the [H, W] plane of sample n, channel c starts in an array with {@link #densePlanes}. */
    record Planes(int sampleStride, int channelStride, int plane) {
        static Planes of(INDArray a) {
            int plane = (int) (a.size(2) * a.size(3));
            int s0 = a.size(0) == 1 ? (int) a.size(1) * plane : (int) a.stride(0);
            int s1 = a.size(1) == 1 ? plane : (int) a.stride(1);
            return new Planes(s0, s1, plane);
        }

        int offset(int n, int c) {
            return n * sampleStride + c * channelStride;
        }

        /** Whether the planes of one sample follow each other (NCHW memory order). */
        boolean samplesDense() {
            return channelStride == plane;
        }
    }

    private static boolean tooLarge(INDArray a) {
        return a.length() * a.dataType().width() > Integer.MAX_VALUE;
    }

    /** A float view (not a copy) of the native memory of a C-contiguous float array, from its first element. */
    static FloatBuffer floats(INDArray a) {
        FloatPointer p = new FloatPointer(address(a));
        return p.capacity(a.length()).limit(a.length()).asBuffer();
    }

    /** A double view (not a copy) of the native memory of a C-contiguous double array, from its first element. */
    static DoubleBuffer doubles(INDArray a) {
        DoublePointer p = new DoublePointer(address(a));
        return p.capacity(a.length()).limit(a.length()).asBuffer();
    }

    /** The pointer to the first element of {@code a} (its buffer's address pointer includes the view offset). */
    private static Pointer address(INDArray a) {
        Pointer p = a.data().addressPointer();
        if (p == null || p.isNull() || p.position() != 0) {
            throw new IllegalStateException("no direct address for array " + a.shapeInfoToString());
        }
        return p;
    }

    /** Per-thread heap work arrays, grown on demand and reused across calls. */
    static final class Scratch {
        private final float[][] f = new float[3][];
        private final double[][] d = new double[3][];

        static Scratch get() {
            return SCRATCH.get();
        }

        float[] floats(int slot, int length) {
            if (f[slot] == null || f[slot].length < length) {
                f[slot] = new float[length];
            }
            return f[slot];
        }

        double[] doubles(int slot, int length) {
            if (d[slot] == null || d[slot].length < length) {
                d[slot] = new double[length];
            }
            return d[slot];
        }
    }
}
