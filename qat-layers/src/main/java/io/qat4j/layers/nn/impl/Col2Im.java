package io.qat4j.layers.nn.impl;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The loops of {@link ConvKernels#col2im}: for samples {@code [from, to)}, read the patch rows of one output row
 * at a time and add each value onto its pixel in a heap accumulator of the sample, then store the sample with one
 * bulk write (one per plane when the output is CNHW in memory).
 *
 * <p>Order: libnd4j's {@code col2im} (as DL4J 1.0.0-M2.1 ships it) adds the contributions to a pixel in ascending
 * (output row, output column) order, starting from 0. Here output rows are taken in ascending order, and within
 * one output row a pixel of input row {@code ih} receives values only from the kernel row {@code kh} that reads
 * {@code ih}, in ascending output-column order; so the sums are the same, bit for bit (verified by
 * {@code ConvKernelsTest}).
 */
final class Col2Im {
    private Col2Im() {
    }

    static void floats(FloatBuffer in, FloatBuffer out, ConvKernels.Planes planes, int from, int to, int c,
                       ConvGeometry g) {
        int sample = c * g.inH() * g.inW();
        int rowLen = g.outW() * c * g.kernelArea();
        ConvKernels.Scratch s = ConvKernels.Scratch.get();
        float[] acc = s.floats(0, sample);
        float[] rows = s.floats(1, rowLen);
        for (int n = from; n < to; n++) {
            Arrays.fill(acc, 0, sample, 0f);
            for (int oh = 0; oh < g.outH(); oh++) {
                in.get((n * g.outH() + oh) * rowLen, rows, 0, rowLen);
                addRow(rows, acc, oh, c, g);
            }
            if (planes.samplesDense()) {
                out.put(planes.offset(n, 0), acc, 0, sample);
            } else {
                for (int ci = 0; ci < c; ci++) {
                    out.put(planes.offset(n, ci), acc, ci * planes.plane(), planes.plane());
                }
            }
        }
    }

    static void doubles(DoubleBuffer in, DoubleBuffer out, ConvKernels.Planes planes, int from, int to, int c,
                        ConvGeometry g) {
        int sample = c * g.inH() * g.inW();
        int rowLen = g.outW() * c * g.kernelArea();
        ConvKernels.Scratch s = ConvKernels.Scratch.get();
        double[] acc = s.doubles(0, sample);
        double[] rows = s.doubles(1, rowLen);
        for (int n = from; n < to; n++) {
            Arrays.fill(acc, 0, sample, 0d);
            for (int oh = 0; oh < g.outH(); oh++) {
                in.get((n * g.outH() + oh) * rowLen, rows, 0, rowLen);
                addRow(rows, acc, oh, c, g);
            }
            if (planes.samplesDense()) {
                out.put(planes.offset(n, 0), acc, 0, sample);
            } else {
                for (int ci = 0; ci < c; ci++) {
                    out.put(planes.offset(n, ci), acc, ci * planes.plane(), planes.plane());
                }
            }
        }
    }

    /**
     * Adds the patch rows {@code (oh, 0..outW-1)} onto the sample accumulator {@code acc [C, H, W]}: per (c, kh),
     * the output columns whose window overlaps the left padding, the interior ones (unrolled for 3 and 5 wide
     * undilated kernels), then those overlapping the right padding, each in ascending order.
     */
    private static void addRow(float[] rows, float[] acc, int oh, int c, ConvGeometry g) {
        if (g.sW() == 1 && g.dW() == 1 && g.kW() == 3) {
            addRowByPixel(rows, acc, oh, c, g);
            return;
        }
        int h = g.inH();
        int w = g.inW();
        int kW = g.kW();
        int dW = g.dW();
        int sW = g.sW();
        int outW = g.outW();
        int k = c * g.kernelArea();
        int lo = Im2Col.interiorStart(g);
        int hi = Im2Col.interiorEnd(g);
        int ih0 = oh * g.sH() - g.pH();
        for (int ci = 0; ci < c; ci++) {
            for (int kh = 0; kh < g.kH(); kh++) {
                int ih = ih0 + kh * g.dH();
                if (ih < 0 || ih >= h) {
                    continue;
                }
                int j = (ci * g.kH() + kh) * kW;
                int base = (ci * h + ih) * w - g.pW();
                for (int ow = 0; ow < lo; ow++) {
                    edge(rows, acc, ow * k + j, base + ow * sW, ow * sW - g.pW(), kW, dW, w);
                }
                if (dW == 1 && kW == 3) {
                    for (int ow = lo, q = lo * k + j, s = base + lo * sW; ow < hi; ow++, q += k, s += sW) {
                        acc[s] += rows[q];
                        acc[s + 1] += rows[q + 1];
                        acc[s + 2] += rows[q + 2];
                    }
                } else if (dW == 1 && kW == 5) {
                    for (int ow = lo, q = lo * k + j, s = base + lo * sW; ow < hi; ow++, q += k, s += sW) {
                        acc[s] += rows[q];
                        acc[s + 1] += rows[q + 1];
                        acc[s + 2] += rows[q + 2];
                        acc[s + 3] += rows[q + 3];
                        acc[s + 4] += rows[q + 4];
                    }
                } else {
                    for (int ow = lo, q = lo * k + j, s = base + lo * sW; ow < hi; ow++, q += k, s += sW) {
                        for (int kw = 0; kw < kW; kw++) {
                            acc[s + kw * dW] += rows[q + kw];
                        }
                    }
                }
                for (int ow = hi; ow < outW; ow++) {
                    edge(rows, acc, ow * k + j, base + ow * sW, ow * sW - g.pW(), kW, dW, w);
                }
            }
        }
    }

    /**
     * {@link #addRow} for undilated stride-1 columns of 3-wide kernels, by input pixel: each pixel of input row
     * {@code ih} takes the values of the output columns {@code ow = x + pW − kw} that read it, from the smallest
     * {@code ow} (largest {@code kw}) up, in a register, so the pixels are independent (no chain of additions through
     * memory); the same additions in the same order as the scatter loop. (Measured 25-40% faster for 3x3 kernels,
     * slower for 5x5 ones, whose many edge pixels take the general loop.)
     */
    private static void addRowByPixel(float[] rows, float[] acc, int oh, int c, ConvGeometry g) {
        int h = g.inH();
        int w = g.inW();
        int kW = g.kW();
        int pW = g.pW();
        int outW = g.outW();
        int k = c * g.kernelArea();
        int xLo = Math.min(w, Math.max(0, kW - 1 - pW));
        int xHi = Math.max(xLo, Math.min(w, outW - pW));
        int ih0 = oh * g.sH() - g.pH();
        for (int ci = 0; ci < c; ci++) {
            for (int kh = 0; kh < g.kH(); kh++) {
                int ih = ih0 + kh * g.dH();
                if (ih < 0 || ih >= h) {
                    continue;
                }
                int j = (ci * g.kH() + kh) * kW;
                int base = (ci * h + ih) * w;
                for (int x = 0; x < xLo; x++) {
                    acc[base + x] = pixel(rows, acc[base + x], x, j, k, kW, pW, outW);
                }
                int step = k - 1;
                for (int x = xLo, q = (xLo + pW - 2) * k + j + 2; x < xHi; x++, q += k) {
                    float a = acc[base + x];
                    a += rows[q];
                    a += rows[q + step];
                    a += rows[q + 2 * step];
                    acc[base + x] = a;
                }
                for (int x = xHi; x < w; x++) {
                    acc[base + x] = pixel(rows, acc[base + x], x, j, k, kW, pW, outW);
                }
            }
        }
    }

    /** {@code a} plus the values for input column x of one (c, kh) patch row, in ascending output-column order. */
    private static float pixel(float[] rows, float a, int x, int j, int k, int kW, int pW, int outW) {
        for (int kw = kW - 1; kw >= 0; kw--) {
            int ow = x + pW - kw;
            if (ow >= 0 && ow < outW) {
                a += rows[ow * k + j + kw];
            }
        }
        return a;
    }

    /** One window row that overlaps the padding: adds the values whose input column lies in [0, w). */
    private static void edge(float[] rows, float[] acc, int q, int s, int iw0, int kW, int dW, int w) {
        for (int kw = 0; kw < kW; kw++) {
            int iw = iw0 + kw * dW;
            if (iw >= 0 && iw < w) {
                acc[s + kw * dW] += rows[q + kw];
            }
        }
    }

    private static void addRow(double[] rows, double[] acc, int oh, int c, ConvGeometry g) {
        int h = g.inH();
        int w = g.inW();
        int kW = g.kW();
        int dW = g.dW();
        int sW = g.sW();
        int outW = g.outW();
        int k = c * g.kernelArea();
        int lo = Im2Col.interiorStart(g);
        int hi = Im2Col.interiorEnd(g);
        int ih0 = oh * g.sH() - g.pH();
        for (int ci = 0; ci < c; ci++) {
            for (int kh = 0; kh < g.kH(); kh++) {
                int ih = ih0 + kh * g.dH();
                if (ih < 0 || ih >= h) {
                    continue;
                }
                int j = (ci * g.kH() + kh) * kW;
                int base = (ci * h + ih) * w - g.pW();
                for (int ow = 0; ow < lo; ow++) {
                    edge(rows, acc, ow * k + j, base + ow * sW, ow * sW - g.pW(), kW, dW, w);
                }
                for (int ow = lo, q = lo * k + j, s = base + lo * sW; ow < hi; ow++, q += k, s += sW) {
                    for (int kw = 0; kw < kW; kw++) {
                        acc[s + kw * dW] += rows[q + kw];
                    }
                }
                for (int ow = hi; ow < outW; ow++) {
                    edge(rows, acc, ow * k + j, base + ow * sW, ow * sW - g.pW(), kW, dW, w);
                }
            }
        }
    }

    private static void edge(double[] rows, double[] acc, int q, int s, int iw0, int kW, int dW, int w) {
        for (int kw = 0; kw < kW; kw++) {
            int iw = iw0 + kw * dW;
            if (iw >= 0 && iw < w) {
                acc[s + kw * dW] += rows[q + kw];
            }
        }
    }
}
