package io.qat4j.layers.nn.impl;

import io.qat4j.layers.nn.QuantSeparableConv2D;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.SeparableConvolution2DLayer;
import org.deeplearning4j.nn.params.SeparableConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Implementation of {@link QuantSeparableConv2D}: DL4J's separable convolution at the quantized values. */
public class QuantSeparableConv2DImpl extends SeparableConvolution2DLayer {
    private static final String W = SeparableConvolutionParamInitializer.DEPTH_WISE_WEIGHT_KEY;
    private static final String PW = SeparableConvolutionParamInitializer.POINT_WISE_WEIGHT_KEY;
    private static final String B = SeparableConvolutionParamInitializer.BIAS_KEY;

    private final SiteRuntime rt;

    public QuantSeparableConv2DImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
        QuantSeparableConv2D c = (QuantSeparableConv2D) conf.getLayer();
        this.rt = new SiteRuntime(this, c.getQuantSites(), W, QuantSeparableConv2D.DEPTHWISE_CHANNEL_AXIS, B)
                .withWeight(PW, c.pointwiseSpec(), 0);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
        assertInputSet(false);
        input = rt.inputForCompute(input, training, mgr);
        return rt.quantizeOutput(super.activate(training, mgr), training, mgr);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        input = rt.inputForCompute(input, true, mgr);
        return rt.backprop(epsilon, mgr, gradientViews, e -> super.backpropGradient(e, mgr));
    }

    @Override
    protected INDArray getParamWithNoise(String param, boolean training, LayerWorkspaceMgr mgr) {
        return rt.param(param, training, weightNoiseParams, () -> super.getParamWithNoise(param, training, mgr));
    }
}
