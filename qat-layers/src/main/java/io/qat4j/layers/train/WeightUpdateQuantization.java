package io.qat4j.layers.train;

import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizer;
import io.qat4j.layers.quant.Quantizers;
import io.qat4j.layers.quant.QuantContext;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Objects;

/**
 * The quantized weight update: a DL4J {@link Regularization} applied at {@link ApplyStep#POST_UPDATER},
 * after the updater has turned the gradient into the update ΔW and before DL4J subtracts it.
 *
 * <p>Step: {@code ΔW_q = Q_U(ΔW)} (the {@code updates} spec, float for none); then
 * <ul>
 *   <li>float master weights (mixed precision, Micikevicius et al., arXiv:1710.03740): DL4J applies
 *       {@code W <- W - ΔW_q} (with {@code clip} &gt; 0: {@code W <- clip(W - ΔW_q, -clip, clip)});</li>
 *   <li>low-precision stored weights ({@code master} a quantizer spec, e.g. {@code fixed(m=0, n=7)} or
 *       {@code minifloat(e=5, m=10, rounding=stochastic)}): {@code W <- Q_M(clip(W - ΔW_q))} is written into
 *       the parameters here and the update view is zeroed, so the weights never leave the grid of Q_M. On a
 *       fixed-point grid with a grid-aligned ΔW_q every operation is exact.</li>
 * </ul>
 * Stochastic rounding of Q_M (the FP16 weight update of Wang et al., arXiv:1812.08011) is seeded per
 * layer, iteration and parameter.
 *
 * <p>Paper: Wu et al. (WAGE), arXiv:1802.04680, eq. (12): {@code W_{t+1} = Clip(W_t - ΔW_t)}.
 *
 * <p>Example: {@code new WeightUpdateQuantization(GradientSpec.FLOAT, QuantSpec.parse("fixed(m=0, n=7)"), 0.5, 3, 0)}.
 */
public final class WeightUpdateQuantization implements Regularization {
    private static final long serialVersionUID = 1L;

    @JsonProperty("updates")
    private GradientSpec updates = GradientSpec.FLOAT;
    @JsonProperty("master")
    private QuantSpec master = QuantSpec.FLOAT;
    @JsonProperty("clip")
    private double clip;
    @JsonProperty("layer")
    private int layer;
    @JsonProperty("stream")
    private int stream;

    private transient GradientQuantizer updateQ;
    private transient Quantizer masterQ;

    /** For JSON deserialization. */
    public WeightUpdateQuantization() {
    }

    /**
     * @param updates format of the update ΔW ({@code float}: untouched)
     * @param master  format the weights are stored in ({@code float}: float32 master weights)
     * @param clip    0 for none, else weights are clipped to [-clip, clip] after each update
     * @param layer   index of the layer (seeds and diagnostics)
     * @param stream  0 for the weights, 1 for the bias
     */
    public WeightUpdateQuantization(GradientSpec updates, QuantSpec master, double clip, int layer, int stream) {
        this.updates = Objects.requireNonNull(updates, "updates").requireAllowedFor("updates");
        this.master = Objects.requireNonNull(master, "master");
        GradientSpec.of(master);
        if (!(clip >= 0) || !Double.isFinite(clip)) {
            throw new IllegalArgumentException("weight clip must be 0 (none) or a positive number, got " + clip);
        }
        if (!master.isFloat() && master.granularity() != io.qat4j.layers.quant.Granularity.TENSOR) {
            throw new IllegalArgumentException("master weight format '" + master + "' must be per tensor");
        }
        this.clip = clip;
        this.layer = layer;
        this.stream = stream;
    }

    public GradientSpec updates() {
        return updates;
    }

    public QuantSpec master() {
        return master;
    }

    public double clip() {
        return clip;
    }

    /** True when the weights are rewritten here rather than updated by DL4J. */
    public boolean storesWeights() {
        return !master.isFloat() || clip > 0;
    }

    private void init() {
        if (updateQ == null && !updates.isFloat()) {
            updateQ = GradientQuantizer.of(updates, -1);
        }
        if (masterQ == null && !master.isFloat()) {
            masterQ = Quantizers.of(master);
        }
    }

    @Override
    public ApplyStep applyStep() {
        return ApplyStep.POST_UPDATER;
    }

    @Override
    public void apply(INDArray param, INDArray gradView, double lr, int iteration, int epoch) {
        init();
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray update = gradView;
            if (updateQ != null) {
                update = TrainingMonitor.quantize(updateQ, gradView, Seeds.of(layer, iteration, Seeds.UPDATES + stream),
                        lr, layer, TrainingMonitor.Path.UPDATES);
            }
            if (!storesWeights()) {
                if (update != gradView) {
                    gradView.assign(update);
                }
                return;
            }
            INDArray w = param.sub(update);
            if (!TrainingMonitor.isFinite(w)) {
                TrainingMonitor m = TrainingMonitor.current();
                if (m != null) {
                    m.overflow(layer, TrainingMonitor.Path.UPDATES, "non-finite weights after the update");
                }
                gradView.assign(update);
                return;
            }
            param.assign(store(w, iteration));
            gradView.assign(0);
        }
    }

    /** Clips and rounds weights to the stored format (a new array). */
    private INDArray store(INDArray w, long iteration) {
        if (clip > 0) {
            w = org.nd4j.linalg.ops.transforms.Transforms.min(org.nd4j.linalg.ops.transforms.Transforms.max(w, -clip,
                    false), clip, false);
        }
        if (masterQ != null) {
            w = masterQ.forward(w, new QuantContext(-1, null, null, Seeds.of(layer, iteration, Seeds.MASTER + stream),
                    true)).output();
        }
        return w;
    }

    /** Puts freshly initialized weights on the stored grid (no-op with float master weights and no clip). */
    public void snap(INDArray param) {
        init();
        if (!storesWeights()) {
            return;
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            param.assign(store(param.dup(), -1));
        }
    }

    @Override
    public double score(INDArray param, int iteration, int epoch) {
        return 0;
    }

    @Override
    public WeightUpdateQuantization clone() {
        return new WeightUpdateQuantization(updates, master, clip, layer, stream);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WeightUpdateQuantization u && u.updates.equals(updates) && u.master.equals(master)
                && u.clip == clip && u.layer == layer && u.stream == stream;
    }

    @Override
    public int hashCode() {
        return Objects.hash(updates, master, clip, layer, stream);
    }

    @Override
    public String toString() {
        return "WeightUpdateQuantization(updates " + updates + ", master " + master + ", clip " + clip + ", layer "
                + layer + ")";
    }
}
