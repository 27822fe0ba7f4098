package io.qat4j.layers.activations;

import io.qat4j.layers.quant.GroupLayout;
import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizer;
import io.qat4j.layers.quant.Quantizers;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Arrays;
import java.util.Objects;

/**
 * A parameter-free quantized activation function for any stock DL4J layer:
 * {@code .activation(ActivationQuant.relu6(4))}.
 *
 * <p>Forward: {@code y = Q(base(x))} with base one of identity, ReLU, ReLU6 ({@code min(max(x, 0), 6)}) or
 * hard tanh ({@code min(max(x, -1), 1)}). For the bounded bases (ReLU6, hard tanh) the quantizer gets
 * the base's fixed range ([0, 6] or [-1, 1]) as its range, so the grid is the same for every batch; for
 * identity and ReLU an integer spec derives its range from each batch (per tensor, or per channel along
 * axis 1 with {@code axis=channel}). Specs with an observer, and learned specs (pact, lsq, qil), are
 * rejected: an activation function keeps no state; use the {@code QuantActivation} layer, which keeps the
 * observed range or the learned parameters in its parameters.
 *
 * <p>Backward: {@code dL/dx = base'(x) · STE(dL/dy)}, where base' is 1 for identity, {@code x > 0} for
 * ReLU, {@code 0 < x < 6} for ReLU6 and {@code |x| <= 1} for hard tanh, and STE is the spec's gradient
 * estimator evaluated at {@code base(x)}. The backward pass recomputes the forward quantization (the
 * function is stateless); with stochastic rounding it uses seed 0.
 *
 * <p>Papers: straight-through estimator, Bengio et al., arXiv:1308.3432; DoReFa-Net, Zhou et al.,
 * arXiv:1606.06160; BNN, Hubara et al., arXiv:1602.02830 ({@link #sign()}).
 *
 * <p>Example: {@code new ActivationQuant(Base.RELU6, QuantSpec.parse("uint4"))}, which is {@code relu6(4)}.
 */
public final class ActivationQuant implements IActivation {
    private static final long serialVersionUID = 1L;

    /** The float activation applied before quantizing. */
    public enum Base {
        /** {@code y = x}. */
        IDENTITY,
        /** {@code y = max(x, 0)}. */
        RELU,
        /** {@code y = min(max(x, 0), 6)}, fixed range [0, 6]. */
        RELU6,
        /** {@code y = min(max(x, -1), 1)}, fixed range [-1, 1]. */
        HARDTANH
    }

    @JsonProperty("base")
    private Base base = Base.IDENTITY;
    @JsonProperty("spec")
    private QuantSpec spec = QuantSpec.FLOAT;

    private transient Quantizer quantizer;

    /** For JSON deserialization: identity, float. */
    public ActivationQuant() {
    }

    /**
     * @throws IllegalArgumentException if base or spec is null, or the spec needs an observer or is learned
     */
    public ActivationQuant(Base base, QuantSpec spec) {
        if (base == null) {
            throw new IllegalArgumentException("base must not be null; allowed: " + Arrays.toString(Base.values()));
        }
        if (spec == null) {
            throw new IllegalArgumentException("spec must not be null (use QuantSpec.FLOAT for no quantization)");
        }
        if (spec.isLearned()) {
            throw new IllegalArgumentException("spec '" + spec + "' is a learned quantizer, but an activation function "
                    + "has no trainable parameters; use the QuantActivation layer (io.qat4j.layers.nn.QuantActivation) "
                    + "or a quantized layer's output site, which keep them");
        }
        if (spec.needsObserver()) {
            throw new IllegalArgumentException("spec '" + spec + "' needs an observer, but an activation function keeps "
                    + "no state; use the QuantActivation layer (io.qat4j.layers.nn.QuantActivation), which keeps the "
                    + "observed range in its parameters, or drop the observer");
        }
        this.base = base;
        this.spec = spec;
    }

    /** ReLU then {@code spec}, e.g. {@code relu("uint4")} (range from each batch). */
    public static ActivationQuant relu(String spec) {
        return new ActivationQuant(Base.RELU, QuantSpec.parse(spec));
    }

    /** ReLU6 then an unsigned {@code bits}-bit uniform grid over [0, 6] (step 6 / (2^bits - 1)). */
    public static ActivationQuant relu6(int bits) {
        if (bits < 1 || bits > 16) {
            throw new IllegalArgumentException("relu6 bits must be in 1..16, got " + bits);
        }
        return new ActivationQuant(Base.RELU6, QuantSpec.parse("int(bits=" + bits + ", signed=false)"));
    }

