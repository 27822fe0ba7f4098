package io.qat4j.layers.nn.impl;

import io.qat4j.layers.fold.BatchNormFold;
import io.qat4j.layers.nn.FusedBatchNorm;
import io.qat4j.layers.nn.FusedBnParamInitializer;
import io.qat4j.layers.nn.QuantLayer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastSubOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.stream.IntStream;

/**
 * What the layers with folded batch normalization share ({@link QuantConvBN2DImpl},
 * {@link QuantDenseBNImpl}): the fold, the two statistics modes, the running-statistics update and the
 * backward pass; subclasses supply the linear operation (convolution or matrix product) and its
 * backward. The formulas are in {@link io.qat4j.layers.nn.QuantConvBN2D}.
 *
 * <p>Notation of the code, per output channel (axis 1 of the output): {@code s = sqrt(σ²_run + ε)},
 * {@code g = γ / s}, {@code W_q = Q_w(g · W)}, {@code x} the (quantized) input, {@code G = dL/dy} at the
 * normalized output. Frozen: {@code y = lin(x, W_q) + β + g (b − μ_run)}. Batch statistics:
 * {@code z = lin(x, W)}, {@code μ0 = mean z}, {@code S = sqrt(var z + ε)}, {@code c = s / S},
 * {@code u = lin(x, W_q)}, {@code y = c u + β − γ μ0 / S}; backward
 * <pre>
 *   du = c G                         → dx, dW_q by the linear backward at (x, W_q); dW_fold = STE(dW_q)
 *   dW += g dW_fold,   dγ += Σ(dW_fold · W) / s                     (through W_fold = g W)
 *   dγ += −μ0 ΣG / S,  dβ = ΣG
 *   dS  = −(c Σ(G u) − γ μ0 ΣG / S) / S,   dμ0 = −γ ΣG / S
 *   dz  = (dμ0 + dS (z − μ0) / S) / M    → dx, dW by the linear backward at (x, W)   (M values per channel)
 * </pre>
 * and {@code db = 0} (the bias cancels). Frozen: {@code dW = g · STE(dW_q)},
 * {@code dγ = Σ(dW_fold · W) / s + Σ G (b − μ_run) / s}, {@code dβ = ΣG}, {@code db = g ΣG}.
 *
 * <p>The error {@code dx} handed to the previous layer passes the input site's estimator, then the error
 * site ({@code QuantSites.errors()}, quantized in fixed-point training).
 *
 * <p>Arrays the backward pass needs are kept in DL4J's INPUT workspace (as DL4J's batch
 * normalization keeps its own), per-channel vectors and folded weights outside workspaces.
 *
 * @param <C> the layer configuration
 */
