package io.qat4j.layers.train;

import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The error site of a quantized layer: quantizes the error (epsilon, dL/d input) the layer hands to the
 * previous layer, after its own backward pass. Between two weighted layers the error only passes max
 * pooling (routing), ReLU and straight-through masks (zeroing), which keep it on this grid, so the previous
 * layer's weight gradient and error are computed from quantized errors, as in WAGE's Q_E.
 *
 * <p>Forward: none; backward: {@code e_prev = Q_E(e)} with the layer's errors spec ({@link GradientSpec}),
 * per tensor (or per channel along axis 1 with {@code axis=channel}), in DL4J's ACTIVATION_GRAD workspace.
 *
 * <p>Papers: Wu et al. (WAGE), arXiv:1802.04680, eq. (10); Banner et al., arXiv:1805.11046 (8-bit errors);
 * Wang et al., arXiv:1812.08011 (FP8 errors).
 *
 * <p>Example spec strings: {@code shift(bits=8)}, {@code int8}, {@code fp8_e5m2}.
 */
public final class ErrorSite {
    private final GradientQuantizer quantizer;

    /** The site of an errors spec ({@code float}: the error passes untouched). */
    public ErrorSite(GradientSpec spec) {
        spec.requireAllowedFor("errors");
        this.quantizer = GradientQuantizer.of(spec, 1);
    }

    /** True when the site quantizes. */
    public boolean quantizes() {
        return quantizer != null;
    }

    /**
     * The quantized error handed back by layer {@code layerIndex} in training iteration {@code iteration} (the
     * error itself for a float site or a null error).
     */
    public INDArray apply(INDArray epsilon, int layerIndex, int iteration, LayerWorkspaceMgr mgr) {
        if (quantizer == null || epsilon == null) {
            return epsilon;
        }
        try (MemoryWorkspace ignored = mgr.notifyScopeBorrowed(ArrayType.ACTIVATION_GRAD)) {
            return TrainingMonitor.quantize(quantizer, epsilon, Seeds.of(layerIndex, iteration, Seeds.ERRORS), 0,
                    layerIndex, TrainingMonitor.Path.ERRORS);
        }
    }
}
