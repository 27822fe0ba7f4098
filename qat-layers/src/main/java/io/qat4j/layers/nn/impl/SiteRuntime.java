package io.qat4j.layers.nn.impl;

import io.qat4j.layers.nn.QuantParamInitializer;
import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.observe.Observer;
import io.qat4j.layers.observe.Observers;
import io.qat4j.layers.quant.Granularity;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizer;
import io.qat4j.layers.quant.Quantizers;
import io.qat4j.layers.train.ErrorSite;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashMap;
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
 */
final class SiteRuntime {
    private static final int INPUT_SITE = 1;
    private static final int OUTPUT_SITE = 2;
    private static final int PARAM_SITE = 3;

    private final QuantSites sites;
    private final Quantizer weightQ;
    private final Quantizer biasQ;
    private final ActivationSite input;
    private final ActivationSite output;
    private final ErrorSite errors;
    private int lastLayerIndex;
    private int lastIteration;

    private INDArray lastQuantizedInput;
    private final Map<String, INDArray> paramRaw = new HashMap<>();
    private final Map<String, QuantResult> paramResults = new HashMap<>();

    SiteRuntime(QuantSites sites) {
        this.sites = sites;
        weightQ = quantizer(sites.weights());
        biasQ = quantizer(sites.bias());
        input = new ActivationSite(sites.input(), QuantParamInitializer.INPUT_STATE_KEY, ArrayType.INPUT);
        output = new ActivationSite(sites.output(), QuantParamInitializer.OUTPUT_STATE_KEY, ArrayType.ACTIVATIONS);
        errors = new ErrorSite(sites.errors());
    }

    private static Quantizer quantizer(QuantSpec spec) {
        return spec.isFloat() ? null : Quantizers.of(spec);
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
        if (x == null || x == lastQuantizedInput || input.quantizer == null) {
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
        private final Observer observer;
        private final String stateKey;
        private final ArrayType workspace;
        private INDArray lastX;
        private QuantResult lastResult;

        ActivationSite(QuantSpec spec, String stateKey, ArrayType workspace) {
            this.spec = spec;
            this.quantizer = quantizer(spec);
            this.observer = observer(spec);
            this.stateKey = stateKey;
            this.workspace = workspace;
        }

        INDArray forward(INDArray x, Map<String, INDArray> params, boolean training, long seed, LayerWorkspaceMgr mgr) {
            if (quantizer == null) {
                return x;
            }
            try (MemoryWorkspace ignored = mgr.notifyScopeBorrowed(workspace)) {
                int axis = spec.granularity() == Granularity.TENSOR ? -1 : 1;
                QuantContext ctx = new QuantContext(axis, null, null, seed, training);
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
            if (quantizer == null) {
                return eps;
            }
            try (MemoryWorkspace ignored = mgr.notifyScopeBorrowed(ArrayType.ACTIVATION_GRAD)) {
                return quantizer.backward(lastX, eps, lastResult);
            }
        }
    }

    /** Whether a parameter (W or b) is quantized. */
    boolean quantizes(String key, String weightKey, String biasKey) {
        return (key.equals(weightKey) && weightQ != null) || (key.equals(biasKey) && biasQ != null);
    }

    /** Fake-quantizes a weight or bias parameter (detached result). */
    INDArray quantizeParam(String key, boolean isWeight, INDArray p, int channelAxis, boolean training, int layerIndex,
                           int iteration) {
        Quantizer q = isWeight ? weightQ : biasQ;
        QuantSpec spec = isWeight ? sites.weights() : sites.bias();
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            int axis = spec.granularity() == Granularity.TENSOR ? -1 : channelAxis;
            QuantResult r = q.forward(p, new QuantContext(axis, null, null,
                    seed(layerIndex, iteration, PARAM_SITE + (isWeight ? 0 : 1)), training));
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
        if (!quantizes(key, weightKey, biasKey)) {
            return plain.get();
        }
        if (training && cache.containsKey(key)) {
            return cache.get(key);
        }
        INDArray q = quantizeParam(key, key.equals(weightKey), raw, channelAxis, training, layerIndex, iteration);
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
        return new org.nd4j.common.primitives.Pair<>(p.getFirst(),
                errors.apply(inputGradient(p.getSecond(), mgr), lastLayerIndex, lastIteration, mgr));
    }

    /** Forgets the parameters quantized for the last training iteration. */
    void clearParams() {
        paramRaw.clear();
        paramResults.clear();
    }
}
