package io.qat4j.layers.nn;

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
 * The parameters of a {@link DeviationBatchNorm} with C channels, each a vector of length C, in this
 * order in the layer's flat parameter view:
 * <ul>
 *   <li>{@code gamma} — scale γ, initialized to the configuration's γ (default 1); trained;</li>
 *   <li>{@code beta} — shift β, initialized to the configuration's β (default 0); trained;</li>
 *   <li>{@code mean} — running mean μ, initialized to 0; no-op updater;</li>
 *   <li>{@code std} — running deviation estimate σ̂ (the denominator of the normalization before ε is added,
 *       stored as is: not a variance, not a logarithm), initialized to 1; no-op updater.</li>
 * </ul>
 * With {@code lockGammaBeta} there are no {@code gamma} and {@code beta} parameters. Inference
 * computes {@code y = γ (x − mean) / (std + ε) + β}.
 */
public final class DeviationBatchNormParamInitializer implements ParamInitializer {
    public static final String GAMMA = "gamma";
    public static final String BETA = "beta";
    public static final String MEAN = "mean";
    public static final String STD = "std";
    /** All keys, in parameter order. */
    public static final List<String> KEYS = List.of(GAMMA, BETA, MEAN, STD);

    private static final DeviationBatchNormParamInitializer INSTANCE = new DeviationBatchNormParamInitializer();

    private DeviationBatchNormParamInitializer() {
    }

    public static DeviationBatchNormParamInitializer getInstance() {
        return INSTANCE;
    }

    private static DeviationBatchNorm conf(Layer layer) {
        if (!(layer instanceof DeviationBatchNorm d)) {
            throw new IllegalArgumentException("expected a DeviationBatchNorm configuration, got "
                    + (layer == null ? "null" : layer.getClass().getName()));
        }
        return d;
    }

    @Override
    public long numParams(NeuralNetConfiguration conf) {
        return numParams(conf.getLayer());
    }

    @Override
    public long numParams(Layer layer) {
        DeviationBatchNorm d = conf(layer);
        return (d.isLockGammaBeta() ? 2 : 4) * d.getNOut();
    }

    @Override
    public List<String> paramKeys(Layer layer) {
        return conf(layer).isLockGammaBeta() ? List.of(MEAN, STD) : KEYS;
    }

    @Override
    public List<String> weightKeys(Layer layer) {
        return Collections.emptyList();
    }

    @Override
    public List<String> biasKeys(Layer layer) {
        return Collections.emptyList();
    }

    @Override
    public boolean isWeightParam(Layer layer, String key) {
        return false;
    }

    @Override
    public boolean isBiasParam(Layer layer, String key) {
        return false;
    }

    @Override
    public Map<String, INDArray> init(NeuralNetConfiguration conf, INDArray paramsView, boolean initializeParams) {
        DeviationBatchNorm d = conf(conf.getLayer());
        Map<String, INDArray> views = split(d, paramsView);
        if (initializeParams) {
            if (!d.isLockGammaBeta()) {
                views.get(GAMMA).assign(d.getGamma());
                views.get(BETA).assign(d.getBeta());
            }
            views.get(MEAN).assign(0);
            views.get(STD).assign(1);
        }
        for (String k : views.keySet()) {
            conf.addVariable(k);
        }
        return Collections.synchronizedMap(views);
    }

    @Override
    public Map<String, INDArray> getGradientsFromFlattened(NeuralNetConfiguration conf, INDArray gradientView) {
        return split(conf(conf.getLayer()), gradientView);
    }

    /** Consecutive length-C views of {@code flat}, one per key. */
    private Map<String, INDArray> split(DeviationBatchNorm d, INDArray flat) {
        long c = d.getNOut();
        List<String> keys = new ArrayList<>(paramKeys(d));
        if (flat.length() != keys.size() * c) {
            throw new IllegalArgumentException("DeviationBatchNorm " + d.getLayerName() + " expects " + keys.size() * c
                    + " parameters (" + keys + " for " + c + " channels), got a view of length " + flat.length());
        }
        INDArray v = flat.reshape(flat.length());
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            out.put(keys.get(i), v.get(NDArrayIndex.interval(i * c, (i + 1) * c)));
        }
        return out;
    }
}
