package io.qat4j.layers.nn;

import io.qat4j.layers.nn.impl.QuantOutputImpl;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Output layer with quantized input, weights and bias: the quantized twin of DL4J's
 * {@code OutputLayer}. The output site must stay {@code float}: the loss is computed on the
 * float pre-activations, as in every QAT scheme (quantizing class scores would only hide the loss).
 *
 * <p>Forward: {@code p = softmax(Q_in(x) · Q_w(W) + Q_b(b))}; backward: DL4J's output-layer
 * gradients at the quantized values, passed through the sites' estimators.
 *
 * <pre>
 * new QuantOutput.Builder(LossFunctions.LossFunction.MCXENT).nOut(10).weightQuant("int8").build()
 * </pre>
 */
public class QuantOutput extends BaseOutputLayer implements QuantLayer {
    private static final long serialVersionUID = 1L;

    private QuantSites quantSites = QuantSites.none();

    /** For JSON deserialization. */
    public QuantOutput() {
    }

    private QuantOutput(Builder b) {
        super(b);
        setQuantSites(b.sites);
        initializeConstraints(b);
    }

    @Override
    public QuantSites getQuantSites() {
        return quantSites;
    }

    @Override
    public void setQuantSites(QuantSites quantSites) {
        QuantLayerSupport.requireSites(quantSites, "QuantOutput");
        if (!quantSites.output().isFloat()) {
            throw new IllegalArgumentException("QuantOutput " + getLayerName() + ": the output site must be float (the loss "
                    + "needs float class scores), got '" + quantSites.output() + "'; quantize input, weights or bias instead");
        }
        this.quantSites = quantSites;
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
                             INDArray paramsView, boolean initializeParams, DataType dataType) {
        return QuantLayerSupport.instantiate(this, conf, listeners, layerIndex, paramsView, initializeParams, dataType);
    }

    @Override
    public ParamInitializer initializer() {
        return QuantLayerSupport.initializer(this);
    }

    @Override
    public ParamInitializer floatInitializer() {
        return DefaultParamInitializer.getInstance();
    }

    @Override
    public Layer newImpl(NeuralNetConfiguration conf, DataType dataType) {
        return new QuantOutputImpl(conf, dataType);
    }

    @Override
    public IUpdater getUpdaterByParam(String paramName) {
        return QuantLayerSupport.updaterFor(this, paramName, super.getUpdaterByParam(paramName));
    }

    @Override
    public List<Regularization> getRegularizationByParam(String paramName) {
        return QuantLayerSupport.regularizationFor(this, paramName, super.getRegularizationByParam(paramName));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantOutput q && super.equals(o) && quantSites.equals(q.quantSites);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), quantSites);
    }

    @Override
    public String toString() {
        return QuantLayerSupport.describe(this, null);
    }

    /** Builder in DL4J style (softmax by default); see {@link QuantSitesBuilder} for the quantization setters. */
    public static class Builder extends BaseOutputLayer.Builder<Builder> implements QuantSitesBuilder<Builder> {
        private QuantSites sites = QuantSites.none();

        public Builder() {
            setActivationFn(new ActivationSoftmax());
        }

        public Builder(LossFunctions.LossFunction loss) {
            super.lossFunction(loss);
            setActivationFn(new ActivationSoftmax());
        }

        public Builder(ILossFunction loss) {
            this.lossFn = loss;
            setActivationFn(new ActivationSoftmax());
        }

        @Override
        public QuantSites currentSites() {
            return sites;
        }

        @Override
        public Builder quant(QuantSites sites) {
            this.sites = QuantLayerSupport.requireSites(sites, "QuantOutput");
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public QuantOutput build() {
            return new QuantOutput(this);
        }
    }
}
