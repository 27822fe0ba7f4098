package io.qat4j.layers.nn.impl;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.BaseGraphVertex;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Runtime of {@link io.qat4j.layers.nn.ChannelPadVertex}: zero channels around an NCHW activation. */
public class ChannelPadVertexImpl extends BaseGraphVertex {
    private final int before;
    private final int after;
    private long channels;

    public ChannelPadVertexImpl(ComputationGraph graph, String name, int vertexIndex, int before, int after,
                                DataType dataType) {
        super(graph, name, vertexIndex, null, null, dataType);
        this.before = before;
        this.after = after;
    }

    @Override
    public boolean hasLayer() {
        return false;
    }

    @Override
    public Layer getLayer() {
        return null;
    }

    @Override
    public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
        if (!canDoForward()) {
            throw new IllegalStateException("ChannelPadVertex " + vertexName + ": input not set");
        }
        INDArray x = inputs[0];
        if (x.rank() != 4) {
            throw new IllegalArgumentException("ChannelPadVertex " + vertexName + " needs NCHW input (rank 4), got shape "
                    + java.util.Arrays.toString(x.shape()));
        }
        channels = x.size(1);
        INDArray y = workspaceMgr.create(ArrayType.ACTIVATIONS, x.dataType(),
                x.size(0), channels + before + after, x.size(2), x.size(3));
        y.get(NDArrayIndex.all(), NDArrayIndex.interval(before, before + channels), NDArrayIndex.all(),
                NDArrayIndex.all()).assign(x);
        return y;
    }

    @Override
    public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
        if (!canDoBackward()) {
            throw new IllegalStateException("ChannelPadVertex " + vertexName + ": epsilon not set");
        }
        INDArray dx = epsilon.get(NDArrayIndex.all(), NDArrayIndex.interval(before, before + channels),
                NDArrayIndex.all(), NDArrayIndex.all());
        return new Pair<>(null, new INDArray[] {workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, dx)});
    }

    @Override
    public void setBackpropGradientsViewArray(INDArray backpropGradientsViewArray) {
        if (backpropGradientsViewArray != null) {
            throw new IllegalStateException("ChannelPadVertex has no parameters");
        }
    }

    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArrays(INDArray[] maskArrays, MaskState currentMaskState,
                                                           int minibatchSize) {
        return new Pair<>(maskArrays == null ? null : maskArrays[0], currentMaskState);
    }

    @Override
    public String toString() {
        return "ChannelPadVertex(id=" + vertexIndex + ",name=\"" + vertexName + "\",before=" + before + ",after="
                + after + ")";
    }
}
