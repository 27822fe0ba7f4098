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
    private final Quantizer inputQ;
    private final Quantizer weightQ;
    private final Quantizer biasQ;
    private final Quantizer outputQ;
    private final Observer inputObs;
    private final Observer outputObs;

    private INDArray lastInput;
    private INDArray lastQuantizedInput;
    private QuantResult lastInputResult;
    private INDArray lastOutput;
    private QuantResult lastOutputResult;
    private final Map<String, INDArray> paramRaw = new HashMap<>();
    private final Map<String, QuantResult> paramResults = new HashMap<>();

    SiteRuntime(QuantSites sites) {
        this.sites = sites;
        inputQ = quantizer(sites.input());
        weightQ = quantizer(sites.weights());
        biasQ = quantizer(sites.bias());
        outputQ = quantizer(sites.output());
        inputObs = observer(sites.input());
        outputObs = observer(sites.output());
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
    INDArray inputForCompute(INDArray input, Map<String, INDArray> params, boolean training, int layerIndex,
                             int iteration, LayerWorkspaceMgr mgr) {
        if (input == null || input == lastQuantizedInput || inputQ == null) {
            return input;
        }
        lastQuantizedInput = quantizeInput(input, params, training, layerIndex, iteration, mgr);
        return lastQuantizedInput;
    }

    /** Fake-quantizes the layer input; the result is detached from workspaces. */
    INDArray quantizeInput(INDArray x, Map<String, INDArray> params, boolean training, int layerIndex, int iteration,
                           LayerWorkspaceMgr mgr) {
        if (inputQ == null) {
            return x;
        }
        // Computed in the INPUT workspace, where DL4J keeps a layer's input until the backward pass.
        try (MemoryWorkspace ignored = mgr.notifyScopeBorrowed(ArrayType.INPUT)) {
            QuantResult r = activationSite(inputQ, inputObs, sites.input(), x,
                    params.get(QuantParamInitializer.INPUT_STATE_KEY), training, seed(layerIndex, iteration, INPUT_SITE));
            lastInput = x;
            lastInputResult = r;
            return r.output();
        }
    }

    /** Gradient through the input site. */
    INDArray inputGradient(INDArray eps, LayerWorkspaceMgr mgr) {
        if (inputQ == null) {
            return eps;
        }
        try (MemoryWorkspace ignored = mgr.notifyScopeBorrowed(ArrayType.ACTIVATION_GRAD)) {
            return inputQ.backward(lastInput, eps, lastInputResult);
        }
    }

    /** Fake-quantizes the layer output and returns it in the ACTIVATIONS workspace. */
    INDArray quantizeOutput(INDArray y, Map<String, INDArray> params, boolean training, int layerIndex, int iteration,
                            LayerWorkspaceMgr mgr) {
        if (outputQ == null) {
            return y;
        }
        // Computed in the ACTIVATIONS workspace: DL4J keeps activations (y and its quantized copy)
        // there until the backward pass, so no copies are needed.
        try (MemoryWorkspace ignored = mgr.notifyScopeBorrowed(ArrayType.ACTIVATIONS)) {
            QuantResult r = activationSite(outputQ, outputObs, sites.output(), y,
                    params.get(QuantParamInitializer.OUTPUT_STATE_KEY), training, seed(layerIndex, iteration, OUTPUT_SITE));
            lastOutput = y;
            lastOutputResult = r;
            return r.output();
        }
    }

    /** Gradient through the output site (detached). */
    INDArray outputGradient(INDArray eps, LayerWorkspaceMgr mgr) {
        if (outputQ == null) {
            return eps;
        }
        try (MemoryWorkspace ignored = mgr.notifyScopeBorrowed(ArrayType.ACTIVATION_GRAD)) {
            return outputQ.backward(lastOutput, eps, lastOutputResult);
        }
    }

    private static QuantResult activationSite(Quantizer q, Observer obs, QuantSpec spec, INDArray x, INDArray state,
                                              boolean training, long seed) {
        int axis = spec.granularity() == Granularity.TENSOR ? -1 : 1;
        QuantContext ctx = new QuantContext(axis, null, null, seed, training);
        if (obs != null) {
            if (training) {
                obs.update(state, x, axis);
            }
            if (obs.updates(state) > 0) {
                ctx = ctx.withRange(obs.min(state), obs.max(state));
            }
        }
        return q.forward(x, ctx);
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
     * to the gradient views in place, and the input site's estimator.
     */
    org.nd4j.common.primitives.Pair<org.deeplearning4j.nn.gradient.Gradient, INDArray> backprop(
            INDArray epsilon, LayerWorkspaceMgr mgr, Map<String, INDArray> gradientViews, String weightKey, String biasKey,
            java.util.function.Function<INDArray, org.nd4j.common.primitives.Pair<org.deeplearning4j.nn.gradient.Gradient, INDArray>> floatBackprop) {
        var p = floatBackprop.apply(outputGradient(epsilon, mgr));
        paramGradient(weightKey, true, gradientViews.get(weightKey));
        paramGradient(biasKey, false, gradientViews.get(biasKey));
        clearParams();
        return new org.nd4j.common.primitives.Pair<>(p.getFirst(), inputGradient(p.getSecond(), mgr));
    }

    /** Forgets the parameters quantized for the last training iteration. */
    void clearParams() {
        paramRaw.clear();
        paramResults.clear();
    }
}