public abstract class FusedBnImpl<C extends org.deeplearning4j.nn.conf.layers.BaseLayer & FusedBatchNorm & QuantLayer>
        extends BaseLayer<C> {
    static final String W = DefaultParamInitializer.WEIGHT_KEY;
    static final String B = DefaultParamInitializer.BIAS_KEY;

    private final SiteRuntime rt;
    private final int weightAxis;

    /** What the last training forward pass left for the backward pass. */
    private Pass last;

    protected FusedBnImpl(NeuralNetConfiguration conf, DataType dataType, int weightAxis) {
        super(conf, dataType);
        this.rt = new SiteRuntime(this, ((QuantLayer) conf.getLayer()).getQuantSites(), W, weightAxis, null);
        this.weightAxis = weightAxis;
    }

    /** The linear operation without bias: {@code [N, nOut, ...]} from input x and weights w (any workspace). */
    protected abstract INDArray linear(INDArray x, INDArray w);

    /** Gradients {@code {dL/dx, dL/dw}} of {@link #linear} at (x, w) for {@code delta = dL/dlinear}. */
    protected abstract INDArray[] linearBackward(INDArray x, INDArray w, INDArray delta);

    /** Checks the input shape; throws DL4J's invalid-input exception naming the expected one. */
    protected abstract void checkInput(INDArray x);

    /** Output-channel axis of the weights: 0 for conv {@code [nOut, nIn, kH, kW]}, 1 for dense {@code [nIn, nOut]}. */
    public int weightChannelAxis() {
        return weightAxis;
    }

    /** Whether this layer uses its frozen running statistics in training now. */
    public boolean isBnFrozen() {
        return layerConf().bnFrozenAt(getIterationCount());
    }

    /** Freezes (or unfreezes) the statistics: sets the configuration's switch, which the network saves. */
    public void setBnFrozen(boolean frozen) {
        layerConf().setBnFrozen(frozen);
    }

    /** γ, β and the running μ, σ² (copies), as {@link BatchNormFold} reads a normalization layer. */
    public BatchNormFold.Stats runningStats() {
        long n = layerConf().getNOut();
        return new BatchNormFold.Stats(getParam(FusedBnParamInitializer.GAMMA).reshape(n).dup(),
                getParam(FusedBnParamInitializer.BETA).reshape(n).dup(),
                getParam(FusedBnParamInitializer.MEAN).reshape(n).dup(),
                getParam(FusedBnParamInitializer.VAR).reshape(n).dup(), layerConf().getEps());
    }

    /**
     * The folded float weights and bias of inference mode: {@code W·γ/σ} and {@code β + (b − μ)·γ/σ}
     * (running statistics), in the layout of W. A plain convolution / dense layer with these computes
     * what this layer computes at inference without weight quantization.
     */
    public BatchNormFold.Folded foldedWeights() {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return BatchNormFold.fold(getParam(W), hasBias() ? getParam(B) : null, runningStats(), weightAxis);
        }
    }

    /**
     * The folded weights as the weight site quantizes them at inference ({@code Q_w(W·γ/σ)}); the
     * folded float weights when the site is {@code float}. A plain layer with these weights and the bias
     * of {@link #foldedWeights()} computes what this layer computes at inference.
     */
    public INDArray quantizedFoldedWeights() {
        INDArray wf = foldedWeights().weights();
        return layerConf().getQuantSites().weights().isFloat() ? wf : rt.quantizeParam(W, wf, false);
    }

    @Override
    public boolean hasBias() {
        return paramTable().containsKey(B);
    }

    @Override
    public boolean isPretrainLayer() {
        return false;
    }

    @Override
    public void clear() {
        super.clear();
        last = null;
    }

    @Override
    public void clearNoiseWeightParams() {
        super.clearNoiseWeightParams();
        rt.clearParams();
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
        assertInputSet(false);
        applyDropOutIfNecessary(training, mgr);
        INDArray x = rt.inputForCompute(input.castTo(dataType), training, mgr);
        checkInput(x);
        boolean batchStats = training && !isBnFrozen();
        long n = layerConf().getNOut();
        INDArray w = getParam(W);
        INDArray gamma = getParam(FusedBnParamInitializer.GAMMA).reshape(n);
        INDArray beta = getParam(FusedBnParamInitializer.BETA).reshape(n);

        INDArray s;
        INDArray g;
        BatchNormFold.Folded folded;
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            BatchNormFold.Stats run = new BatchNormFold.Stats(gamma, beta,
                    getParam(FusedBnParamInitializer.MEAN).reshape(n), getParam(FusedBnParamInitializer.VAR).reshape(n),
                    layerConf().getEps());
            s = Transforms.sqrt(run.var().add(run.eps()), false);
            g = gamma.div(s);
            folded = BatchNormFold.fold(w, hasBias() ? getParam(B) : null, run, weightAxis);
        }
        boolean quantW = !layerConf().getQuantSites().weights().isFloat();
        INDArray wq = quantW
                ? rt.quantizeParam(W, folded.weights(), training)
                : folded.weights();

        Pass p = new Pass();
        p.batchStats = batchStats;
        p.x = training ? mgr.leverageTo(ArrayType.INPUT, x) : x;
        p.wq = wq;
        p.s = s;
        p.g = g;
        INDArray y;
        if (!batchStats) {
            y = linear(x, wq);
            Nd4j.getExecutioner().exec(new BroadcastAddOp(y, folded.bias(), y, 1));
        } else {
            INDArray z = linear(x, w);
            int[] dims = reduceDims(z.rank());
            INDArray mu0;
            INDArray sigma;
            INDArray u = linear(x, wq);
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                mu0 = z.mean(dims).reshape(n);
                INDArray varB = z.var(false, dims).reshape(n);
                sigma = Transforms.sqrt(varB.add(layerConf().getEps()), false);
                updateRunning(mu0, varB);
                p.c = s.div(sigma);
                p.shift = beta.sub(gamma.mul(mu0).divi(sigma));
            }
            Nd4j.getExecutioner().exec(new BroadcastSubOp(z, mu0, z, 1));
            p.mu0 = mu0;
            p.sigma = sigma;
            p.m = z.length() / n;
            p.zc = mgr.leverageTo(ArrayType.INPUT, z);
            p.u = mgr.leverageTo(ArrayType.INPUT, u);
            y = Nd4j.createUninitialized(u.dataType(), u.shape(), 'c');
            Nd4j.getExecutioner().exec(new BroadcastMulOp(u, p.c, y, 1));
            Nd4j.getExecutioner().exec(new BroadcastAddOp(y, p.shift, y, 1));
        }
        IActivation act = layerConf().getActivationFn();
        if (act != null && !(act instanceof ActivationIdentity)) {
            if (training) {
                p.preActivation = mgr.dup(ArrayType.INPUT, y);
            }
            y = act.getActivation(y, training);
        }
        last = training ? p : null;
        y = mgr.leverageTo(ArrayType.ACTIVATIONS, y);
        return rt.quantizeOutput(y, training, mgr);
    }

    /** DL4J's update: {@code μ ← μ − (1−d)(μ − μ_B)}, {@code σ² ← σ² − (1−d)(σ² − σ²_B)}, μ_B including the bias. */
    private void updateRunning(INDArray mu0, INDArray varB) {
        long n = layerConf().getNOut();
        double d = layerConf().getDecay();
        INDArray mean = getParam(FusedBnParamInitializer.MEAN);
        INDArray var = getParam(FusedBnParamInitializer.VAR);
        INDArray batchMean = hasBias() ? mu0.add(getParam(B).reshape(n)) : mu0;
        mean.subi(mean.sub(batchMean.reshape(mean.shape())).muli(1 - d));
        var.subi(var.sub(varB.reshape(var.shape())).muli(1 - d));
    }

    private static int[] reduceDims(int rank) {
        return IntStream.range(0, rank).filter(i -> i != 1).toArray();
    }

    /** Sum of {@code a} over every axis of the weights but the output-channel axis. */
    private INDArray channelSum(INDArray a) {
        return a.sum(IntStream.range(0, a.rank()).filter(i -> i != weightAxis).toArray());
    }

    private INDArray scaleWeights(INDArray a, INDArray perChannel) {
        return Nd4j.getExecutioner().exec(new BroadcastMulOp(a, perChannel, a, weightAxis));
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        assertInputSet(true);
        Pass p = last;
        if (p == null) {
            throw new IllegalStateException("Cannot perform backprop in layer " + layerId()
                    + ": no forward pass in training mode before it");
        }
        long n = layerConf().getNOut();
        INDArray grad = rt.outputGradient(epsilon, mgr);
        if (p.preActivation != null) {
            grad = layerConf().getActivationFn().backprop(p.preActivation.dup(), grad).getFirst();
        }
        int[] dims = reduceDims(grad.rank());
        INDArray w = getParam(W);
        INDArray gamma = getParam(FusedBnParamInitializer.GAMMA).reshape(n);
        INDArray sumG = grad.sum(dims).reshape(n);

        INDArray dx;
        INDArray dw;
        INDArray dGamma;
        INDArray db = null;
        if (!p.batchStats) {
            INDArray[] lin = linearBackward(p.x, p.wq, grad);
            INDArray dwFold = foldedWeightGradient(lin[1]);
            dGamma = channelSum(dwFold.mul(w)).reshape(n);
            INDArray bMinusMu = getParam(FusedBnParamInitializer.MEAN).reshape(n).neg();
            if (hasBias()) {
                bMinusMu.addi(getParam(B).reshape(n));
                db = p.g.mul(sumG);
            }
            dGamma.addi(sumG.mul(bMinusMu)).divi(p.s);
            dw = scaleWeights(dwFold, p.g);
            dx = lin[0];
        } else {
            INDArray du = Nd4j.createUninitialized(grad.dataType(), grad.shape(), 'c');
            Nd4j.getExecutioner().exec(new BroadcastMulOp(grad, p.c, du, 1));
            INDArray[] linQ = linearBackward(p.x, p.wq, du);
            INDArray dwFold = foldedWeightGradient(linQ[1]);
            dGamma = channelSum(dwFold.mul(w)).reshape(n).divi(p.s);
            dGamma.subi(p.mu0.mul(sumG).divi(p.sigma));
            INDArray sumGu = grad.mul(p.u).sum(dims).reshape(n);
            // dS = -(c·Σ(G u) - γ μ0 ΣG / S) / S;  dμ0 = -γ ΣG / S
            INDArray dS = p.c.mul(sumGu).subi(gamma.mul(p.mu0).muli(sumG).divi(p.sigma)).divi(p.sigma).negi();
            INDArray dMu = gamma.mul(sumG).divi(p.sigma).negi().divi(p.m);
            INDArray dzScale = dS.div(p.sigma).divi(p.m);
            INDArray dz = Nd4j.createUninitialized(grad.dataType(), p.zc.shape(), 'c');
            Nd4j.getExecutioner().exec(new BroadcastMulOp(p.zc, dzScale, dz, 1));
            Nd4j.getExecutioner().exec(new BroadcastAddOp(dz, dMu, dz, 1));
            INDArray[] linZ = linearBackward(p.x, w, dz);
            dw = scaleWeights(dwFold, p.g).addi(linZ[1]);
            dx = linQ[0].addi(linZ[0]);
            if (hasBias()) {
                db = Nd4j.zeros(grad.dataType(), n);
            }
        }
        rt.clearParams();

        Gradient ret = new DefaultGradient();
        set(ret, W, dw);
        if (db != null) {
            set(ret, B, db);
        }
        set(ret, FusedBnParamInitializer.GAMMA, dGamma);
        set(ret, FusedBnParamInitializer.BETA, sumG);
        last = null;

        dx = mgr.leverageTo(ArrayType.ACTIVATION_GRAD, dx);
        dx = rt.errorGradient(dx, mgr);
        return new Pair<>(rt.withLearnedGradients(ret, gradientViews), backpropDropOutIfPresent(dx));
    }

    /** dL/dW_fold from dL/dW_q: the weight site's estimator (identity for a float site). */
    private INDArray foldedWeightGradient(INDArray dwq) {
        if (!layerConf().getQuantSites().weights().isFloat()) {
            rt.paramGradient(W, dwq);
        }
        return dwq;
    }

    private void set(Gradient ret, String key, INDArray value) {
        INDArray view = gradientViews.get(key);
        view.assign(value.reshape(view.shape()));
        ret.gradientForVariable().put(key, view);
    }

    /** The state of one training forward pass. */
    private static final class Pass {
        boolean batchStats;
        INDArray x;
        INDArray wq;
        INDArray s;
        INDArray g;
        INDArray c;
        INDArray shift;
        INDArray mu0;
        INDArray sigma;
        long m;
        INDArray zc;
        INDArray u;
        INDArray preActivation;
    }
}
