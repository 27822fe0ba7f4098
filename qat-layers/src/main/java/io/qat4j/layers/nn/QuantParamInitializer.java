package io.qat4j.layers.nn;

import io.qat4j.layers.observe.Observer;
import io.qat4j.layers.observe.Observers;
import io.qat4j.layers.quant.Granularity;
import io.qat4j.layers.quant.LearnedQuantizer;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizers;
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
 * The parameters of a quantized layer: those of its float twin (weights, bias, ...), then the
 * observer state of its activation sites, {@code qin} (input) and {@code qout} (output), then the
 * trained parameters of its learned quantizers.
 *
 * <p>Observer state (running ranges, update counts) is held as parameters so that it is saved in
 * model zips and checkpoints; the layer configurations give these parameters a no-op updater and
 * no regularization, and their gradients stay zero. A site without an observer has no state.
 *
 * <p>Learned quantizer parameters (PACT's alpha, LSQ's step, QIL's interval, TTQ's scales) are
 * ordinary trained parameters, like PReLU's slopes in DL4J: the layer's updater trains them (its
 * learning rate times the spec's {@code lr_scale}), the layer's backward pass writes their gradients,
 * summed over the minibatch, into their gradient views, and they are saved and restored with the
 * model. They take no weight decay (PACT's alpha has its own {@code l2}). Their keys are the site's
 * prefix and the quantizer's name for them: input {@code i}, weights {@code w}, output {@code a}, the
 * prefix left out when the name already starts with it:
 * <pre>
 *   pact  output alpha            input ialpha
 *   lsq   weights wstep           output astep        input istep
 *   qil   weights wc, wd, wgamma  output ac, ad       input ic, id
 *   ttq   weights wp, wn
 * </pre>
 * Their values are in the input, weights, output order of the sites, after {@code qin}/{@code qout}.
 */
public final class QuantParamInitializer implements ParamInitializer {
    /** Observer state of the input site. */
    public static final String INPUT_STATE_KEY = "qin";
    /** Observer state of the output site. */
    public static final String OUTPUT_STATE_KEY = "qout";

    /**
     * One learned parameter of a layer.
     *
     * @param key     the parameter key in the layer, e.g. {@code wstep}
     * @param site    the site whose quantizer it belongs to
     * @param name    the quantizer's name for it, e.g. {@code step}
     * @param size    number of values
     * @param initial value it starts with (0: set from the first batch, where the quantizer says so)
     * @param spec    the site's spec
     */
    public record LearnedParam(String key, QuantSites.Site site, String name, long size, double initial,
                               QuantSpec spec) {
    }

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

    /** The key of a learned parameter: the site's prefix ({@code i}, {@code w}, {@code a}) and the name. */
    public static String learnedKey(QuantSites.Site site, String name) {
        String prefix = switch (site) {
            case INPUT -> "i";
            case WEIGHTS -> "w";
            case OUTPUT -> "a";
            case BIAS -> throw new IllegalArgumentException("learned quantizers do not apply to the bias site");
        };
        return name.startsWith(prefix) ? name : prefix + name;
    }

    /** The learner's role of a site: weights for the weight site, activations for input and output. */
    public static LearnedQuantizer.Role role(QuantSites.Site site) {
        return site == QuantSites.Site.WEIGHTS ? LearnedQuantizer.Role.WEIGHTS : LearnedQuantizer.Role.ACTIVATIONS;
    }

    /** The learned parameters of a layer configuration, in order (none for layers that are not quantized). */
    public static List<LearnedParam> learnedParams(Layer layer) {
        if (!(layer instanceof QuantLayer q)) {
            return List.of();
        }
        List<LearnedParam> out = new ArrayList<>();
        QuantSites sites = q.getQuantSites();
        for (QuantSites.Site site : new QuantSites.Site[] {QuantSites.Site.INPUT, QuantSites.Site.WEIGHTS,
                QuantSites.Site.OUTPUT}) {
            QuantSpec spec = sites.spec(site);
            if (!spec.isLearned()) {
                continue;
            }
            long channels = switch (site) {
                case INPUT -> q.inputChannels();
                case OUTPUT -> q.outputChannels();
                default -> q.weightChannels();
            };
            LearnedQuantizer lq = Quantizers.learned(spec);
            for (LearnedQuantizer.Param p : lq.params(role(site), channels)) {
                out.add(new LearnedParam(learnedKey(site, p.name()), site, p.name(), p.size(), p.initial(), spec));
            }
        }
        return out;
    }

    /** The keys of a layer's learned parameters, in order. */
    public static List<String> learnedKeys(Layer layer) {
        return learnedParams(layer).stream().map(LearnedParam::key).toList();
    }

    /** The spec of the learned quantizer a parameter key belongs to, or null if it is no learned parameter. */
    public static QuantSpec learnedSpec(Layer layer, String key) {
        if (!(layer instanceof QuantLayer q) || key == null) {
            return null;
        }
        QuantSites s = q.getQuantSites();
        if (!s.input().isLearned() && !s.weights().isLearned() && !s.output().isLearned()) {
            return null;
        }
        for (LearnedParam p : learnedParams(layer)) {
            if (p.key().equals(key)) {
                return p.spec();
            }
        }
        return null;
    }

    private static long inSize(Layer l) {
        QuantLayer q = (QuantLayer) l;
        return stateSize(q.getQuantSites().input(), q.inputChannels());
    }

    private static long outSize(Layer l) {
        QuantLayer q = (QuantLayer) l;
        return stateSize(q.getQuantSites().output(), q.outputChannels());
    }

    private static long learnedSize(Layer l) {
        long n = 0;
        for (LearnedParam p : learnedParams(l)) {
            n += p.size();
        }
        return n;
    }

    @Override
    public long numParams(NeuralNetConfiguration conf) {
        return numParams(conf.getLayer());
    }

    @Override
    public long numParams(Layer layer) {
        return base.numParams(layer) + inSize(layer) + outSize(layer) + learnedSize(layer);
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
        keys.addAll(learnedKeys(layer));
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
        return !isStateKey(key) && learnedSpec(layer, key) == null && base.isWeightParam(layer, key);
    }

    @Override
    public boolean isBiasParam(Layer layer, String key) {
        return !isStateKey(key) && learnedSpec(layer, key) == null && base.isBiasParam(layer, key);
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
            offset += outS;
        }
        for (LearnedParam p : learnedParams(l)) {
            INDArray v = flat.get(NDArrayIndex.interval(offset, offset + p.size()));
            if (initializeParams) {
                v.assign(p.initial());
            }
            out.put(p.key(), v);
            conf.addVariable(p.key());
            offset += p.size();
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
            offset += outS;
        }
        for (LearnedParam p : learnedParams(l)) {
            out.put(p.key(), flat.get(NDArrayIndex.interval(offset, offset + p.size())));
            offset += p.size();
        }
        return out;
    }
}
