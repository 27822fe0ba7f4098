package io.qat4j.layers.nn.impl;

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

import java.util.Map;

/**
 * One activation site (input or output) of a quantized layer: its quantizer (fixed or learned), its
 * observer (state in the layer parameter {@code stateKey}), the workspace its result belongs in, and
 * what the last forward pass left for the backward pass. Activations are per tensor or per channel along
 * axis 1.
 */
final class ActivationSite {
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
        this.quantizer = spec.isFloat() || spec.isLearned() ? null : Quantizers.of(spec);
        this.learned = learned;
        this.observer = spec.isFloat() || !spec.needsObserver() ? null : Observers.of(spec.observer());
        this.stateKey = stateKey;
        this.workspace = workspace;
    }

    /** The learned part of this site, or null. */
    LearnedSite learned() {
        return learned;
    }

    boolean quantizes() {
        return quantizer != null || learned != null;
    }

    /**
     * The scope to compute an array of type {@code type} in: DL4J's workspace for it when that workspace
     * is open, otherwise no workspace. {@code ComputationGraph.output} runs layers in a detached mode in
     * which the INPUT workspace is not open; an array made outside workspaces is then simply
     * garbage-collected.
     */
    static MemoryWorkspace scope(LayerWorkspaceMgr mgr, ArrayType type) {
        if (mgr.isScopedOut(type) || !mgr.hasConfiguration(type) || !mgr.isWorkspaceOpen(type)) {
            return Nd4j.getWorkspaceManager().scopeOutOfWorkspaces();
        }
        return mgr.notifyScopeBorrowed(type);
    }

    INDArray forward(INDArray x, Map<String, INDArray> params, boolean training, long seed, LayerWorkspaceMgr mgr) {
        if (!quantizes()) {
            return x;
        }
        try (MemoryWorkspace ignored = scope(mgr, workspace)) {
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

    /** dL/dx through the site's estimator; learned parameters' gradients go into {@code learnedGradients}. */
    INDArray backward(INDArray eps, LayerWorkspaceMgr mgr, Map<String, INDArray> learnedGradients) {
        if (!quantizes()) {
            return eps;
        }
        try (MemoryWorkspace ignored = scope(mgr, ArrayType.ACTIVATION_GRAD)) {
            return learned != null ? learned.backward(eps, learnedGradients) : quantizer.backward(lastX, eps, lastResult);
        }
    }
}
