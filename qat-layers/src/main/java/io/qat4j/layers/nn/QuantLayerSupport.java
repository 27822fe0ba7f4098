package io.qat4j.layers.nn;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;

import java.util.Collection;
import java.util.Map;

/** What every quantized layer configuration does the same way: instantiation and state parameters. */
final class QuantLayerSupport {
    private QuantLayerSupport() {
    }

    /** Wires an implementation to its configuration and parameters (DL4J's usual instantiate steps). */
    static <L extends Layer> L wire(L impl, NeuralNetConfiguration conf, ParamInitializer initializer,
                                    Collection<TrainingListener> listeners, int layerIndex, INDArray paramsView,
                                    boolean initializeParams) {
        impl.setListeners(listeners);
        impl.setIndex(layerIndex);
        impl.setParamsViewArray(paramsView);
        Map<String, INDArray> paramTable = initializer.init(conf, paramsView, initializeParams);
        impl.setParamTable(paramTable);
        impl.setConf(conf);
        return impl;
    }

    /** Observer state is never trained: it gets a no-op updater. */
    static IUpdater updaterFor(String param, IUpdater normal) {
        return QuantParamInitializer.isStateKey(param) ? new NoOp() : normal;
    }

    static void requireSites(QuantSites sites, String layer) {
        if (sites == null) {
            throw new IllegalArgumentException(layer + ": quantization sites must not be null (use QuantSites.none())");
        }
    }
}
