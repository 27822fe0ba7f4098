package io.qat4j.layers.nn.impl;

import io.qat4j.layers.nn.QuantDepthwiseConv2D;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.DepthwiseConvolution2DLayer;
import org.deeplearning4j.nn.params.DepthwiseConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Implementation of {@link QuantDepthwiseConv2D}: DL4J's depth-wise convolution at the quantized values. */
public class QuantDepthwiseConv2DImpl extends DepthwiseConvolution2DLayer {
    private static final String W = DepthwiseConvolutionParamInitializer.WEIGHT_KEY;
    private static final String B = DepthwiseConvolutionParamInitializer.BIAS_KEY;
    /** Channel axis of depth-wise weights {@code [kH, kW, nIn, multiplier]}. */
    static final int WEIGHT_CHANNEL_AXIS = QuantDepthwiseConv2D.WEIGHT_CHANNEL_AXIS;

    private final SiteRuntime rt;

    public QuantDepthwiseConv2DImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
        this.rt = new SiteRuntime(this, ((QuantDepthwiseConv2D) conf.getLayer()).getQuantSites(), W, WEIGHT_CHANNEL_AXIS,
                B);
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

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        quantizeInput(true, mgr);
        return rt.backprop(epsilon, mgr, gradientViews, e -> super.backpropGradient(e, mgr));
    }

    @Override
    protected INDArray getParamWithNoise(String param, boolean training, LayerWorkspaceMgr mgr) {
        return rt.param(param, training, weightNoiseParams, () -> super.getParamWithNoise(param, training, mgr));
    }
}
