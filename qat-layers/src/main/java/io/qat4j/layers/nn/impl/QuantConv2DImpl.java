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
        Pair<Gradient, INDArray> p = super.backpropGradient(rt.outputGradient(epsilon), mgr);
        rt.paramGradient(W, true, gradientViews.get(W));
        rt.paramGradient(B, false, gradientViews.get(B));
        rt.clearParams();
        return new Pair<>(p.getFirst(), rt.inputGradient(p.getSecond(), mgr));
    }

    @Override
    protected INDArray getParamWithNoise(String param, boolean training, LayerWorkspaceMgr mgr) {
        if (!rt.quantizes(param, W, B)) {
            return super.getParamWithNoise(param, training, mgr);
        }
        if (training && weightNoiseParams.containsKey(param)) {
            return weightNoiseParams.get(param);
        }
        INDArray q = rt.quantizeParam(param, W.equals(param), getParam(param), WEIGHT_CHANNEL_AXIS, training, index,
                getIterationCount());
        if (training) {
            weightNoiseParams.put(param, q);
        }
        return q;
    }
}
