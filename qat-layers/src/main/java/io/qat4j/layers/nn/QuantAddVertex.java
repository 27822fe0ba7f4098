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

/**
 * Quantized residual addition for a {@code ComputationGraph}: the quantized twin of DL4J's
 * {@code ElementWiseVertex(Add)}, for two or more inputs of equal shape. With spec {@code float} it
 * computes exactly what {@code ElementWiseVertex(Add)} computes.
 *
 * <p>Forward: the inputs share one grid, so integer hardware can add their codes directly. The
 * common range is the union of the inputs' ranges, {@code [min_i min(x_i), max_i max(x_i)]}, per tensor
 * and taken from the current batch (a vertex has no parameters to keep an observed range in); each
 * input is quantized with the scale and zero point of that range, {@code q_i = Q(x_i)}; the sum is
 * quantized again with the same scale and zero point, saturating (or as the spec's {@code overflow}
 * says): {@code y = Q(sum_i q_i)}. For {@code fixed(bits=N, dynamic=true)} the common scale is the
 * power of two that covers the union's largest magnitude; {@code fixed(m=.., n=..)} and minifloat
 * specs have a fixed grid anyway.
 *
 * <p>Backward: {@code dL/dx_i = STE_i(STE_sum(dL/dy))}, the spec's estimator at the sum and then at
 * each input (with the default clipped estimator: zero where the sum saturated).
 *
 * <p>Allowed specs: {@code float}, {@code int}, {@code fixed} and {@code minifloat}, per tensor,
 * without an observer.
 *
 * <p>Paper: integer residual additions with a shared scale, Jacob et al., arXiv:1712.05877.
 *
 * <pre>
 * graph.addVertex("add", new QuantAddVertex("int8"), "conv2", "shortcut")
 * </pre>
 */
public class QuantAddVertex extends GraphVertex {
    private static final long serialVersionUID = 1L;

    @JsonProperty("spec")
    private QuantSpec spec = QuantSpec.FLOAT;

    /** For JSON deserialization: float. */
    public QuantAddVertex() {
    }

    /** Parses the spec string, e.g. {@code int8} or {@code fixed(bits=8, dynamic=true)}. */
    public QuantAddVertex(String spec) {
        this(QuantSpec.parse(spec));
    }

    /**
     * @throws IllegalArgumentException for a null spec, a kind other than float/int/fixed/minifloat,
     *     a per-channel or grouped spec, or a spec with an observer
     */
    public QuantAddVertex(QuantSpec spec) {
        validate(spec);
        this.spec = spec;
    }

    /** Checks that a spec can quantize a residual addition (see the class comment). */
    public static void validate(QuantSpec spec) {
        if (spec == null) {
            throw new IllegalArgumentException("spec must not be null (use float for no quantization)");
        }
        QuantKind k = spec.kind();
        if (k != QuantKind.FLOAT && k != QuantKind.INT && k != QuantKind.FIXED && k != QuantKind.MINIFLOAT) {
            throw new IllegalArgumentException("QuantAddVertex spec '" + spec + "' has kind " + k.specName()
                    + "; allowed: float, int, fixed, minifloat (a shared grid for all inputs)");
        }
        if (spec.granularity() != Granularity.TENSOR) {
            throw new IllegalArgumentException("QuantAddVertex spec '" + spec + "' is " + spec.granularity()
                    + "-wise; allowed: per tensor (axis=tensor)");
        }
        if (spec.needsObserver()) {
            throw new IllegalArgumentException("QuantAddVertex spec '" + spec + "' needs an observer, but a vertex has "
                    + "no parameters to keep it in; drop the observer (the range is taken from each batch)");
        }
    }

    public QuantSpec getSpec() {
        return spec;
    }

    @Override
    public QuantAddVertex clone() {
        return new QuantAddVertex(spec);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantAddVertex v && spec.equals(v.spec);
    }

    @Override
    public int hashCode() {
        return 31 * QuantAddVertex.class.hashCode() + spec.hashCode();
    }

    @Override
    public String toString() {
        return "QuantAddVertex(" + spec + ")";
    }

    @Override
    public long numParams(boolean backprop) {
        return 0;
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
        return new QuantAddVertexImpl(graph, name, idx, spec, networkDatatype);
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
                .standardMemory(0, 0).workingMemory(0, 0, 0, 0).cacheMemory(0, 0).build();
    }
}
