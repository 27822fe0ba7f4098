package io.qat4j.layers.nn.impl;

import io.qat4j.layers.nn.QuantOutput;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.BaseOutputLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Implementation of {@link QuantOutput}. DL4J reaches an output layer's input through
 * {@code activate}, {@code computeScore} and {@code backpropGradient}; all go through
 * {@code preOutput}, where the input is quantized (once per new input).
 */
public class QuantOutputImpl extends BaseOutputLayer<QuantOutput> {
    private static final String W = DefaultParamInitializer.WEIGHT_KEY;
    private static final String B = DefaultParamInitializer.BIAS_KEY;

    private final SiteRuntime rt;

    public QuantOutputImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
        this.rt = new SiteRuntime(this, ((QuantOutput) conf.getLayer()).getQuantSites(), W, 1, B);
    }

    @Override
    protected INDArray preOutput(boolean training, LayerWorkspaceMgr mgr) {
        input = rt.inputForCompute(input, training, mgr);
        if (!layerConf().getQuantSites().accumulation().isFloat()) {
            applyDropOutIfNecessary(training, mgr);
            return AccumulationSupport.preOutput(layerConf().getQuantSites(), input, getParamWithNoise(W, training, mgr),
                    hasBias() ? getParamWithNoise(B, training, mgr) : null, training, mgr);
        }
        return super.preOutput(training, mgr);
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

    @Override
    public void clearNoiseWeightParams() {
        super.clearNoiseWeightParams();
        rt.clearParams();
    }

    @Override
    protected INDArray getLabels2d(LayerWorkspaceMgr workspaceMgr, ArrayType arrayType) {
        return labels;
    }
}
