package io.qat4j.layers.nn.impl;

import io.qat4j.layers.nn.QuantConvBN2D;
import org.deeplearning4j.exception.DL4JInvalidInputException;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/**
 * Implementation of {@link QuantConvBN2D}: the fold of {@link FusedBnImpl} around a convolution computed by
 * {@link ConvProducts} on the project's im2col / col2im kernels (NCHW activations, {@code [nOut, nIn, kH, kW]}
 * weights, the padding and output size DL4J's {@code ConvolutionLayer} computes). libnd4j's {@code conv2d} /
 * {@code conv2d_bp} ops compute the same products through its slower im2col.
 */
public class QuantConvBN2DImpl extends FusedBnImpl<QuantConvBN2D> {

    public QuantConvBN2DImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType, 0);
    }

    @Override
    protected INDArray linear(INDArray x, INDArray w) {
        return ConvProducts.forward(x, w, convGeometry(x));
    }

    @Override
    protected INDArray[] linearBackward(INDArray x, INDArray w, INDArray delta) {
        return ConvProducts.backward(x, w, delta, convGeometry(x));
    }

    private ConvGeometry convGeometry(INDArray x) {
        QuantConvBN2D c = layerConf();
        return ConvGeometry.of(x, c.getKernelSize(), c.getStride(), c.getPadding(), c.getDilation(),
                c.getConvolutionMode());
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
