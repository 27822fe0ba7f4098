package io.qat4j.layers.nn.impl;

import io.qat4j.layers.nn.QuantParamInitializer;
import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.quant.LearnedQuantizer;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizers;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A site with a learned quantizer (PACT, LSQ, QIL, TTQ): the quantizer, the layer keys of its
 * parameters ({@link QuantParamInitializer#learnedKey}), and what the last forward pass left for the
 * backward pass. The parameters are views of the layer's parameter table; the quantizer initializes
 * them from the first batch when it asks to.
 */
final class LearnedSite {
    private final LearnedQuantizer quantizer;
    private final LearnedQuantizer.Role role;
    /** The quantizer's parameter names mapped to the layer's keys. */
    private final Map<String, String> keyByName = new LinkedHashMap<>();
    private INDArray lastX;
    private Map<String, INDArray> lastParams;
    private QuantContext lastCtx;

    private LearnedSite(QuantSpec spec, QuantSites.Site site) {
        quantizer = Quantizers.learned(spec);
        role = QuantParamInitializer.role(site);
        // Names do not depend on the channel count; 1 stands for it here.
        for (LearnedQuantizer.Param p : quantizer.params(role, 1)) {
            keyByName.put(p.name(), QuantParamInitializer.learnedKey(site, p.name()));
        }
    }

    /** The learned site of {@code site}, or null when its spec is not a learned quantizer. */
    static LearnedSite of(QuantSites sites, QuantSites.Site site) {
        QuantSpec spec = sites.spec(site);
        return spec.isLearned() ? new LearnedSite(spec, site) : null;
    }

    /** The layer keys of this site's parameters, in the quantizer's order. */
    Collection<String> keys() {
        return keyByName.values();
    }

    /** Whether a forward pass is waiting for its backward pass. */
    boolean hasForward() {
        return lastX != null;
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

    /**
     * dL/dx of the last forward pass; the gradients of the parameters (detached, by layer key) are put
     * into {@code gradients}.
     */
    INDArray backward(INDArray gradOut, Map<String, INDArray> gradients) {
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
            gradients.put(keyByName.get(e.getKey()), e.getValue());
        }
        return dx;
    }

    void clear() {
        lastX = null;
        lastParams = null;
        lastCtx = null;
    }
}
