package io.qat4j.layers.nn.impl;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

/**
 * The loops of {@link ConvKernels#im2col}: for samples {@code [from, to)}, copy each sample into a heap array
 * {@code [C, H, W]} (plane by plane when the input is CNHW in memory), then
 * build the {@code outW} patch rows of one output row {@code oh} at a time (columns {@code (c, kh, kw)}, zeros in
 * the padding) and store them with one bulk write.
 *
 * <p>Within an output row the loops run over (c, kh), then over the output columns: first those whose window
 * overlaps the left padding, then the interior ones (every {@code kw} inside the input, no test, unrolled for the
 * common 1, 3 and 5 wide undilated kernels), then those overlapping the right padding. The float and double
 * versions are the same code.
 */
final class Im2Col {
    private Im2Col() {
    }

    static void floats(FloatBuffer in, ConvKernels.Planes planes, FloatBuffer out, int from, int to, int c,
                       ConvGeometry g) {
        int sample = c * g.inH() * g.inW();
        int rowLen = g.outW() * c * g.kernelArea();
        ConvKernels.Scratch s = ConvKernels.Scratch.get();
        float[] src = s.floats(0, sample);
        float[] row = s.floats(1, rowLen);
        for (int n = from; n < to; n++) {
            if (planes.samplesDense()) {
                in.get(planes.offset(n, 0), src, 0, sample);
            } else {
                for (int ci = 0; ci < c; ci++) {
                    in.get(planes.offset(n, ci), src, ci * planes.plane(), planes.plane());
                }
            }
            for (int oh = 0; oh < g.outH(); oh++) {
                fillRow(src, row, oh, c, g);
                out.put((n * g.outH() + oh) * rowLen, row, 0, rowLen);
            }
        }
    }

    static void doubles(DoubleBuffer in, ConvKernels.Planes planes, DoubleBuffer out, int from, int to, int c,
                        ConvGeometry g) {
        int sample = c * g.inH() * g.inW();
        int rowLen = g.outW() * c * g.kernelArea();
        ConvKernels.Scratch s = ConvKernels.Scratch.get();
        double[] src = s.doubles(0, sample);
        double[] row = s.doubles(1, rowLen);
        for (int n = from; n < to; n++) {
            if (planes.samplesDense()) {
                in.get(planes.offset(n, 0), src, 0, sample);
            } else {
                for (int ci = 0; ci < c; ci++) {
                    in.get(planes.offset(n, ci), src, ci * planes.plane(), planes.plane());
                }
            }
            for (int oh = 0; oh < g.outH(); oh++) {
                fillRow(src, row, oh, c, g);
                out.put((n * g.outH() + oh) * rowLen, row, 0, rowLen);
            }
        }
    }

    /** First output column whose window lies inside the input (left of it the window overlaps the padding). */
    static int interiorStart(ConvGeometry g) {
        return Math.min(g.outW(), Math.floorDiv(g.pW() + g.sW() - 1, g.sW()));
    }

    /** One past the last output column whose window lies inside the input (at least {@link #interiorStart}). */
    static int interiorEnd(ConvGeometry g) {
        int last = Math.floorDiv(g.inW() - 1 + g.pW() - (g.kW() - 1) * g.dW(), g.sW());
        return Math.max(interiorStart(g), Math.min(g.outW(), last + 1));
    }

