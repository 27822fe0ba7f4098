package io.qat4j.training.run;

import io.qat4j.layers.nn.QuantParamInitializer;
import org.deeplearning4j.nn.api.Layer;
import io.qat4j.training.model.Network;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The learned quantizer parameters of a network (PACT's alpha, LSQ's steps, QIL's intervals, TTQ's
 * scales) as metric columns: {@code <layer>.<key>} for a single value, {@code <layer>.<key>.mean} for a
 * per-channel parameter, in layer and parameter order.
 */
public final class LearnedParameters {
    private LearnedParameters() {
    }

    /** The current values; empty for a network without learned quantizers. */
    public static Map<String, Double> values(Network net) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Layer l : net.layers()) {
            org.deeplearning4j.nn.conf.layers.Layer conf = l.conf().getLayer();
            for (String key : QuantParamInitializer.learnedKeys(conf)) {
                INDArray v = l.getParam(key);
                if (v.length() == 1) {
                    out.put(conf.getLayerName() + "." + key, v.getDouble(0));
                } else {
                    out.put(conf.getLayerName() + "." + key + ".mean", v.meanNumber().doubleValue());
                }
            }
        }
        return out;
    }

    /** The parameter key of a column ({@code conv1.wstep} and {@code conv1.wstep.mean} give {@code wstep}). */
    static String key(String column) {
        String[] parts = column.split("\\.");
        return parts.length >= 3 && parts[parts.length - 1].equals("mean") ? parts[parts.length - 2]
                : parts[parts.length - 1];
    }

    /** The layer of a column ({@code conv1.wstep} gives {@code conv1}). */
    static String layer(String column) {
        String suffix = "." + key(column) + (column.endsWith(".mean") ? ".mean" : "");
        return column.substring(0, column.length() - suffix.length());
    }
}
