package io.qat4j.layers.nn.impl;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The geometry of one 2-D convolution on an NCHW input, as DL4J's {@code ConvolutionLayer} computes it: kernel
 * {@code kH x kW}, strides, top-left padding, dilation, input and output size. In {@code Same} mode the padding
 * is {@link ConvolutionUtils#getSameModeTopLeftPadding} (the bottom / right padding is implied by the output
 * size); in {@code Truncate} and {@code Strict} mode it is the configured padding.
 *
 * @param kH kernel height
 * @param kW kernel width
 * @param sH stride along the height
 * @param sW stride along the width
 * @param pH top padding
 * @param pW left padding
 * @param dH dilation along the height
 * @param dW dilation along the width
 * @param inH input height
 * @param inW input width
 * @param outH output height
 * @param outW output width
 */
public record ConvGeometry(int kH, int kW, int sH, int sW, int pH, int pW, int dH, int dW, int inH, int inW,
                           int outH, int outW) {

    /** Checks that every size is positive and the padding not negative. */
    public ConvGeometry {
        if (kH < 1 || kW < 1 || sH < 1 || sW < 1 || dH < 1 || dW < 1 || inH < 1 || inW < 1 || outH < 1 || outW < 1
                || pH < 0 || pW < 0) {
            throw new IllegalArgumentException("invalid convolution geometry " + this
                    + "; kernel, strides, dilation, input and output sizes must be >= 1, padding >= 0");
        }
    }

    /**
     * The geometry DL4J's {@code ConvolutionLayer.preOutput} computes for an NCHW input (output size by
     * {@link ConvolutionUtils#getOutputSize}, which also validates the configuration).
     *
     * @param nchw     the input [N, C, H, W]
     * @param kernel   {kH, kW}
     * @param stride   {sH, sW}
     * @param padding  {pH, pW}, ignored in Same mode
     * @param dilation {dH, dW}
     * @param mode     the convolution mode
     */
    public static ConvGeometry of(INDArray nchw, int[] kernel, int[] stride, int[] padding, int[] dilation,
                                  ConvolutionMode mode) {
        int inH = (int) nchw.size(2);
        int inW = (int) nchw.size(3);
        int[] pad;
        int[] out;
        if (mode == ConvolutionMode.Same) {
            out = ConvolutionUtils.getOutputSize(nchw, kernel, stride, null, mode, dilation, CNN2DFormat.NCHW);
            pad = ConvolutionUtils.getSameModeTopLeftPadding(out, new int[] {inH, inW}, kernel, stride, dilation);
        } else {
            pad = padding;
            out = ConvolutionUtils.getOutputSize(nchw, kernel, stride, pad, mode, dilation, CNN2DFormat.NCHW);
        }
        return new ConvGeometry(kernel[0], kernel[1], stride[0], stride[1], pad[0], pad[1], dilation[0], dilation[1],
                inH, inW, out[0], out[1]);
    }

    /** Output positions per sample: {@code outH * outW}. */
    public int outPositions() {
        return outH * outW;
    }

    /** Values per input pixel position across the kernel: {@code kH * kW}. */
    public int kernelArea() {
        return kH * kW;
    }

    /** The first output column whose kernel column {@code kw} reads an input column {@code >= 0}. */
    public int firstColumnInside(int kw) {
        int shift = kw * dW - pW;
        return Math.min(outW, Math.max(0, Math.floorDiv(sW - 1 - shift, sW)));
    }

    /**
     * One past the last output column whose kernel column {@code kw} reads an input column below {@code inW} (at
     * least {@link #firstColumnInside}); the output columns in between read inside the input.
     */
    public int endColumnInside(int kw) {
        int shift = kw * dW - pW;
        return Math.max(firstColumnInside(kw), Math.min(outW, Math.floorDiv(inW - 1 - shift, sW) + 1));
    }

    /** The strides as DL4J's arrays take them. */
    public int[] stride() {
        return new int[] {sH, sW};
    }

    /** The top-left padding. */
    public int[] pad() {
        return new int[] {pH, pW};
    }

    /** The dilation. */
    public int[] dilation() {
        return new int[] {dH, dW};
    }
}
