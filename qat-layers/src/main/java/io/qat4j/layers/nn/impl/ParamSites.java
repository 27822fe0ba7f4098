package io.qat4j.layers.nn.impl;

import io.qat4j.layers.quant.Granularity;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizer;
import io.qat4j.layers.quant.Quantizers;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The quantized parameters of a layer (weights, bias; a separable convolution has two weight tensors):
 * per parameter key its spec, the axis of its output channels, and the forward result the backward pass
 * needs. Quantized parameters are computed outside workspaces, since the layer caches them across the
 * forward and the backward pass of a training iteration.
 */
final class ParamSites {
    /** Seed slot of the first parameter (activation sites use 1 and 2). */
    private static final int FIRST_SEED_SLOT = 3;

    private static final class Site {
        final QuantSpec spec;
        final int channelAxis;
        final Quantizer quantizer;
        final LearnedSite learned;
        final int seedSlot;
        INDArray lastRaw;
        QuantResult lastResult;

        Site(QuantSpec spec, int channelAxis, LearnedSite learned, int seedSlot) {
            this.spec = spec;
            this.channelAxis = channelAxis;
            this.quantizer = spec.isFloat() || spec.isLearned() ? null : Quantizers.of(spec);
            this.learned = learned;
            this.seedSlot = seedSlot;
        }

        boolean quantizes() {
            return quantizer != null || learned != null;
        }
    }

    private final Map<String, Site> sites = new LinkedHashMap<>();

    /**
     * Adds a parameter. {@code learned} is the learned weight site when {@code spec} is a learned
     * quantizer (its parameters are the layer's), null otherwise.
     */
    void add(String key, QuantSpec spec, int channelAxis, LearnedSite learned) {
        if (spec.isLearned() && learned == null) {
            throw new IllegalArgumentException("parameter '" + key + "': learned quantizer '" + spec
                    + "' is not allowed here; allowed: a fixed quantizer (int, fixed, binary, ternary, ...)");
        }
        sites.put(key, new Site(spec, channelAxis, learned, FIRST_SEED_SLOT + sites.size()));
    }

    /** Whether the parameter {@code key} is quantized. */
    boolean quantizes(String key) {
        Site s = sites.get(key);
        return s != null && s.quantizes();
    }

    /**
     * Fake-quantizes the value {@code p} of parameter {@code key} (detached result); {@code layerParams}
     * is the layer's parameter table, which a learned quantizer reads its parameters from. In training the
     * forward result is kept for {@link #gradient}.
     */
    INDArray quantize(String key, INDArray p, boolean training, long seedBase, Map<String, INDArray> layerParams) {
        Site s = sites.get(key);
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            int axis = s.spec.granularity() == Granularity.TENSOR ? -1 : s.channelAxis;
            QuantContext ctx = new QuantContext(axis, null, null, seedBase + s.seedSlot, training);
            if (s.learned != null) {
                return s.learned.forward(p, layerParams, ctx, training).output();
            }
            QuantResult r = s.quantizer.forward(p, ctx);
            if (training) {
                s.lastRaw = p;
                s.lastResult = r;
            }
            return r.output();
        }
    }

    /**
     * Passes the gradient of parameter {@code key} back through its estimator, in place in the gradient
     * view; a learned quantizer's parameter gradients go into {@code learnedGradients}. Without a recorded
     * forward pass (or for a float parameter) the view is left alone.
     */
    void gradient(String key, INDArray gradView, Map<String, INDArray> learnedGradients) {
        Site s = sites.get(key);
        if (s == null || gradView == null) {
            return;
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            if (s.learned != null) {
                if (s.learned.hasForward()) {
                    gradView.assign(s.learned.backward(gradView, learnedGradients));
                }
            } else if (s.lastResult != null) {
                // Estimators only read gradOut and return a new array, so the view needs no copy.
                gradView.assign(s.quantizer.backward(s.lastRaw, gradView, s.lastResult));
            }
        }
    }

    /** Passes every quantized parameter's gradient view back through its estimator. */
    void gradients(Map<String, INDArray> gradientViews, Map<String, INDArray> learnedGradients) {
        for (String key : sites.keySet()) {
            gradient(key, gradientViews.get(key), learnedGradients);
        }
    }

    /** Forgets the parameters quantized for the last training iteration. */
    void clear() {
        for (Site s : sites.values()) {
            s.lastRaw = null;
            s.lastResult = null;
            if (s.learned != null) {
                s.learned.clear();
            }
        }
    }
}
