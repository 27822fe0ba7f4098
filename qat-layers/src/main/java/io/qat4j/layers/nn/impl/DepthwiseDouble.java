package io.qat4j.layers.nn.impl;

import java.nio.DoubleBuffer;
import java.util.Arrays;

/**
 * The float64 loops of {@link DepthwiseKernels}: one {@code [H, W]} input plane and one output plane at a time in
 * heap arrays, each kernel tap applied to the whole plane (inner loop along the output row, contiguous for stride
 * 1). {@link DepthwiseFloat} is the same code in float32.
 */
final class DepthwiseDouble {
    private DepthwiseDouble() {
    }

    /** Output planes of samples {@code [from, to)}; {@code w [kH, kW, C, M]}, {@code b [C·M]} (or null) flat. */
    static void forward(DoubleBuffer in, ConvKernels.Planes inPlanes, double[] w, double[] b, DoubleBuffer out, int from,
                        int to, int c, int m, ConvGeometry g) {
        int hw = g.inH() * g.inW();
        int ohw = g.outPositions();
        int cm = c * m;
        ConvKernels.Scratch s = ConvKernels.Scratch.get();
        double[] src = s.doubles(0, hw);
        double[] acc = s.doubles(1, ohw);
        for (int n = from; n < to; n++) {
            for (int ci = 0; ci < c; ci++) {
                in.get(inPlanes.offset(n, ci), src, 0, hw);
                for (int mi = 0; mi < m; mi++) {
                    int oc = ci * m + mi;
                    Arrays.fill(acc, 0, ohw, 0d);
                    for (int kh = 0; kh < g.kH(); kh++) {
                        for (int kw = 0; kw < g.kW(); kw++) {
                            tap(src, acc, w[(kh * g.kW() + kw) * cm + oc], kh, kw, g);
                        }
                    }
                    if (b != null) {
                        double bias = b[oc];
                        for (int i = 0; i < ohw; i++) {
                            acc[i] += bias;
                        }
                    }
                    out.put((n * cm + oc) * ohw, acc, 0, ohw);
                }
            }
        }
    }

    /** {@code acc[oh, ow] += wv · src[ih, iw]} for the output positions whose tap (kh, kw) lies inside the input. */
    private static void tap(double[] src, double[] acc, double wv, int kh, int kw, ConvGeometry g) {
        int w = g.inW();
        int sW = g.sW();
        int lo = g.firstColumnInside(kw);
        int hi = g.endColumnInside(kw);
        int shift = kw * g.dW() - g.pW();
        for (int oh = 0; oh < g.outH(); oh++) {
            int ih = oh * g.sH() - g.pH() + kh * g.dH();
            if (ih < 0 || ih >= g.inH()) {
                continue;
            }
            int o = oh * g.outW();
            int r = ih * w + shift;
            if (sW == 1) {
                for (int ow = lo; ow < hi; ow++) {
                    acc[o + ow] += wv * src[r + ow];
                }
            } else {
                for (int ow = lo; ow < hi; ow++) {
                    acc[o + ow] += wv * src[r + ow * sW];
                }
            }
        }
    }

    /**
     * Gradients of input channels {@code [from, to)} over the whole minibatch: their dx planes, and their entries of
     * {@code dw [kH·kW·C·M]} and {@code db [C·M]} (which no other thread writes).
     */
    static void backward(DoubleBuffer in, ConvKernels.Planes inPlanes, DoubleBuffer err, ConvKernels.Planes errPlanes,
                         double[] w, DoubleBuffer dx, ConvKernels.Planes dxPlanes, double[] dw, double[] db,
                         int from, int to, int n, int c, int m, ConvGeometry g) {
        int hw = g.inH() * g.inW();
        int ohw = g.outPositions();
        int cm = c * m;
        ConvKernels.Scratch s = ConvKernels.Scratch.get();
        double[] src = s.doubles(0, hw);
        double[] dxAcc = s.doubles(1, hw);
        double[] e = s.doubles(2, ohw);
        for (int ci = from; ci < to; ci++) {
            for (int ni = 0; ni < n; ni++) {
                in.get(inPlanes.offset(ni, ci), src, 0, hw);
                Arrays.fill(dxAcc, 0, hw, 0d);
                for (int mi = 0; mi < m; mi++) {
                    int oc = ci * m + mi;
                    err.get(errPlanes.offset(ni, oc), e, 0, ohw);
                    double sum = 0d;
                    for (int i = 0; i < ohw; i++) {
                        sum += e[i];
                    }
                    db[oc] += sum;
                    for (int kh = 0; kh < g.kH(); kh++) {
                        for (int kw = 0; kw < g.kW(); kw++) {
                            int t = (kh * g.kW() + kw) * cm + oc;
                            dw[t] += tapBackward(src, e, dxAcc, w[t], kh, kw, g);
                        }
                    }
                }
                dx.put(dxPlanes.offset(ni, ci), dxAcc, 0, hw);
            }
        }
    }

    /** Adds tap (kh, kw)'s {@code wv · e} onto dx; returns {@code Σ e · src} over the plane (its weight gradient). */
    private static double tapBackward(double[] src, double[] e, double[] dxAcc, double wv, int kh, int kw,
                                      ConvGeometry g) {
        int w = g.inW();
        int sW = g.sW();
        int lo = g.firstColumnInside(kw);
        int hi = g.endColumnInside(kw);
        int shift = kw * g.dW() - g.pW();
        double partial = 0d;
        for (int oh = 0; oh < g.outH(); oh++) {
            int ih = oh * g.sH() - g.pH() + kh * g.dH();
            if (ih < 0 || ih >= g.inH()) {
                continue;
            }
            int o = oh * g.outW();
            int r = ih * w + shift;
            for (int ow = lo; ow < hi; ow++) {
                double ev = e[o + ow];
                int x = r + ow * sW;
                partial += ev * src[x];
                dxAcc[x] += wv * ev;
            }
        }
        return partial;
    }
}
