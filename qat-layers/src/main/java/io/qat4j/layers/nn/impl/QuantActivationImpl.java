package io.qat4j.layers.nn.impl;

import io.qat4j.layers.nn.QuantActivation;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Implementation of {@link QuantActivation}: activation function, then the output site. */
public class QuantActivationImpl extends BaseLayer<QuantActivation> {
    private final SiteRuntime rt;

    public QuantActivationImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
        this.rt = new SiteRuntime(this, ((QuantActivation) conf.getLayer()).getQuantSites());
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
        assertInputSet(false);
        applyDropOutIfNecessary(training, mgr);
        INDArray z = mgr.dup(ArrayType.ACTIVATIONS, input, input.ordering());
        INDArray y = layerConf().getActivationFn().getActivation(z, training);
        return rt.quantizeOutput(y, training, mgr);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        assertInputSet(true);
        INDArray eps = rt.outputGradient(epsilon, mgr);
        INDArray z = mgr.dup(ArrayType.ACTIVATION_GRAD, input, input.ordering());
        INDArray delta = layerConf().getActivationFn().backprop(z, eps).getFirst();
        delta = mgr.leverageTo(ArrayType.ACTIVATION_GRAD, delta);
        Gradient g = rt.withLearnedGradients(new DefaultGradient(), gradientViews);
        return new Pair<>(g, backpropDropOutIfPresent(delta));
    }

    @Override
    public boolean isPretrainLayer() {
        return false;
    }

    @Override
    public boolean hasBias() {
        return false;
    }

    @Override
    public Type type() {
        return Type.FEED_FORWARD;
    }
}