    /** Hard tanh then {@code spec}, on the fixed range [-1, 1], e.g. {@code hardTanh("int4")}. */
    public static ActivationQuant hardTanh(String spec) {
        return new ActivationQuant(Base.HARDTANH, QuantSpec.parse(spec));
    }

    /** DoReFa-Net activations: {@code dorefa_a(bits=k)}, i.e. round((2^k - 1) clip(x, 0, 1)) / (2^k - 1). */
    public static ActivationQuant dorefa(int bits) {
        return new ActivationQuant(Base.IDENTITY, QuantSpec.parse("dorefa_a(bits=" + bits + ")"));
    }

    /** BNN activations: {@code sign(x)} (sign(0) = +1), gradient the hard tanh STE (1 for |x| &lt;= 1). */
    public static ActivationQuant sign() {
        return new ActivationQuant(Base.HARDTANH, QuantSpec.parse("binary"));
    }

    public Base getBase() {
        return base;
    }

    public QuantSpec getSpec() {
        return spec;
    }

    private Quantizer quantizer() {
        if (quantizer == null && !spec.isFloat()) {
            quantizer = Quantizers.of(spec);
        }
        return quantizer;
    }

    @Override
    public INDArray getActivation(INDArray in, boolean training) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            double[] x = NdArrays.read(in);
            INDArray b = NdArrays.create(applyBase(x), in.shape(), in.dataType());
            INDArray y = spec.isFloat() ? b : quantize(b, training).output();
            in.assign(y);
        }
        return in;
    }

    @Override
    public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
        if (!Arrays.equals(in.shape(), epsilon.shape())) {
            throw new IllegalArgumentException("input shape " + Arrays.toString(in.shape())
                    + " and epsilon shape " + Arrays.toString(epsilon.shape()) + " differ");
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            double[] x = NdArrays.read(in);
            INDArray eps = epsilon.isAttached() ? epsilon.detach() : epsilon;
            INDArray g = eps;
            if (!spec.isFloat()) {
                INDArray b = NdArrays.create(applyBase(x), in.shape(), in.dataType());
                g = quantizer().backward(b, eps, quantize(b, true));
            }
            double[] gd = NdArrays.read(g);
            for (int i = 0; i < x.length; i++) {
                gd[i] = baseDerivative(x[i]) * gd[i];
            }
            in.assign(NdArrays.create(gd, in.shape(), in.dataType()));
        }
        return new Pair<>(in, null);
    }

    /** Quantizes base(x), giving the quantizer the base's fixed range when it has one. */
    private QuantResult quantize(INDArray b, boolean training) {
        int channelAxis = b.rank() >= 2 ? 1 : -1;
        QuantContext ctx = new QuantContext(channelAxis, null, null, 0L, training);
        double[] range = switch (base) {
            case RELU6 -> new double[] {0, 6};
            case HARDTANH -> new double[] {-1, 1};
            case IDENTITY, RELU -> null;
        };
        if (range != null) {
            int groups = GroupLayout.of(spec, b.shape(), ctx).count();
            ctx = ctx.withRange(Nd4j.valueArrayOf(new long[] {groups}, range[0], b.dataType()),
                    Nd4j.valueArrayOf(new long[] {groups}, range[1], b.dataType()));
        }
        return quantizer().forward(b, ctx);
    }

    private double[] applyBase(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double v = x[i];
            y[i] = switch (base) {
                case IDENTITY -> v;
                case RELU -> v > 0 ? v : 0;
                case RELU6 -> Math.min(Math.max(v, 0), 6);
                case HARDTANH -> Math.min(Math.max(v, -1), 1);
            };
        }
        return y;
    }

    private double baseDerivative(double v) {
        return switch (base) {
            case IDENTITY -> 1;
            case RELU -> v > 0 ? 1 : 0;
            case RELU6 -> v > 0 && v < 6 ? 1 : 0;
            case HARDTANH -> Math.abs(v) <= 1 ? 1 : 0;
        };
    }

    @Override
    public int numParams(int inputSize) {
        return 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ActivationQuant a && base == a.base && spec.equals(a.spec);
    }

    @Override
    public int hashCode() {
        return Objects.hash(base, spec);
    }

    @Override
    public String toString() {
        return "quant(" + base.name().toLowerCase(java.util.Locale.ROOT) + ", " + spec + ")";
    }
}
