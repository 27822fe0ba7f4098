package io.qat4j.layers.train;

import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Objects;

/**
 * Quantizes a parameter's gradient G before the updater: a DL4J {@link Regularization} applied at
 * {@link ApplyStep#BEFORE_UPDATER}, i.e. after the gradient has been divided by the minibatch size and
 * normalized, and before momentum / Adam see it.
 *
 * <p>Forward: none; step: {@code G <- Q_G(G)} with the spec's quantizer ({@link GradientSpec}), seeded per
 * layer, iteration and parameter. {@code wage(...)} returns the update of an SGD step with learning rate η
 * folded in; this step divides it by η so that DL4J's {@code Sgd(η)} multiplies it back (exact for a power
 * of two η). Adds nothing to the score.
 *
 * <p>Papers: Gupta et al., arXiv:1502.02551 (stochastic rounding); Wu et al. (WAGE), arXiv:1802.04680;
 * Banner et al., arXiv:1805.11046; Wen et al. (TernGrad), arXiv:1705.07878.
 *
 * <p>Example: {@code new GradientQuantization(GradientSpec.parse("int(bits=8, rounding=stochastic)"), 2, 1, 0)}.
 */
public final class GradientQuantization implements Regularization {
    private static final long serialVersionUID = 1L;

    @JsonProperty("spec")
    private GradientSpec spec = GradientSpec.FLOAT;
    @JsonProperty("layer")
    private int layer;
    @JsonProperty("channelAxis")
    private int channelAxis = -1;
    @JsonProperty("stream")
    private int stream;

    private transient GradientQuantizer quantizer;

    /** For JSON deserialization. */
    public GradientQuantization() {
    }

    /**
     * @param spec        the gradient format
     * @param layer       index of the layer in the network (seeds and diagnostics)
     * @param channelAxis output-channel axis of the parameter for per-channel specs (-1: none)
     * @param stream      0 for the weights, 1 for the bias (separate random streams)
     */
    public GradientQuantization(GradientSpec spec, int layer, int channelAxis, int stream) {
        this.spec = Objects.requireNonNull(spec, "spec").requireAllowedFor("gradients");
        this.layer = layer;
        this.channelAxis = channelAxis;
        this.stream = stream;
    }

    public GradientSpec spec() {
        return spec;
    }

    public int layer() {
        return layer;
    }

    private GradientQuantizer quantizer() {
        if (quantizer == null && !spec.isFloat()) {
            quantizer = GradientQuantizer.of(spec, channelAxis);
        }
        return quantizer;
    }

    @Override
    public ApplyStep applyStep() {
        return ApplyStep.BEFORE_UPDATER;
    }

    @Override
    public void apply(INDArray param, INDArray gradView, double lr, int iteration, int epoch) {
        GradientQuantizer q = quantizer();
        if (q == null) {
            return;
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray g = TrainingMonitor.quantize(q, gradView, Seeds.of(layer, iteration, Seeds.GRADIENTS + stream), lr,
                    layer, TrainingMonitor.Path.GRADIENTS);
            if (g == gradView) {
                return;
            }
            if (spec.kind() == GradientSpec.Kind.WAGE) {
                g.divi(lr);
            }
            gradView.assign(g);
        }
    }

    @Override
    public double score(INDArray param, int iteration, int epoch) {
        return 0;
    }

    @Override
    public GradientQuantization clone() {
        return new GradientQuantization(spec, layer, channelAxis, stream);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GradientQuantization g && g.spec.equals(spec) && g.layer == layer
                && g.channelAxis == channelAxis && g.stream == stream;
    }

    @Override
    public int hashCode() {
        return Objects.hash(spec, layer, channelAxis, stream);
    }

    @Override
    public String toString() {
        return "GradientQuantization(" + spec + ", layer " + layer + ", stream " + stream + ")";
    }
}
