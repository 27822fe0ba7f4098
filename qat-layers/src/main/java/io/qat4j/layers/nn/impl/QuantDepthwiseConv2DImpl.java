package io.qat4j.layers.nn.impl;

import io.qat4j.layers.nn.QuantDepthwiseConv2D;
import org.deeplearning4j.exception.DL4JInvalidInputException;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.DepthwiseConvolution2DLayer;
import org.deeplearning4j.nn.params.DepthwiseConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/**
 * Implementation of {@link QuantDepthwiseConv2D}: DL4J's depth-wise convolution at the quantized values.
 *
 * <p>With NCHW activations (float32 / float64) the forward and backward passes are those of DL4J's
 * {@code DepthwiseConvolution2DLayer} with libnd4j's {@code depthwise_conv2d} / {@code depthwise_conv2d_bp} ops
 * replaced by {@link DepthwiseKernels} (8-25x faster on MobileNet-like layers here; equal up to the summation
 * order); NHWC activations use DL4J's ops.
 */
public class QuantDepthwiseConv2DImpl extends DepthwiseConvolution2DLayer {
    private static final String W = DepthwiseConvolutionParamInitializer.WEIGHT_KEY;
    private static final String B = DepthwiseConvolutionParamInitializer.BIAS_KEY;
    /** Channel axis of depth-wise weights {@code [kH, kW, nIn, multiplier]}. */
    static final int WEIGHT_CHANNEL_AXIS = QuantDepthwiseConv2D.WEIGHT_CHANNEL_AXIS;

    private final SiteRuntime rt;

    public QuantDepthwiseConv2DImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
        this.rt = new SiteRuntime(this, ((QuantDepthwiseConv2D) conf.getLayer()).getQuantSites(), W, WEIGHT_CHANNEL_AXIS, B);
    }

    private void quantizeInput(boolean training, LayerWorkspaceMgr mgr) {
        input = rt.inputForCompute(input, training, mgr);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
        assertInputSet(false);
        quantizeInput(training, mgr);
        INDArray y = super.activate(training, mgr);
        return rt.quantizeOutput(y, training, mgr);
    }

    /** Whether this layer computes with {@link DepthwiseKernels} (NCHW, float32 / float64, not huge). */
    private boolean fast(INDArray x) {
        return layerConf().getCnn2dDataFormat() == CNN2DFormat.NCHW && DepthwiseKernels.supports(x)
                && DepthwiseKernels.supports(getParam(W)) && x.rank() == 4;
    }

    private ConvGeometry geometry(INDArray x) {
        return ConvGeometry.of(x, layerConf().getKernelSize(), layerConf().getStride(), layerConf().getPadding(),
                layerConf().getDilation(), convolutionMode);
    }

    /**
     * {@code DepthwiseConvolution2DLayer.preOutput}: the output {@code [N, C·M, outH, outW]} in the ACTIVATIONS
     * workspace, computed by {@link DepthwiseKernels#forward}.
     */
    @Override
    protected Pair<INDArray, INDArray> preOutput(boolean training, boolean forBackprop, LayerWorkspaceMgr mgr) {
        assertInputSet(false);
        INDArray x = input.castTo(dataType);
        if (!fast(x)) {
            return super.preOutput(training, forBackprop, mgr);
        }
        INDArray bias = hasBias() ? getParamWithNoise(B, training, mgr) : null;
        INDArray w = getParamWithNoise(W, training, mgr);
        long inDepth = w.size(2);
        if (x.size(1) != inDepth) {
            throw new DL4JInvalidInputException("Cannot do forward pass in DepthwiseConvolution2D layer " + layerId()
                    + ": input array channels does not match CNN layer configuration (data format = NCHW, input shape "
                    + Arrays.toString(x.shape()) + "; expected input channels = " + inDepth + ")");
        }
        ConvGeometry g = geometry(x);
        INDArray y = mgr.createUninitialized(ArrayType.ACTIVATIONS, w.dataType(), new long[] {x.size(0),
            inDepth * w.size(3), g.outH(), g.outW()}, 'c');
        DepthwiseKernels.forward(x, w, bias, g, y);
        return new Pair<>(y, null);
    }

    /** {@code DepthwiseConvolution2DLayer.backpropGradient} with {@link DepthwiseKernels#backward}. */
    private Pair<Gradient, INDArray> depthwiseBackprop(INDArray epsilon, LayerWorkspaceMgr mgr) {
        assertInputSet(true);
        INDArray x = input.castTo(dataType);
        if (!fast(x)) {
            return super.backpropGradient(epsilon, mgr);
        }
        INDArray w = getParamWithNoise(W, true, mgr);
        ConvGeometry g = geometry(x);
        INDArray biasGradView = gradientViews.get(B);
        INDArray weightGradView = gradientViews.get(W);
        INDArray outEpsilon = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, w.dataType(), x.shape(), 'c');
        Pair<INDArray, INDArray> p = preOutput4d(true, true, mgr);
        INDArray delta = layerConf().getActivationFn().backprop(p.getFirst(), epsilon).getFirst();
        DepthwiseKernels.backward(x, w, delta, g, outEpsilon, weightGradView, hasBias() ? biasGradView : null);
        Gradient ret = new DefaultGradient();
        if (hasBias()) {
            ret.setGradientFor(B, biasGradView);
        }
        ret.setGradientFor(W, weightGradView, 'c');
        weightNoiseParams.clear();
        return new Pair<>(ret, backpropDropOutIfPresent(outEpsilon));
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        quantizeInput(true, mgr);
        return rt.backprop(epsilon, mgr, gradientViews, e -> depthwiseBackprop(e, mgr));
    }

    @Override
    protected INDArray getParamWithNoise(String param, boolean training, LayerWorkspaceMgr mgr) {
        return rt.param(param, training, weightNoiseParams, () -> super.getParamWithNoise(param, training, mgr));
    }
}
