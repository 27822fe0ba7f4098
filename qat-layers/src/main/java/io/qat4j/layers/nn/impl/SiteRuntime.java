package io.qat4j.layers.nn.impl;

import io.qat4j.layers.nn.QuantParamInitializer;
import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.observe.Observer;
import io.qat4j.layers.observe.Observers;
import io.qat4j.layers.quant.Granularity;
import io.qat4j.layers.quant.LearnedQuantizer;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizer;
import io.qat4j.layers.quant.Quantizers;
import io.qat4j.layers.train.ErrorSite;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The quantization work shared by every quantized layer implementation: fake-quantizing the input,
 * the parameters and the output in the forward pass, remembering what the backward pass needs, and
 * passing gradients back through the sites' estimators.
 *
 * <p>Activation sites compute in the workspace DL4J expects their result in (INPUT, ACTIVATIONS,
 * ACTIVATION_GRAD), which DL4J keeps open from the forward to the backward pass; quantized
 * parameters are computed outside workspaces, since they are cached across both passes.
 * A float site costs nothing: its input is returned as is.
 *
 * <p>Sites with a learned quantizer read its parameters from the layer's parameter table (keys as
 * in {@link QuantParamInitializer}), let it initialize them from the first batch when it asks to, and
 * in the backward pass collect the gradients of those parameters, which
 * {@link #withLearnedGradients} writes into the layer's gradient views.
 */
final class SiteRuntime {
    private static final int INPUT_SITE = 1;
    private static final int OUTPUT_SITE = 2;
    private static final int PARAM_SITE = 3;

    private final QuantSites sites;
    private final Quantizer weightQ;
    private final Quantizer biasQ;
    private final LearnedSite weightL;
    private final ActivationSite input;
    private final ActivationSite output;
    private final ErrorSite errors;
    private int lastLayerIndex;
    private int lastIteration;
    /** Gradients of the learned parameters from the current backward pass, by layer key (detached). */
    private final Map<String, INDArray> learnedGradients = new HashMap<>();
    private final List<String> learnedKeys = new ArrayList<>();

    private INDArray lastQuantizedInput;
    private final Map<String, INDArray> paramRaw = new HashMap<>();
    private final Map<String, QuantResult> paramResults = new HashMap<>();

    SiteRuntime(QuantSites sites) {
        this.sites = sites;
        weightQ = quantizer(sites.weights());
        biasQ = quantizer(sites.bias());
        weightL = learnedSite(sites, QuantSites.Site.WEIGHTS);
        input = new ActivationSite(sites.input(), QuantParamInitializer.INPUT_STATE_KEY, ArrayType.INPUT,
                learnedSite(sites, QuantSites.Site.INPUT));
        output = new ActivationSite(sites.output(), QuantParamInitializer.OUTPUT_STATE_KEY, ArrayType.ACTIVATIONS,
                learnedSite(sites, QuantSites.Site.OUTPUT));
        errors = new ErrorSite(sites.errors());
        for (LearnedSite l : new LearnedSite[] {input.learned, weightL, output.learned}) {
            if (l != null) {
                learnedKeys.addAll(l.keyByName.values());
            }
        }
    }

    /** The stateless quantizer of a site; null for float sites and learned quantizers. */
    private static Quantizer quantizer(QuantSpec spec) {
        return spec.isFloat() || spec.isLearned() ? null : Quantizers.of(spec);
    }

    private LearnedSite learnedSite(QuantSites s, QuantSites.Site site) {
        QuantSpec spec = s.spec(site);
        return spec.isLearned() ? new LearnedSite(spec, site) : null;
    }

    /**
     * A site with a learned quantizer: the quantizer, the layer keys of its parameters, and what the
     * last forward pass left for the backward pass.
     */
    private final class LearnedSite {
        private final LearnedQuantizer quantizer;
        private final LearnedQuantizer.Role role;
        /** The quantizer's parameter names mapped to the layer's keys. */
        private final Map<String, String> keyByName = new LinkedHashMap<>();
        private INDArray lastX;
        private Map<String, INDArray> lastParams;
        private QuantContext lastCtx;

        LearnedSite(QuantSpec spec, QuantSites.Site site) {
            quantizer = Quantizers.learned(spec);
            role = QuantParamInitializer.role(site);
            // Names do not depend on the channel count; 1 stands for it here.
            for (LearnedQuantizer.Param p : quantizer.params(role, 1)) {
                keyByName.put(p.name(), QuantParamInitializer.learnedKey(site, p.name()));
            }
        }

        /** The quantizer's parameters by name, as views of the layer's parameters. */
        private Map<String, INDArray> params(Map<String, INDArray> layerParams) {
            Map<String, INDArray> p = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : keyByName.entrySet()) {
                INDArray v = layerParams == null ? null : layerParams.get(e.getValue());
                if (v == null) {
                    throw new IllegalStateException(quantizer.spec() + " needs the layer parameter '" + e.getValue()
                            + "', which the layer does not have (its parameters: "
                            + (layerParams == null ? "none passed" : layerParams.keySet())
                            + "); quantized layers must create their parameters with QuantParamInitializer");
                }
                p.put(e.getKey(), v);
            }
            return p;
        }

        /** Initializes the parameters from x if the quantizer asks to, then fake-quantizes x. */
        QuantResult forward(INDArray x, Map<String, INDArray> layerParams, QuantContext ctx, boolean keep) {
            Map<String, INDArray> p = params(layerParams);
            if (quantizer.needsInit(p)) {
                quantizer.init(x, p, ctx, role);
            }
            QuantResult r = quantizer.forward(x, p, ctx, role);
            if (keep) {
                lastX = x;
                lastParams = p;
                lastCtx = ctx;
            }
            return r;
        }

        /** dL/dx of the last forward pass; the parameter gradients go to {@link #learnedGradients}. */
        INDArray backward(INDArray gradOut) {
            if (lastX == null) {
                throw new IllegalStateException("backward pass through " + quantizer.spec() + " without a forward pass");
            }
            Map<String, INDArray> grads = new LinkedHashMap<>();
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                for (Map.Entry<String, INDArray> e : lastParams.entrySet()) {
                    grads.put(e.getKey(), Nd4j.create(e.getValue().dataType(), e.getValue().shape()));
                }
            }
            INDArray dx = quantizer.backward(lastX, gradOut, lastParams, lastCtx, role, grads);
            for (Map.Entry<String, INDArray> e : grads.entrySet()) {
                learnedGradients.put(keyByName.get(e.getKey()), e.getValue());
            }
            return dx;
        }

        void clear() {
            lastX = null;
            lastParams = null;
            lastCtx = null;
        }
    }

    private static Observer observer(QuantSpec spec) {
        return spec.isFloat() || !spec.needsObserver() ? null : Observers.of(spec.observer());
    }

    QuantSites sites() {
        return sites;
    }

    /** Seed of stochastic rounding for one site in one iteration (reproducible across resumed runs). */
    static long seed(int layerIndex, int iteration, int site) {
        return (iteration + 1L) * 0x9E3779B97F4A7C15L + layerIndex * 1_000_003L + site;
    }

    /**
     * The input the layer should compute with: the quantized version of {@code input}, computed once
     * per new input array (DL4J reaches a layer's input through several entry points per iteration;
     * the observer must see each batch once).
     */
    INDArray inputForCompute(INDArray x, Map<String, INDArray> params, boolean training, int layerIndex,
                             int iteration, LayerWorkspaceMgr mgr) {
        lastLayerIndex = layerIndex;
        lastIteration = iteration;
        if (x == null || x == lastQuantizedInput || !input.quantizes()) {
            return x;
        }
        lastQuantizedInput = quantizeInput(x, params, training, layerIndex, iteration, mgr);
        return lastQuantizedInput;
    }

    /** Fake-quantizes the layer input in DL4J's INPUT workspace, where it stays until the backward pass. */
    INDArray quantizeInput(INDArray x, Map<String, INDArray> params, boolean training, int layerIndex, int iteration,
                           LayerWorkspaceMgr mgr) {
        return input.forward(x, params, training, seed(layerIndex, iteration, INPUT_SITE), mgr);
    }

    /** Gradient through the input site. */
    INDArray inputGradient(INDArray eps, LayerWorkspaceMgr mgr) {
        return input.backward(eps, mgr);
    }

    /**
     * The error the layer hands to the previous layer: the gradient through the input site, then the
     * error site (quantized when fixed-point training asks for it; the layer index and iteration are those
     * of the last {@link #inputForCompute} call).
     */
    INDArray errorGradient(INDArray eps, LayerWorkspaceMgr mgr) {
        return errors.apply(inputGradient(eps, mgr), lastLayerIndex, lastIteration, mgr);
    }

    /**
     * Fake-quantizes the layer output in DL4J's ACTIVATIONS workspace: DL4J keeps activations (y
     * and its quantized copy) there until the backward pass, so no copies are needed.
     */
    INDArray quantizeOutput(INDArray y, Map<String, INDArray> params, boolean training, int layerIndex, int iteration,
                            LayerWorkspaceMgr mgr) {
        return output.forward(y, params, training, seed(layerIndex, iteration, OUTPUT_SITE), mgr);
    }

    /** Gradient through the output site. */
    INDArray outputGradient(INDArray eps, LayerWorkspaceMgr mgr) {
        return output.backward(eps, mgr);
    }

    /**
     * One activation site (input or output): its quantizer, its observer (state in the layer
     * parameter {@code stateKey}), the workspace its result belongs in, and what the last forward
     * pass left for the backward pass.
     */
    private static final class ActivationSite {
        private final QuantSpec spec;
        private final Quantizer quantizer;
        private final LearnedSite learned;
        private final Observer observer;
        private final String stateKey;
        private final ArrayType workspace;
        private INDArray lastX;
        private QuantResult lastResult;

        ActivationSite(QuantSpec spec, String stateKey, ArrayType workspace, LearnedSite learned) {
            this.spec = spec;
            this.quantizer = quantizer(spec);
            this.learned = learned;
            this.observer = observer(spec);
            this.stateKey = stateKey;
            this.workspace = workspace;
        }

        boolean quantizes() {
            return quantizer != null || learned != null;
        }

        INDArray forward(INDArray x, Map<String, INDArray> params, boolean training, long seed, LayerWorkspaceMgr mgr) {
            if (!quantizes()) {
                return x;
            }
            try (MemoryWorkspace ignored = mgr.notifyScopeBorrowed(workspace)) {
                int axis = spec.granularity() == Granularity.TENSOR ? -1 : 1;
                QuantContext ctx = new QuantContext(axis, null, null, seed, training);
                if (learned != null) {
                    return learned.forward(x, params, ctx, true).output();
                }
                if (observer != null) {
                    INDArray state = params.get(stateKey);
                    if (training) {
                        observer.update(state, x, axis);
                    }
                    if (observer.updates(state) > 0) {
                        ctx = ctx.withRange(observer.min(state), observer.max(state));
                    }
                }
                lastX = x;
                lastResult = quantizer.forward(x, ctx);
                return lastResult.output();
            }
        }

        INDArray backward(INDArray eps, LayerWorkspaceMgr mgr) {
            if (!quantizes()) {
                return eps;
            }
            try (MemoryWorkspace ignored = mgr.notifyScopeBorrowed(ArrayType.ACTIVATION_GRAD)) {
                return learned != null ? learned.backward(eps) : quantizer.backward(lastX, eps, lastResult);
            }
        }
    }

    /** Whether a parameter (W or b) is quantized. */
    boolean quantizes(String key, String weightKey, String biasKey) {
        return (key.equals(weightKey) && (weightQ != null || weightL != null)) || (key.equals(biasKey) && biasQ != null);
    }

    /** Fake-quantizes a weight or bias parameter (detached result). */
    INDArray quantizeParam(String key, boolean isWeight, INDArray p, int channelAxis, boolean training, int layerIndex,
                           int iteration) {
        return quantizeParam(key, isWeight, p, channelAxis, training, layerIndex, iteration, null);
    }

    /**
     * Fake-quantizes a weight or bias parameter (detached result); {@code layerParams} is the layer's
     * parameter table, which a learned weight quantizer reads its parameters from.
     */
    INDArray quantizeParam(String key, boolean isWeight, INDArray p, int channelAxis, boolean training, int layerIndex,
                           int iteration, Map<String, INDArray> layerParams) {
        Quantizer q = isWeight ? weightQ : biasQ;
        QuantSpec spec = isWeight ? sites.weights() : sites.bias();
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            int axis = spec.granularity() == Granularity.TENSOR ? -1 : channelAxis;
            QuantContext ctx = new QuantContext(axis, null, null,
                    seed(layerIndex, iteration, PARAM_SITE + (isWeight ? 0 : 1)), training);
            if (isWeight && weightL != null) {
                QuantResult r = weightL.forward(p, layerParams, ctx, training);
                return r.output();
            }
            QuantResult r = q.forward(p, ctx);
            if (training) {
                paramRaw.put(key, p);
                paramResults.put(key, r);
            }
            return r.output();
        }
    }

    /**
     * Passes the gradient of a quantized parameter back through its estimator, in place in the
     * gradient view. Without a recorded forward pass (or for a float site) the view is left alone.
     */
    void paramGradient(String key, boolean isWeight, INDArray gradView) {
        if (isWeight && weightL != null) {
            if (gradView != null && weightL.lastX != null) {
                try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                    gradView.assign(weightL.backward(gradView));
                }
            }
            return;
        }
        QuantResult r = paramResults.get(key);
        if (r == null || gradView == null) {
            return;
        }
        Quantizer q = isWeight ? weightQ : biasQ;
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            // Estimators only read gradOut and return a new array, so the view needs no copy.
            INDArray g = q.backward(paramRaw.get(key), gradView, r);
            gradView.assign(g);
        }
    }

    /**
     * What a layer's {@code getParamWithNoise} returns: the quantized weight or bias (cached in
     * {@code cache} while training, so forward and backward use the same values), or the
     * {@code plain} value for parameters this layer does not quantize.
     */
    INDArray param(String key, String weightKey, String biasKey, INDArray raw, int channelAxis, boolean training,
                   Map<String, INDArray> cache, int layerIndex, int iteration, java.util.function.Supplier<INDArray> plain) {
        return param(key, weightKey, biasKey, raw, channelAxis, training, cache, layerIndex, iteration, null, plain);
    }

    /**
     * {@link #param(String, String, String, INDArray, int, boolean, Map, int, int, java.util.function.Supplier)}
     * for layers whose weight site may have a learned quantizer: {@code layerParams} is the layer's
     * parameter table, which holds the quantizer's parameters.
     */
    INDArray param(String key, String weightKey, String biasKey, INDArray raw, int channelAxis, boolean training,
                   Map<String, INDArray> cache, int layerIndex, int iteration, Map<String, INDArray> layerParams,
                   java.util.function.Supplier<INDArray> plain) {
        if (!quantizes(key, weightKey, biasKey)) {
            return plain.get();
        }
        if (training && cache.containsKey(key)) {
            return cache.get(key);
        }
        INDArray q = quantizeParam(key, key.equals(weightKey), raw, channelAxis, training, layerIndex, iteration,
                layerParams);
        if (training) {
            cache.put(key, q);
        }
        return q;
    }

    /**
     * A layer's backward pass around its float twin's: the output site's estimator, the float
     * backward at the quantized values ({@code floatBackprop}), the weight and bias estimators applied
     * to the gradient views in place, the input site's estimator, and the error site (the error handed to
     * the previous layer, quantized when fixed-point training asks for it).
     */
    org.nd4j.common.primitives.Pair<org.deeplearning4j.nn.gradient.Gradient, INDArray> backprop(
            INDArray epsilon, LayerWorkspaceMgr mgr, Map<String, INDArray> gradientViews, String weightKey, String biasKey,
            java.util.function.Function<INDArray, org.nd4j.common.primitives.Pair<org.deeplearning4j.nn.gradient.Gradient, INDArray>> floatBackprop) {
        var p = floatBackprop.apply(outputGradient(epsilon, mgr));
        paramGradient(weightKey, true, gradientViews.get(weightKey));
        paramGradient(biasKey, false, gradientViews.get(biasKey));
        clearParams();
        INDArray eps = errorGradient(p.getSecond(), mgr);
        return new org.nd4j.common.primitives.Pair<>(withLearnedGradients(p.getFirst(), gradientViews), eps);
    }

    /** Forgets the parameters quantized for the last training iteration. */
    void clearParams() {
        paramRaw.clear();
        paramResults.clear();
        if (weightL != null) {
            weightL.clear();
        }
    }

    /** The layer keys of the learned quantizers' parameters, in input, weights, output order. */
    List<String> learnedKeys() {
        return List.copyOf(learnedKeys);
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
