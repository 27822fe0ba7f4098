package io.qat4j.layers.nn.impl;

import io.qat4j.layers.nn.QuantDense;
import io.qat4j.layers.nn.QuantSites;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Implementation of {@link QuantDense}: DL4J's dense computation at the quantized values. */
public class QuantDenseImpl extends BaseLayer<QuantDense> {
    private static final String W = DefaultParamInitializer.WEIGHT_KEY;
    private static final String B = DefaultParamInitializer.BIAS_KEY;

    private final SiteRuntime rt;

    public QuantDenseImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
        this.rt = new SiteRuntime(this, ((QuantDense) conf.getLayer()).getQuantSites(), W, 1, B);
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
    protected INDArray preOutput(boolean training, LayerWorkspaceMgr mgr) {
        quantizeInput(training, mgr);
        if (!layerConf().getQuantSites().accumulation().isFloat()) {
            applyDropOutIfNecessary(training, mgr);
            return AccumulationSupport.preOutput(layerConf().getQuantSites(), input, getParamWithNoise(W, training, mgr),
                    hasBias() ? getParamWithNoise(B, training, mgr) : null, training, mgr);
        }
        return super.preOutput(training, mgr);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        quantizeInput(true, mgr);
        boolean accumulate = layerConf().getQuantSites().accumulateBackward();
        return rt.backprop(epsilon, mgr, gradientViews,
                e -> accumulate ? accumulatedBackprop(e, mgr) : super.backpropGradient(e, mgr));
    }

    /**
     * DL4J's dense backward pass ({@code BaseLayer}) with the three products accumulated in the sites' format: the
     * weight and bias gradients over the minibatch, the error handed back over the output units.
     */
    private Pair<Gradient, INDArray> accumulatedBackprop(INDArray epsilon, LayerWorkspaceMgr mgr) {
        assertInputSet(true);
        QuantSites sites = layerConf().getQuantSites();
        INDArray z = preOutput(true, mgr);
        INDArray delta = layerConf().getActivationFn().backprop(z, epsilon.castTo(z.dataType())).getFirst();
        if (maskArray != null) {
            applyMask(delta);
        }
        Gradient ret = new DefaultGradient();
        if (hasBias()) {
            INDArray biasGrad = gradientViews.get(B);
            biasGrad.assign(AccumulationSupport.columnSums(sites, delta).reshape(biasGrad.shape()));
            ret.gradientForVariable().put(B, biasGrad);
        }
        INDArray w = getParamWithNoise(W, true, mgr);
        INDArray weightGrad = gradientViews.get(W);
        weightGrad.assign(AccumulationSupport.product(sites, input.castTo(delta.dataType()).transpose(), delta, null,
                true));
        ret.gradientForVariable().put(W, weightGrad);
        INDArray epsNext;
        try (MemoryWorkspace ignored = mgr.notifyScopeBorrowed(ArrayType.ACTIVATION_GRAD)) {
            epsNext = AccumulationSupport.product(sites, delta, w.transpose(), null, true);
        }
        weightNoiseParams.clear();
        return new Pair<>(ret, backpropDropOutIfPresent(epsNext));
    }

    @Override
    protected INDArray getParamWithNoise(String param, boolean training, LayerWorkspaceMgr mgr) {
        return rt.param(param, training, weightNoiseParams, () -> super.getParamWithNoise(param, training, mgr));
    }

    @Override
    public boolean hasBias() {
        return layerConf().hasBias();
    }

    @Override
    public boolean isPretrainLayer() {
        return false;
    }

    @Override
    public Layer.Type type() {
        return Layer.Type.FEED_FORWARD;
    }
}
