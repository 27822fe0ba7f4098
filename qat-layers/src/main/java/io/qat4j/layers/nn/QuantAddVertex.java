package io.qat4j.layers.nn;

import io.qat4j.layers.nn.impl.QuantAddVertexImpl;
import io.qat4j.layers.quant.Granularity;
import io.qat4j.layers.quant.QuantKind;
import io.qat4j.layers.quant.QuantSpec;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Objects;

/**
 * Quantized residual addition for a {@code ComputationGraph}: the quantized twin of DL4J's
 * {@code ElementWiseVertex(Add)} (optionally fused with the ReLU that follows it), for two or more inputs
 * of equal shape. With spec {@code float} and no activation it computes exactly what
 * {@code ElementWiseVertex(Add)} computes.
 *
 * <p>Forward: {@code y = Q(act(sum_i x_i))}, act the identity or ReLU. The inputs are not quantized again:
 * they come from quantized layers (TFLite's ADD does the same), so integer hardware adds their codes after
 * rescaling them to a common scale. The output quantizer Q takes its range from its observer when the
 * spec has one ({@code int(bits=8, signed=false, observer=ema)}): the observer state is the vertex's
 * parameter {@code qout} (no-op updater, saved with the model), updated in training, read at inference,
 * so the vertex has a fixed integer form (the exporter's {@code add} op). Without an observer an
 * {@code int} spec takes its range from each batch (not exportable); {@code fixed(m=.., n=..)},
 * {@code fixed(bits=N, dynamic=true)} and minifloat specs have their own grid.
 *
 * <p>Backward: {@code dL/dx_i = act'(s) · STE(dL/dy)}, {@code s = sum_i x_i}, with the spec's estimator
 * (default clipped: zero where the output saturated) and ReLU's derivative (zero where {@code s <= 0}).
 *
 * <p>Allowed specs: {@code float}, {@code int}, {@code fixed} and {@code minifloat}, per tensor, with or
 * without an observer; no learned quantizers (a vertex trains no parameters).
 *
 * <p>Paper: integer residual additions, Jacob et al., arXiv:1712.05877, §2.4 and appendix A.
 *
 * <pre>
 * graph.addVertex("add", new QuantAddVertex("int(bits=8, signed=false, observer=ema)", QuantAddVertex.Act.RELU),
 *     "conv2", "shortcut")
 * </pre>
 */
public class QuantAddVertex extends GraphVertex {
    private static final long serialVersionUID = 1L;

    /** Parameter key of the output observer's state. */
    public static final String STATE_KEY = QuantParamInitializer.OUTPUT_STATE_KEY;

    /** The activation applied to the sum before the output quantization. */
    public enum Act {
        /** No activation: {@code y = Q(s)}. */
        IDENTITY,
        /** ReLU: {@code y = Q(max(s, 0))}. */
        RELU
    }

    @JsonProperty("spec")
    private QuantSpec spec = QuantSpec.FLOAT;
    @JsonProperty("activation")
    private Act activation = Act.IDENTITY;

    /** For JSON deserialization: float, identity. */
    public QuantAddVertex() {
    }

    /** Parses the spec string, e.g. {@code int(bits=8, signed=false, observer=ema)}; no activation. */
    public QuantAddVertex(String spec) {
        this(QuantSpec.parse(spec), Act.IDENTITY);
    }

    /** Parses the spec string; {@code activation} before the output quantization. */
    public QuantAddVertex(String spec, Act activation) {
        this(QuantSpec.parse(spec), activation);
    }

    /** The spec, no activation. */
    public QuantAddVertex(QuantSpec spec) {
        this(spec, Act.IDENTITY);
    }

    /**
     * @throws IllegalArgumentException for a null spec or activation, a kind other than
     *     float/int/fixed/minifloat, or a per-channel or grouped spec
     */
    public QuantAddVertex(QuantSpec spec, Act activation) {
        validate(spec);
        if (activation == null) {
            throw new IllegalArgumentException("QuantAddVertex activation must not be null; allowed: "
                    + java.util.Arrays.toString(Act.values()));
        }
        this.spec = spec;
        this.activation = activation;
    }

    /** Checks that a spec can quantize a residual addition (see the class comment). */
    public static void validate(QuantSpec spec) {
        if (spec == null) {
            throw new IllegalArgumentException("spec must not be null (use float for no quantization)");
        }
        QuantKind k = spec.kind();
        if (k != QuantKind.FLOAT && k != QuantKind.INT && k != QuantKind.FIXED && k != QuantKind.MINIFLOAT) {
            throw new IllegalArgumentException("QuantAddVertex spec '" + spec + "' has kind " + k.specName()
                    + "; allowed: float, int, fixed, minifloat (one grid for the whole sum)");
        }
        if (spec.granularity() != Granularity.TENSOR) {
            throw new IllegalArgumentException("QuantAddVertex spec '" + spec + "' is " + spec.granularity()
                    + "-wise; allowed: per tensor (axis=tensor)");
        }
    }

    public QuantSpec getSpec() {
        return spec;
    }

    public Act getActivation() {
        return activation;
    }

    /** Length of the observer state parameter ({@code 0} without an observer). */
    public long stateSize() {
        return QuantParamInitializer.stateSize(spec, 1);
    }

    @Override
    public QuantAddVertex clone() {
        return new QuantAddVertex(spec, activation);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantAddVertex v && spec.equals(v.spec) && activation == v.activation;
    }

    @Override
    public int hashCode() {
        return Objects.hash(QuantAddVertex.class, spec, activation);
    }

    @Override
    public String toString() {
        return "QuantAddVertex(" + spec + (activation == Act.IDENTITY ? "" : ", " + activation) + ")";
    }

    @Override
    public long numParams(boolean backprop) {
        return stateSize();
    }

    @Override
    public int minVertexInputs() {
        return 2;
    }

    @Override
    public int maxVertexInputs() {
        return Integer.MAX_VALUE;
    }

    @Override
    public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(ComputationGraph graph, String name, int idx,
                                                                      INDArray paramsView, boolean initializeParams,
                                                                      DataType networkDatatype) {
        validate(spec);
        INDArray state = null;
        if (stateSize() > 0) {
            if (paramsView == null || paramsView.length() != stateSize()) {
                throw new IllegalStateException("QuantAddVertex " + name + ": expected a parameter view of length "
                        + stateSize() + " for the observer state, got " + (paramsView == null ? "none"
                        : paramsView.length()));
            }
            state = paramsView.reshape(paramsView.length());
            if (initializeParams) {
                state.assign(0);
            }
        }
        return new QuantAddVertexImpl(graph, name, idx, null, null, spec, activation, state, networkDatatype);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... vertexInputs) throws InvalidInputTypeException {
        for (int i = 1; i < vertexInputs.length; i++) {
            if (!vertexInputs[i].equals(vertexInputs[0])) {
                throw new InvalidInputTypeException("QuantAddVertex needs inputs of equal type and shape: input 0 is "
                        + vertexInputs[0] + ", input " + i + " is " + vertexInputs[i]);
            }
        }
        return vertexInputs[0];
    }

    @Override
    public MemoryReport getMemoryReport(InputType... inputTypes) {
        return new LayerMemoryReport.Builder(null, QuantAddVertex.class, inputTypes[0], inputTypes[0])
                .standardMemory(stateSize(), 0).workingMemory(0, 0, 0, 0).cacheMemory(0, 0).build();
    }
}
