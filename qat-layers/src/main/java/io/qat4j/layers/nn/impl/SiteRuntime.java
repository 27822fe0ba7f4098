package io.qat4j.layers.nn.impl;

import io.qat4j.layers.nn.QuantParamInitializer;
import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.train.ErrorSite;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The quantization work shared by every quantized layer implementation: fake-quantizing the input,
 * the parameters and the output in the forward pass, remembering what the backward pass needs, and
 * passing gradients back through the sites' estimators. One runtime belongs to one layer
 * implementation ({@code owner}), whose index, iteration count and parameter table it reads.
 *
 * <p>Activation sites compute in the workspace DL4J expects their result in (INPUT, ACTIVATIONS,
 * ACTIVATION_GRAD) when it is open, and outside workspaces otherwise ({@link ActivationSite#scope});
 * quantized parameters are computed outside workspaces, since they are cached across both passes.
 * A float site costs nothing: its input is returned as is.
 *
 * <p>Sites with a learned quantizer read its parameters from the layer's parameter table (keys as
 * in {@link QuantParamInitializer}), let it initialize them from the first batch when it asks to, and
 * in the backward pass collect the gradients of those parameters, which
 * {@link #withLearnedGradients} writes into the layer's gradient views.
 */
final class SiteRuntime {
    private static final int INPUT_SLOT = 1;
    private static final int OUTPUT_SLOT = 2;

    private final Layer owner;
    private final QuantSites sites;
    private final ActivationSite input;
    private final ActivationSite output;
    private final ParamSites params = new ParamSites();
    private final LearnedSite weightLearned;
    private final ErrorSite errors;
    private final List<String> learnedKeys = new ArrayList<>();
    /** Gradients of the learned parameters from the current backward pass, by layer key (detached). */
    private final Map<String, INDArray> learnedGradients = new HashMap<>();
    private INDArray lastQuantizedInput;

    /**
     * The runtime of {@code owner} with these sites. Its weight parameter {@code weightKey} (null: none)
     * has its output channels along {@code weightAxis}; the bias {@code biasKey} (null: none) is quantized
     * with the bias site.
     */
    SiteRuntime(Layer owner, QuantSites sites, String weightKey, int weightAxis, String biasKey) {
        this.owner = owner;
        this.sites = sites;
        this.input = new ActivationSite(sites.input(), QuantParamInitializer.INPUT_STATE_KEY, ArrayType.INPUT,
                LearnedSite.of(sites, QuantSites.Site.INPUT));
        this.output = new ActivationSite(sites.output(), QuantParamInitializer.OUTPUT_STATE_KEY, ArrayType.ACTIVATIONS,
                LearnedSite.of(sites, QuantSites.Site.OUTPUT));
        this.weightLearned = LearnedSite.of(sites, QuantSites.Site.WEIGHTS);
        this.errors = new ErrorSite(sites.errors());
        if (weightKey != null) {
            params.add(weightKey, sites.weights(), weightAxis, weightLearned);
        }
        if (biasKey != null) {
            params.add(biasKey, sites.bias(), 0, null);
        }
        for (LearnedSite l : new LearnedSite[] {input.learned(), weightLearned, output.learned()}) {
            if (l != null) {
                learnedKeys.addAll(l.keys());
            }
        }
    }

    /** The runtime of a layer without parameters of its own (activation quantization). */
    SiteRuntime(Layer owner, QuantSites sites) {
        this(owner, sites, null, 0, null);
    }

    /** Adds another quantized weight tensor (e.g. the point-wise weights of a separable convolution). */
    SiteRuntime withWeight(String key, QuantSpec spec, int channelAxis) {
        params.add(key, spec, channelAxis, null);
        return this;
    }

    QuantSites sites() {
        return sites;
    }

    /** Seed of stochastic rounding for one site in one iteration (reproducible across resumed runs). */
    static long seed(int layerIndex, int iteration, int site) {
        return (iteration + 1L) * 0x9E3779B97F4A7C15L + layerIndex * 1_000_003L + site;
    }

    private long seed(int slot) {
        return seed(owner.getIndex(), owner.getIterationCount(), slot);
    }

    /**
     * The input the layer should compute with: the quantized version of {@code x}, computed once per new
     * input array (DL4J reaches a layer's input through several entry points per iteration; the observer
     * must see each batch once).
     */
    INDArray inputForCompute(INDArray x, boolean training, LayerWorkspaceMgr mgr) {
        if (x == null || x == lastQuantizedInput || !input.quantizes()) {
            return x;
        }
        lastQuantizedInput = input.forward(x, owner.paramTable(), training, seed(INPUT_SLOT), mgr);
        return lastQuantizedInput;
    }

    /** Fake-quantizes the layer output (DL4J keeps activations until the backward pass, so no copies are needed). */
    INDArray quantizeOutput(INDArray y, boolean training, LayerWorkspaceMgr mgr) {
        return output.forward(y, owner.paramTable(), training, seed(OUTPUT_SLOT), mgr);
    }

    /** Gradient through the output site. */
    INDArray outputGradient(INDArray eps, LayerWorkspaceMgr mgr) {
        return output.backward(eps, mgr, learnedGradients);
    }

    /**
     * The error the layer hands to the previous layer: the gradient through the input site, then the
     * error site (quantized when fixed-point training asks for it).
     */
    INDArray errorGradient(INDArray eps, LayerWorkspaceMgr mgr) {
        INDArray e = input.backward(eps, mgr, learnedGradients);
        return errors.apply(e, owner.getIndex(), owner.getIterationCount(), mgr);
    }

    /** Fake-quantizes the weight or bias value {@code p} of parameter {@code key} (detached result). */
    INDArray quantizeParam(String key, INDArray p, boolean training) {
        return params.quantize(key, p, training, seed(0), owner.paramTable());
    }

    /** Passes the gradient of parameter {@code key} back through its estimator, in place in {@code gradView}. */
    void paramGradient(String key, INDArray gradView) {
        params.gradient(key, gradView, learnedGradients);
    }

    /**
     * What a layer's {@code getParamWithNoise} returns: the quantized weight or bias (cached in
     * {@code cache} while training, so forward and backward use the same values), or the {@code plain}
     * value for parameters this layer does not quantize.
     */
    INDArray param(String key, boolean training, Map<String, INDArray> cache, Supplier<INDArray> plain) {
        if (!params.quantizes(key)) {
            return plain.get();
        }
        if (training && cache.containsKey(key)) {
            return cache.get(key);
        }
        INDArray q = quantizeParam(key, owner.getParam(key), training);
        if (training) {
            cache.put(key, q);
        }
        return q;
    }

    /**
     * A layer's backward pass around its float twin's: the output site's estimator, the float backward at
     * the quantized values ({@code floatBackprop}), the parameter estimators applied to the gradient views
     * in place, the input site's estimator and the error site, and the learned parameters' gradients.
     */
    Pair<Gradient, INDArray> backprop(INDArray epsilon, LayerWorkspaceMgr mgr, Map<String, INDArray> gradientViews,
                                      Function<INDArray, Pair<Gradient, INDArray>> floatBackprop) {
        Pair<Gradient, INDArray> p = floatBackprop.apply(outputGradient(epsilon, mgr));
        params.gradients(gradientViews, learnedGradients);
        clearParams();
        INDArray eps = errorGradient(p.getSecond(), mgr);
        return new Pair<>(withLearnedGradients(p.getFirst(), gradientViews), eps);
    }

    /** Forgets the parameters quantized for the last training iteration. */
    void clearParams() {
        params.clear();
    }

    /**
     * Writes the learned parameters' gradients of this backward pass into their gradient views (zero
     * for a site the pass did not reach) and adds them to {@code gradient}; returns {@code gradient}.
     */
    Gradient withLearnedGradients(Gradient gradient, Map<String, INDArray> gradientViews) {
        for (String key : learnedKeys) {
            INDArray view = gradientViews == null ? null : gradientViews.get(key);
            if (view == null) {
                throw new IllegalStateException("no gradient view for learned parameter '" + key + "' (views: "
                        + (gradientViews == null ? "none" : gradientViews.keySet()) + ")");
            }
            INDArray g = learnedGradients.get(key);
            if (g == null) {
                view.assign(0);
            } else {
                view.assign(g.reshape(view.shape()));
            }
            gradient.setGradientFor(key, view);
        }
        learnedGradients.clear();
        return gradient;
    }
}
