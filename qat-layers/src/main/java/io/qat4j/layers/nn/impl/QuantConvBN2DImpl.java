package io.qat4j.layers.nn.impl;

import io.qat4j.layers.nn.QuantConvBN2D;
import org.deeplearning4j.exception.DL4JInvalidInputException;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * Implementation of {@link QuantConvBN2D}: the fold of {@link FusedBnImpl} around libnd4j's
 * {@code conv2d} / {@code conv2d_bp} (NCHW activations, {@code [nOut, nIn, kH, kW]} weights, the
 * padding and output size DL4J's {@code ConvolutionLayer} computes).
 */
public class QuantConvBN2DImpl extends FusedBnImpl<QuantConvBN2D> {

    public QuantConvBN2DImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType, 0);
    }

    /** kH, kW, sH, sW, pH, pW, dH, dW, same-mode, NCHW (0), weights [oC, iC, kH, kW] (1); and the output size. */
    private Geometry geometry(INDArray x) {
        QuantConvBN2D c = layerConf();
        int[] k = c.getKernelSize();
        int[] s = c.getStride();
        int[] d = c.getDilation();
        ConvolutionMode mode = c.getConvolutionMode();
        boolean same = mode == ConvolutionMode.Same;
        int[] out;
        int[] pad;
        if (same) {
            out = ConvolutionUtils.getOutputSize(x, k, s, null, mode, d, CNN2DFormat.NCHW);
            pad = ConvolutionUtils.getSameModeTopLeftPadding(out, new int[]{(int) x.size(2), (int) x.size(3)}, k, s, d);
        } else {
            pad = c.getPadding();
            out = ConvolutionUtils.getOutputSize(x, k, s, pad, mode, d, CNN2DFormat.NCHW);
        }
        return new Geometry(new int[]{k[0], k[1], s[0], s[1], pad[0], pad[1], d[0], d[1], same ? 1 : 0, 0, 1},
                new long[]{x.size(0), c.getNOut(), out[0], out[1]});
    }

    private record Geometry(int[] args, long[] outShape) {
    }

    @Override
    protected INDArray linear(INDArray x, INDArray w) {
        Geometry geo = geometry(x);
        INDArray y = Nd4j.createUninitialized(x.dataType(), geo.outShape(), 'c');
        Nd4j.exec(DynamicCustomOp.builder("conv2d").addInputs(x, w).addOutputs(y).addIntegerArguments(geo.args()).build());
        return y;
    }

    @Override
    protected INDArray[] linearBackward(INDArray x, INDArray w, INDArray delta) {
        Geometry geo = geometry(x);
        INDArray dx = Nd4j.createUninitialized(x.dataType(), x.shape(), 'c');
        INDArray dw = Nd4j.createUninitialized(w.dataType(), w.shape(), 'c');
        Nd4j.exec(DynamicCustomOp.builder("conv2d_bp").addInputs(x, w, delta).addOutputs(dx, dw)
                .addIntegerArguments(geo.args()).build());
        return new INDArray[]{dx, dw};
    }

    @Override
    protected void checkInput(INDArray x) {
        QuantConvBN2D c = layerConf();
        if (c.getCnn2dDataFormat() != null && c.getCnn2dDataFormat() != CNN2DFormat.NCHW) {
            throw new IllegalArgumentException("QuantConvBN2D " + c.getLayerName() + ": data format "
                    + c.getCnn2dDataFormat() + " is not allowed; allowed: NCHW");
        }
        if (x.rank() != 4 || x.size(1) != c.getNIn()) {
            throw new DL4JInvalidInputException("Input of " + layerId() + " has shape " + Arrays.toString(x.shape())
                    + "; expected NCHW [minibatch, " + c.getNIn() + ", height, width]");
        }
    }

    @Override
    public Type type() {
        return Type.CONVOLUTIONAL;
    }
}