    /** The patch rows {@code (oh, 0..outW-1)} of one sample {@code src [C, H, W]}, one after another. */
    private static void fillRow(float[] src, float[] row, int oh, int c, ConvGeometry g) {
        int h = g.inH();
        int w = g.inW();
        int kW = g.kW();
        int dW = g.dW();
        int sW = g.sW();
        int outW = g.outW();
        int k = c * g.kernelArea();
        int lo = interiorStart(g);
        int hi = interiorEnd(g);
        int ih0 = oh * g.sH() - g.pH();
        for (int ci = 0; ci < c; ci++) {
            for (int kh = 0; kh < g.kH(); kh++) {
                int ih = ih0 + kh * g.dH();
                int j = (ci * g.kH() + kh) * kW;
                if (ih < 0 || ih >= h) {
                    for (int ow = 0, q = j; ow < outW; ow++, q += k) {
                        for (int kw = 0; kw < kW; kw++) {
                            row[q + kw] = 0f;
                        }
                    }
                    continue;
                }
                int base = (ci * h + ih) * w - g.pW();
                for (int ow = 0; ow < lo; ow++) {
                    edge(src, row, ow * k + j, base + ow * sW, ow * sW - g.pW(), kW, dW, w);
                }
                if (dW == 1 && kW == 3) {
                    for (int ow = lo, q = lo * k + j, s = base + lo * sW; ow < hi; ow++, q += k, s += sW) {
                        row[q] = src[s];
                        row[q + 1] = src[s + 1];
                        row[q + 2] = src[s + 2];
                    }
                } else if (dW == 1 && kW == 5) {
                    for (int ow = lo, q = lo * k + j, s = base + lo * sW; ow < hi; ow++, q += k, s += sW) {
                        row[q] = src[s];
                        row[q + 1] = src[s + 1];
                        row[q + 2] = src[s + 2];
                        row[q + 3] = src[s + 3];
                        row[q + 4] = src[s + 4];
                    }
                } else if (kW == 1) {
                    for (int ow = lo, q = lo * k + j, s = base + lo * sW; ow < hi; ow++, q += k, s += sW) {
                        row[q] = src[s];
                    }
                } else {
                    for (int ow = lo, q = lo * k + j, s = base + lo * sW; ow < hi; ow++, q += k, s += sW) {
                        for (int kw = 0; kw < kW; kw++) {
                            row[q + kw] = src[s + kw * dW];
                        }
                    }
                }
                for (int ow = hi; ow < outW; ow++) {
                    edge(src, row, ow * k + j, base + ow * sW, ow * sW - g.pW(), kW, dW, w);
                }
            }
        }
    }

    /** One window row that overlaps the padding: input column {@code iw0 + kw·dW}, 0 outside [0, w). */
    private static void edge(float[] src, float[] row, int q, int s, int iw0, int kW, int dW, int w) {
        for (int kw = 0; kw < kW; kw++) {
            int iw = iw0 + kw * dW;
            row[q + kw] = iw >= 0 && iw < w ? src[s + kw * dW] : 0f;
        }
    }

    private static void fillRow(double[] src, double[] row, int oh, int c, ConvGeometry g) {
        int h = g.inH();
        int w = g.inW();
        int kW = g.kW();
        int dW = g.dW();
        int sW = g.sW();
        int outW = g.outW();
        int k = c * g.kernelArea();
        int lo = interiorStart(g);
        int hi = interiorEnd(g);
        int ih0 = oh * g.sH() - g.pH();
        for (int ci = 0; ci < c; ci++) {
            for (int kh = 0; kh < g.kH(); kh++) {
                int ih = ih0 + kh * g.dH();
                int j = (ci * g.kH() + kh) * kW;
                if (ih < 0 || ih >= h) {
                    for (int ow = 0, q = j; ow < outW; ow++, q += k) {
                        for (int kw = 0; kw < kW; kw++) {
                            row[q + kw] = 0d;
                        }
                    }
                    continue;
                }
                int base = (ci * h + ih) * w - g.pW();
                for (int ow = 0; ow < lo; ow++) {
                    edge(src, row, ow * k + j, base + ow * sW, ow * sW - g.pW(), kW, dW, w);
                }
                for (int ow = lo, q = lo * k + j, s = base + lo * sW; ow < hi; ow++, q += k, s += sW) {
                    for (int kw = 0; kw < kW; kw++) {
                        row[q + kw] = src[s + kw * dW];
                    }
                }
                for (int ow = hi; ow < outW; ow++) {
                    edge(src, row, ow * k + j, base + ow * sW, ow * sW - g.pW(), kW, dW, w);
                }
            }
        }
    }

    private static void edge(double[] src, double[] row, int q, int s, int iw0, int kW, int dW, int w) {
        for (int kw = 0; kw < kW; kw++) {
            int iw = iw0 + kw * dW;
            row[q + kw] = iw >= 0 && iw < w ? src[s + kw * dW] : 0d;
        }
    }
}
