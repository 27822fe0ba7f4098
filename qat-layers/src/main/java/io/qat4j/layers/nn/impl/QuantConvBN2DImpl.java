package io.qat4j.layers.nn.impl;

import io.qat4j.layers.nn.QuantConvBN2D;
import org.deeplearning4j.exception.DL4JInvalidInputException;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
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
    /** The input and patch matrix of the last convolution within the current forward or backward pass. */
    private INDArray colInput;
    private INDArray col;

    public QuantConvBN2DImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType, 0);
    }

    /** The fold computes two convolutions of the same input per pass (W and W_q): one patch matrix serves both. */
    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
        forgetCol();
        try {
            return super.activate(training, mgr);
        } finally {
            forgetCol();
        }
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        forgetCol();
        try {
            return super.backpropGradient(epsilon, mgr);
        } finally {
            forgetCol();
        }
    }

    private void forgetCol() {
        colInput = null;
        col = null;
    }

    /** The patch matrix of x, reused for the same input object within one pass while its workspace is live. */
    private INDArray col(INDArray x, INDArray w, ConvGeometry g) {
        if (x != colInput || col == null || !ConvKernels.live(col)) {
            col = ConvKernels.im2col(x.castTo(w.dataType()), g);
            colInput = x;
        }
        return col;
    }

    @Override
    protected INDArray linear(INDArray x, INDArray w) {
        ConvGeometry g = convGeometry(x);
        return ConvProducts.forward(col(x, w, g), x.size(0), w, g);
    }

    @Override
    protected INDArray[] linearBackward(INDArray x, INDArray w, INDArray delta) {
        ConvGeometry g = convGeometry(x);
        return ConvProducts.backward(col(x, w, g), x.shape(), w, delta, g);
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
