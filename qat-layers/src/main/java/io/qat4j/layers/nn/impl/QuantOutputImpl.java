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
        this.rt = new SiteRuntime(((QuantOutput) conf.getLayer()).getQuantSites());
    }

    @Override
    protected INDArray preOutput(boolean training, LayerWorkspaceMgr mgr) {
        input = rt.inputForCompute(input, params, training, index, getIterationCount(), mgr);
        return super.preOutput(training, mgr);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        input = rt.inputForCompute(input, params, true, index, getIterationCount(), mgr);
        Pair<Gradient, INDArray> p = super.backpropGradient(epsilon, mgr);
        rt.paramGradient(W, true, gradientViews.get(W));
        rt.paramGradient(B, false, gradientViews.get(B));
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
        INDArray q = rt.quantizeParam(param, W.equals(param), getParam(param), 1, training, index, getIterationCount());
        if (training) {
            weightNoiseParams.put(param, q);
        }
        return q;
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
