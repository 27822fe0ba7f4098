package io.qat4j.layers.nn;

import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Implemented by every quantized layer configuration: its sites, the channel counts that size the
 * observer state of per-channel specs, and the two things that differ between layer kinds (the float
 * twin's parameters and the implementation class). Everything else a DL4J layer configuration must
 * override is written once in {@link QuantLayerSupport}; each configuration's overrides are one-line
 * calls to it:
 * <pre>
 * public Layer instantiate(...)              { return QuantLayerSupport.instantiate(this, ...); }
 * public ParamInitializer initializer()      { return QuantLayerSupport.initializer(this); }
 * public IUpdater getUpdaterByParam(p)       { return QuantLayerSupport.updaterFor(this, p, super.getUpdaterByParam(p)); }
 * public List&lt;Regularization&gt; getRegularizationByParam(p) { return QuantLayerSupport.regularizationFor(this, p, super...); }
 * </pre>
 * {@code QuantLayerContractTest} runs every implementation through the same checks.
 */
public interface QuantLayer {

    /** The specs of the input, weight, bias and output sites. */
    QuantSites getQuantSites();

    /** Replaces the sites (validated by the layer: not every spec suits every layer). */
    void setQuantSites(QuantSites sites);

    /** DL4J's nIn (the configurations' own getter). */
    long getNIn();

    /** DL4J's nOut (the configurations' own getter). */
    long getNOut();

    /** The parameters of the float twin; {@link QuantParamInitializer} appends the quantizers' own. */
    ParamInitializer floatInitializer();

    /** A new implementation of this layer (DL4J's {@code instantiate} wires it). */
    org.deeplearning4j.nn.api.Layer newImpl(NeuralNetConfiguration conf, DataType dataType);

    /** Channels of the layer's input (axis 1 of its input activations). */
    default long inputChannels() {
        return getNIn();
    }

    /** Channels of the layer's output (axis 1 of its output activations). */
    default long outputChannels() {
        return getNOut();
    }

    /** Size of the weights' output-channel axis, which per-channel weight specs have one value for. */
    default long weightChannels() {
        return getNOut();
    }
}
