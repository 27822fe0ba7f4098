package io.qat4j.layers.nn;

import io.qat4j.layers.observe.Observer;
import io.qat4j.layers.observe.Observers;
import io.qat4j.layers.quant.Granularity;
import io.qat4j.layers.quant.QuantSpec;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parameters of a quantized layer: those of its float twin (weights, bias, ...) followed by the
 * observer state of its activation sites, {@code qin} (input) and {@code qout} (output).
 *
 * <p>Observer state (running ranges, update counts) is held as parameters so that it is saved in
 * model zips and checkpoints; the layer configurations give these parameters a no-op updater and
 * no regularization, and their gradients stay zero. A site without an observer has no state.
 */
public final class QuantParamInitializer implements ParamInitializer {
    /** Observer state of the input site. */
    public static final String INPUT_STATE_KEY = "qin";
    /** Observer state of the output site. */
    public static final String OUTPUT_STATE_KEY = "qout";

    private final ParamInitializer base;

    public QuantParamInitializer(ParamInitializer base) {
        this.base = base;
    }

    /** Whether a parameter key is observer state (not trained). */
    public static boolean isStateKey(String key) {
        return INPUT_STATE_KEY.equals(key) || OUTPUT_STATE_KEY.equals(key);
    }

    /** Observer state length of an activation site with {@code channels} channels; 0 without observer. */
    public static long stateSize(QuantSpec spec, long channels) {
        if (spec.isFloat() || !spec.needsObserver()) {
            return 0;
        }
        Observer o = Observers.of(spec.observer());
        return o.stateSize((int) (spec.granularity() == Granularity.TENSOR ? 1 : channels));
    }

    private static long inSize(Layer l) {
        QuantLayer q = (QuantLayer) l;
        return stateSize(q.getQuantSites().input(), q.inputChannels());
    }

    private static long outSize(Layer l) {
        QuantLayer q = (QuantLayer) l;
        return stateSize(q.getQuantSites().output(), q.outputChannels());
    }

    @Override
    public long numParams(NeuralNetConfiguration conf) {
        return numParams(conf.getLayer());
    }

    @Override
    public long numParams(Layer layer) {
        return base.numParams(layer) + inSize(layer) + outSize(layer);
    }

    @Override
    public List<String> paramKeys(Layer layer) {
        List<String> keys = new ArrayList<>(base.paramKeys(layer));
        if (inSize(layer) > 0) {
            keys.add(INPUT_STATE_KEY);
        }
        if (outSize(layer) > 0) {
            keys.add(OUTPUT_STATE_KEY);
        }
        return keys;
    }

    @Override
    public List<String> weightKeys(Layer layer) {
        return base.weightKeys(layer);
    }

    @Override
    public List<String> biasKeys(Layer layer) {
        return base.biasKeys(layer);
    }

    @Override
    public boolean isWeightParam(Layer layer, String key) {
        return !isStateKey(key) && base.isWeightParam(layer, key);
    }

    @Override
    public boolean isBiasParam(Layer layer, String key) {
        return !isStateKey(key) && base.isBiasParam(layer, key);
    }

    @Override
    public Map<String, INDArray> init(NeuralNetConfiguration conf, INDArray paramsView, boolean initializeParams) {
        Layer l = conf.getLayer();
        if (paramsView == null || paramsView.length() == 0) {
            return Collections.synchronizedMap(new LinkedHashMap<>(base.init(conf, paramsView, initializeParams)));
        }
        INDArray flat = paramsView.reshape(paramsView.length());
        long nb = base.numParams(l);
        Map<String, INDArray> out = new LinkedHashMap<>(
                base.init(conf, nb == flat.length() ? flat : flat.get(NDArrayIndex.interval(0, nb)), initializeParams));
        long offset = nb;
        long in = inSize(l);
        if (in > 0) {
            INDArray v = flat.get(NDArrayIndex.interval(offset, offset + in));
            if (initializeParams) {
                v.assign(0);
            }
            out.put(INPUT_STATE_KEY, v);
            conf.addVariable(INPUT_STATE_KEY);
            offset += in;
        }
        long outS = outSize(l);
        if (outS > 0) {
            INDArray v = flat.get(NDArrayIndex.interval(offset, offset + outS));
            if (initializeParams) {
                v.assign(0);
            }
            out.put(OUTPUT_STATE_KEY, v);
            conf.addVariable(OUTPUT_STATE_KEY);
        }
        return Collections.synchronizedMap(out);
    }

    @Override
    public Map<String, INDArray> getGradientsFromFlattened(NeuralNetConfiguration conf, INDArray gradientView) {
        Layer l = conf.getLayer();
        if (gradientView == null || gradientView.length() == 0) {
            return new LinkedHashMap<>(base.getGradientsFromFlattened(conf, gradientView));
        }
        INDArray flat = gradientView.reshape(gradientView.length());
        long nb = base.numParams(l);
        Map<String, INDArray> out = new LinkedHashMap<>(base.getGradientsFromFlattened(conf,
                nb == flat.length() ? flat : flat.get(NDArrayIndex.interval(0, nb))));
        long offset = nb;
        long in = inSize(l);
        if (in > 0) {
            out.put(INPUT_STATE_KEY, flat.get(NDArrayIndex.interval(offset, offset + in)));
            offset += in;
        }
        long outS = outSize(l);
        if (outS > 0) {
            out.put(OUTPUT_STATE_KEY, flat.get(NDArrayIndex.interval(offset, offset + outS)));
        }
        return out;
    }
}
