package io.qat4j.layers.nn;

import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parameters of a layer with folded batch normalization: those of the linear layer (W, optional
 * b) followed by the normalization's, named as in DL4J's {@code BatchNormalization}: {@code gamma}
 * (initialized to 1), {@code beta} (0), running {@code mean} (0) and running {@code var} (1), each
 * {@code [1, nOut]}.
 *
 * <p>The running statistics are state, not trained: the layer configurations give them a no-op
 * updater and no regularization, their gradients stay zero, and the layer updates them itself during
 * training (see {@link FusedBatchNorm}).
 */
public final class FusedBnParamInitializer implements ParamInitializer {
    /** Scale γ. */
    public static final String GAMMA = BatchNormalizationParamInitializer.GAMMA;
    /** Shift β. */
    public static final String BETA = BatchNormalizationParamInitializer.BETA;
    /** Running mean μ. */
    public static final String MEAN = BatchNormalizationParamInitializer.GLOBAL_MEAN;
    /** Running variance σ² (not DL4J's log10 of the standard deviation). */
    public static final String VAR = BatchNormalizationParamInitializer.GLOBAL_VAR;

    private static final List<String> BN_KEYS = List.of(GAMMA, BETA, MEAN, VAR);
    private static final double[] INIT = {1, 0, 0, 1};

    private final ParamInitializer base;

    public FusedBnParamInitializer(ParamInitializer base) {
        this.base = base;
    }

    /** Whether a key is running statistics (state with a no-op updater). */
    public static boolean isStatisticsKey(String key) {
        return MEAN.equals(key) || VAR.equals(key);
    }

    private static long channels(Layer l) {
        return ((FeedForwardLayer) l).getNOut();
    }

    @Override
    public long numParams(NeuralNetConfiguration conf) {
        return numParams(conf.getLayer());
    }

    @Override
    public long numParams(Layer layer) {
        return base.numParams(layer) + BN_KEYS.size() * channels(layer);
    }

    @Override
    public List<String> paramKeys(Layer layer) {
        List<String> keys = new ArrayList<>(base.paramKeys(layer));
        keys.addAll(BN_KEYS);
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
        return !BN_KEYS.contains(key) && base.isWeightParam(layer, key);
    }

    @Override
    public boolean isBiasParam(Layer layer, String key) {
        return !BN_KEYS.contains(key) && base.isBiasParam(layer, key);
    }

    @Override
    public Map<String, INDArray> init(NeuralNetConfiguration conf, INDArray paramsView, boolean initializeParams) {
        Layer l = conf.getLayer();
        INDArray flat = paramsView.reshape(paramsView.length());
        long nb = base.numParams(l);
        Map<String, INDArray> out = new LinkedHashMap<>(base.init(conf, flat.get(NDArrayIndex.interval(0, nb)),
                initializeParams));
        long n = channels(l);
        for (int k = 0; k < BN_KEYS.size(); k++) {
            long from = nb + k * n;
            INDArray v = flat.get(NDArrayIndex.interval(from, from + n)).reshape(1, n);
            if (initializeParams) {
                v.assign(INIT[k]);
            }
            out.put(BN_KEYS.get(k), v);
            conf.addVariable(BN_KEYS.get(k));
        }
        return out;
    }

    @Override
    public Map<String, INDArray> getGradientsFromFlattened(NeuralNetConfiguration conf, INDArray gradientView) {
        Layer l = conf.getLayer();
        INDArray flat = gradientView.reshape(gradientView.length());
        long nb = base.numParams(l);
        Map<String, INDArray> out = new LinkedHashMap<>(base.getGradientsFromFlattened(conf,
                flat.get(NDArrayIndex.interval(0, nb))));
        long n = channels(l);
        for (int k = 0; k < BN_KEYS.size(); k++) {
            long from = nb + k * n;
            out.put(BN_KEYS.get(k), flat.get(NDArrayIndex.interval(from, from + n)).reshape(1, n));
        }
        return out;
    }
}
