package io.qat4j.layers.nn.impl;

import io.qat4j.layers.nn.QuantAddVertex;
import io.qat4j.layers.observe.Observer;
import io.qat4j.layers.observe.Observers;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantResult;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizer;
import io.qat4j.layers.quant.Quantizers;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.api.TrainingConfig;
import org.deeplearning4j.nn.conf.GradientNormalization;
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
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Runtime of {@link QuantAddVertex}: adds the inputs, applies the activation and fake-quantizes the result
 * with the output spec, whose observer state is this vertex's only parameter ({@code qout}, a no-op updater,
 * no regularization, zero gradient). The float identity path is DL4J's {@code ElementWiseVertex(Add)}
 * without broadcasting.
 */
public class QuantAddVertexImpl extends BaseGraphVertex {
    private final QuantSpec spec;
    private final QuantAddVertex.Act activation;
    private final Quantizer quantizer;
    private final Observer observer;
    private final INDArray state;
    private INDArray gradientView;

    /** What the last training forward pass left for the backward pass (outside workspaces). */
    private INDArray lastSum;
    private INDArray lastActivated;
    private QuantResult lastResult;
    private int nInForwardPass;

    /**
     * @param state the observer state view ({@link QuantAddVertex#stateSize()} values), or null without an observer
     */
    public QuantAddVertexImpl(ComputationGraph graph, String name, int vertexIndex, VertexIndices[] inputVertices,
                              VertexIndices[] outputVertices, QuantSpec spec, QuantAddVertex.Act activation,
                              INDArray state, DataType dataType) {
        super(graph, name, vertexIndex, inputVertices, outputVertices, dataType);
        this.spec = spec;
        this.activation = activation;
        this.quantizer = spec.isFloat() ? null : Quantizers.of(spec);
        this.observer = spec.isFloat() || !spec.needsObserver() ? null : Observers.of(spec.observer());
        if ((observer == null) != (state == null)) {
            throw new IllegalArgumentException("QuantAddVertex " + name + ": spec '" + spec + "' needs "
                    + (observer == null ? "no observer state" : "an observer state parameter"));
        }
        this.state = state;
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
        for (int i = 1; i < inputs.length; i++) {
            if (!inputs[0].equalShapes(inputs[i])) {
                throw new IllegalArgumentException("QuantAddVertex " + vertexName + " needs inputs of equal shape: input 0 "
                        + Arrays.toString(inputs[0].shape()) + ", input " + i + " " + Arrays.toString(inputs[i].shape()));
            }
        }
        if (quantizer == null && activation == QuantAddVertex.Act.IDENTITY) {
            if (inputs.length == 1) {
                return workspaceMgr.dup(ArrayType.ACTIVATIONS, inputs[0]);
            }
            INDArray sum = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, dataType, inputs[0].shape());
            sum.assign(inputs[0]);
            for (int i = 1; i < inputs.length; i++) {
                sum.addi(inputs[i].castTo(dataType));
            }
            return sum;
        }
        INDArray out;
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray sum = inputs[0].castTo(dataType).dup();
            for (int i = 1; i < inputs.length; i++) {
                sum.addi(inputs[i].castTo(dataType));
            }
            INDArray act = activation == QuantAddVertex.Act.RELU ? Transforms.relu(sum, true) : sum;
            QuantResult result = null;
            out = act;
            if (quantizer != null) {
                int iteration = graph == null ? 0 : graph.getConfiguration().getIterationCount();
                QuantContext ctx = new QuantContext(-1, null, null, SiteRuntime.seed(vertexIndex, iteration, 0), training);
                if (observer != null) {
                    if (training) {
                        observer.update(state, act, -1);
                    }
                    if (observer.updates(state) > 0) {
                        ctx = ctx.withRange(observer.min(state), observer.max(state));
                    }
                }
                result = quantizer.forward(act, ctx);
                out = result.output();
            }
            if (training) {
                lastSum = sum;
                lastActivated = act;
                lastResult = result;
            } else {
                clearPass();
            }
        }
        return workspaceMgr.dup(ArrayType.ACTIVATIONS, out);
    }

    @Override
    public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
        if (!canDoBackward()) {
            throw new IllegalStateException("Cannot do backward pass: errors not set");
        }
        INDArray[] out = new INDArray[nInForwardPass];
        if (quantizer == null && activation == QuantAddVertex.Act.IDENTITY) {
            for (int i = 0; i < nInForwardPass; i++) {
                out[i] = workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, epsilon);
            }
            return new Pair<>(null, out);
        }
        if (lastSum == null) {
            throw new IllegalStateException("QuantAddVertex " + vertexName + ": backward pass without a training forward "
                    + "pass");
        }
        INDArray g;
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            g = epsilon.detach().castTo(dataType);
            if (quantizer != null) {
                g = quantizer.backward(lastActivated, g, lastResult);
            }
            if (activation == QuantAddVertex.Act.RELU) {
                g = g.mul(lastSum.gt(0).castTo(dataType));
            }
        }
        for (int i = 0; i < nInForwardPass; i++) {
            out[i] = workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, g);
        }
        clearPass();
        return new Pair<>(null, out);
    }

    private void clearPass() {
        lastSum = null;
        lastActivated = null;
        lastResult = null;
    }

    // ------------------------------------------------------------------ the observer state parameter

    @Override
    public INDArray params() {
        return state;
    }

    @Override
    public Map<String, INDArray> paramTable(boolean backpropOnly) {
        return state == null ? Collections.emptyMap() : Collections.singletonMap(QuantAddVertex.STATE_KEY, state);
    }

    @Override
    public INDArray getGradientsViewArray() {
        return gradientView;
    }

    @Override
    public void setBackpropGradientsViewArray(INDArray view) {
        if (view != null && (state == null || view.length() != state.length())) {
            throw new IllegalStateException("QuantAddVertex " + vertexName + " has " + (state == null ? 0 : state.length())
                    + " parameters; a gradient view of length " + view.length() + " cannot be set");
        }
        this.gradientView = view;
    }

    @Override
    public boolean updaterDivideByMinibatch(String paramName) {
        return false;
    }

    @Override
    public TrainingConfig getConfig() {
        return state == null ? null : new StateConfig(vertexName);
    }

    /** The training configuration of a parameter that is state: no-op updater, no regularization. */
    private record StateConfig(String name) implements TrainingConfig {
        @Override
        public String getLayerName() {
            return name;
        }

        @Override
        public List<Regularization> getRegularizationByParam(String paramName) {
            return List.of();
        }

        @Override
        public boolean isPretrainParam(String paramName) {
            return false;
        }

        @Override
        public IUpdater getUpdaterByParam(String paramName) {
            return new NoOp();
        }

        @Override
        public GradientNormalization getGradientNormalization() {
            return GradientNormalization.None;
        }

        @Override
        public double getGradientNormalizationThreshold() {
            return 1.0;
        }

        @Override
        public void setDataType(DataType dataType) {
            // the state keeps the network's data type
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
        return "QuantAddVertex(id=" + vertexIndex + ",name=\"" + vertexName + "\",spec=" + spec + ",activation="
                + activation + ")";
    }
}
