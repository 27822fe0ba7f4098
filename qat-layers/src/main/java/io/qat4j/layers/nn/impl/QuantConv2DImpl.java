package io.qat4j.layers.nn.impl;

import io.qat4j.layers.nn.QuantConv2D;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Implementation of {@link QuantConv2D}: DL4J's convolution at the quantized values. */
public class QuantConv2DImpl extends ConvolutionLayer {
    private static final String W = ConvolutionParamInitializer.WEIGHT_KEY;
    private static final String B = ConvolutionParamInitializer.BIAS_KEY;
    /** Output-channel axis of conv weights {@code [nOut, nIn, kH, kW]}. */
    static final int WEIGHT_CHANNEL_AXIS = 0;

    private final SiteRuntime rt;

    public QuantConv2DImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
        this.rt = new SiteRuntime(((QuantConv2D) conf.getLayer()).getQuantSites());
    }

    private void quantizeInput(boolean training, LayerWorkspaceMgr mgr) {
        input = rt.inputForCompute(input, params, training, index, getIterationCount(), mgr);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
        assertInputSet(false);
        quantizeInput(training, mgr);
        INDArray y = super.activate(training, mgr);
        return rt.quantizeOutput(y, params, training, index, getIterationCount(), mgr);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        quantizeInput(true, mgr);
        return rt.backprop(epsilon, mgr, gradientViews, W, B, e -> super.backpropGradient(e, mgr));
    }

    @Override
    protected INDArray getParamWithNoise(String param, boolean training, LayerWorkspaceMgr mgr) {
        return rt.param(param, W, B, getParam(param), WEIGHT_CHANNEL_AXIS, training, weightNoiseParams, index, getIterationCount(),
                params, () -> super.getParamWithNoise(param, training, mgr));
    }
}
