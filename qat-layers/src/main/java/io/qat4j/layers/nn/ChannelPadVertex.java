package io.qat4j.layers.nn;

import io.qat4j.layers.nn.impl.ChannelPadVertexImpl;
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
 * Zero channels added before and after the channels of an NCHW activation: the identity shortcut of a
 * residual block that widens the network, ResNet's "option A" (He et al., 1512.03385, §4.2; the
 * spatial stride of that shortcut is a 1x1 max pooling with stride 2 before this vertex).
 *
 * <p>Forward: {@code y[:, c] = x[:, c − before]} for {@code before ≤ c < before + C}, else 0. Backward:
 * {@code dx = dy[:, before : before + C]}. No parameters; quantized codes pass unchanged (the padded
 * channels hold the real value 0, the zero point in integer form; {@code pad_channels} in the export).
 *
 * <pre>
 * graph.addVertex("s2b1_pad", new ChannelPadVertex(8, 8), "s2b1_down")
 * </pre>
 */
public class ChannelPadVertex extends GraphVertex {
    private static final long serialVersionUID = 1L;

    @JsonProperty("before")
    private final int before;
    @JsonProperty("after")
    private final int after;

    /**
     * @throws IllegalArgumentException for negative counts
     */
    public ChannelPadVertex(@JsonProperty("before") int before, @JsonProperty("after") int after) {
        if (before < 0 || after < 0) {
            throw new IllegalArgumentException("channel padding [" + before + ", " + after + "] is not allowed; "
                    + "allowed: two counts >= 0");
        }
        this.before = before;
        this.after = after;
    }

    public int getBefore() {
        return before;
    }

    public int getAfter() {
        return after;
    }

    @Override
    public ChannelPadVertex clone() {
        return new ChannelPadVertex(before, after);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChannelPadVertex v && v.before == before && v.after == after;
    }

    @Override
    public int hashCode() {
        return 31 * before + after + 7;
    }

    @Override
    public String toString() {
        return "ChannelPadVertex(" + before + ", " + after + ")";
    }

    @Override
    public long numParams(boolean backprop) {
        return 0;
    }

    @Override
    public int minVertexInputs() {
        return 1;
    }

    @Override
    public int maxVertexInputs() {
        return 1;
    }

    @Override
    public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(ComputationGraph graph, String name, int idx,
                                                                      INDArray paramsView, boolean initializeParams,
                                                                      DataType networkDatatype) {
        return new ChannelPadVertexImpl(graph, name, idx, before, after, networkDatatype);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... vertexInputs) throws InvalidInputTypeException {
        if (vertexInputs.length != 1 || !(vertexInputs[0] instanceof InputType.InputTypeConvolutional c)) {
            throw new InvalidInputTypeException("ChannelPadVertex needs one convolutional (NCHW) input, got "
                    + java.util.Arrays.toString(vertexInputs));
        }
        return InputType.convolutional(c.getHeight(), c.getWidth(), c.getChannels() + before + after);
    }

    @Override
    public MemoryReport getMemoryReport(InputType... inputTypes) {
        InputType out = getOutputType(-1, inputTypes);
        return new LayerMemoryReport.Builder(null, ChannelPadVertex.class, inputTypes[0], out).standardMemory(0, 0)
                .workingMemory(0, 0, 0, 0).cacheMemory(0, 0).build();
    }
}
