package io.qat4j.layers.nn.impl;

import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizer;
import io.qat4j.layers.quant.Quantizers;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.BaseGraphVertex;
import org.deeplearning4j.nn.graph.vertex.VertexIndices;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.bool.Or;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * Runtime of {@link io.qat4j.layers.nn.QuantAddVertex}: quantizes the inputs on their common grid,
 * adds them and quantizes the sum on the same grid. The float path is DL4J's
 * {@code ElementWiseVertex(Add)} without broadcasting.
 */
public class QuantAddVertexImpl extends BaseGraphVertex {
    private final QuantSpec spec;
    private final Quantizer quantizer;

    private INDArray[] lastInputs;
    private QuantResult[] lastInputResults;
    private INDArray lastSum;
    private QuantResult lastSumResult;
    private int nInForwardPass;

    public QuantAddVertexImpl(ComputationGraph graph, String name, int vertexIndex, QuantSpec spec, DataType dataType) {
        this(graph, name, vertexIndex, null, null, spec, dataType);
    }

    public QuantAddVertexImpl(ComputationGraph graph, String name, int vertexIndex, VertexIndices[] inputVertices,
                              VertexIndices[] outputVertices, QuantSpec spec, DataType dataType) {
        super(graph, name, vertexIndex, inputVertices, outputVertices, dataType);
        this.spec = spec;
        this.quantizer = spec.isFloat() ? null : Quantizers.of(spec);
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
            throw new IllegalStateException("Cannot do forward pass: inputs not set");
        }
        nInForwardPass = inputs.length;
        if (inputs.length == 1) {
            return workspaceMgr.dup(ArrayType.ACTIVATIONS, inputs[0]);
        }
        for (int i = 1; i < inputs.length; i++) {
            if (!inputs[0].equalShapes(inputs[i])) {
                throw new IllegalArgumentException("QuantAddVertex " + vertexName + " needs inputs of equal shape: input 0 "
                        + Arrays.toString(inputs[0].shape()) + ", input " + i + " " + Arrays.toString(inputs[i].shape()));
            }
        }
        if (quantizer == null) {
            INDArray sum = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, dataType, inputs[0].shape());
            sum.assign(inputs[0]);
            for (int i = 1; i < inputs.length; i++) {
                sum.addi(inputs[i].castTo(dataType));
            }
            return sum;
        }
        INDArray out;
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            lastInputs = new INDArray[inputs.length];
            lastInputResults = new QuantResult[inputs.length];
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < inputs.length; i++) {
                lastInputs[i] = inputs[i].castTo(dataType).dup();
                min = Math.min(min, lastInputs[i].minNumber().doubleValue());
                max = Math.max(max, lastInputs[i].maxNumber().doubleValue());
            }
            int iteration = graph == null ? 0 : graph.getConfiguration().getIterationCount();
            long seed = SiteRuntime.seed(vertexIndex, iteration, 0);
            QuantContext ctx = new QuantContext(-1, Nd4j.scalar(dataType, min).reshape(1),
                    Nd4j.scalar(dataType, max).reshape(1), seed, training);
            INDArray sum = null;
            for (int i = 0; i < lastInputs.length; i++) {
                lastInputResults[i] = quantizer.forward(lastInputs[i], ctx.withSeed(seed + i + 1));
                sum = sum == null ? lastInputResults[i].output().dup() : sum.addi(lastInputResults[i].output());
            }
            lastSum = sum;
            lastSumResult = quantizer.forward(sum, ctx);
            out = lastSumResult.output();
        }
        return workspaceMgr.dup(ArrayType.ACTIVATIONS, out);
    }

    @Override
    public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
        if (!canDoBackward()) {
            throw new IllegalStateException("Cannot do backward pass: errors not set");
        }
        INDArray[] out = new INDArray[nInForwardPass];
        if (quantizer == null || nInForwardPass == 1) {
            for (int i = 0; i < nInForwardPass; i++) {
                out[i] = workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, epsilon);
            }
            return new Pair<>(null, out);
        }
        if (lastSumResult == null) {
            throw new IllegalStateException("QuantAddVertex " + vertexName + ": backward pass without a forward pass");
        }
        INDArray[] g = new INDArray[nInForwardPass];
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray eps = epsilon.detach().castTo(dataType);
            INDArray gSum = quantizer.backward(lastSum, eps, lastSumResult);
            for (int i = 0; i < nInForwardPass; i++) {
                g[i] = quantizer.backward(lastInputs[i], gSum, lastInputResults[i]);
            }
        }
        for (int i = 0; i < nInForwardPass; i++) {
            out[i] = workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, g[i]);
        }
        return new Pair<>(null, out);
    }

    @Override
    public void setBackpropGradientsViewArray(INDArray backpropGradientsViewArray) {
        if (backpropGradientsViewArray != null) {
            throw new IllegalStateException("QuantAddVertex has no parameters; gradients view array cannot be set");
        }
    }

    /** As DL4J's ElementWiseVertex: no mask if any input has none, else the OR of the masks. */
    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArrays(INDArray[] maskArrays, MaskState currentMaskState,
                                                           int minibatchSize) {
        if (maskArrays == null) {
            return new Pair<>(null, currentMaskState);
        }
        for (INDArray arr : maskArrays) {
            if (arr == null) {
                return new Pair<>(null, currentMaskState);
            }
        }
        if (maskArrays.length == 1) {
            return new Pair<>(maskArrays[0], currentMaskState);
        }
        INDArray ret = Nd4j.createUninitialized(DataType.BOOL, maskArrays[0].shape());
        Nd4j.getExecutioner().exec(new Or(maskArrays[0].castTo(DataType.BOOL), maskArrays[1].castTo(DataType.BOOL), ret));
        for (int i = 2; i < maskArrays.length; i++) {
            Nd4j.getExecutioner().exec(new Or(maskArrays[i].castTo(DataType.BOOL), ret, ret));
        }
        return new Pair<>(ret.castTo(Nd4j.defaultFloatingPointType()), currentMaskState);
    }

    @Override
    public String toString() {
        return "QuantAddVertex(id=" + vertexIndex + ",name=\"" + vertexName + "\",spec=" + spec + ")";
    }
}
