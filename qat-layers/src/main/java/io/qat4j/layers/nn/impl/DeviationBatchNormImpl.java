package io.qat4j.layers.nn.impl;

import io.qat4j.layers.nn.DeviationBatchNorm;
import io.qat4j.layers.nn.DeviationBatchNormParamInitializer;
import io.qat4j.layers.nn.NormKind;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * Implementation of {@link DeviationBatchNorm}.
 *
 * <p>All arithmetic is on a {@code [n, C]} matrix of the input (one column per channel): a dense
 * input {@code [N, C]} as it is, a convolutional input {@code [N, C, H, W]} permuted to
 * {@code [N, H, W, C]} and flattened to {@code [N·H·W, C]}. Results are permuted back into the
 * workspace DL4J expects (ACTIVATIONS forward, ACTIVATION_GRAD backward).
 *
 * <p>Running statistics are updated in place in the backward pass of a training step (as DL4J's
 * layer does, once per step and not on evaluation passes); their gradients are zero and their
 * updater is a no-op, so no updater, gradient normalization or gradient quantization can touch them.
 */
public class DeviationBatchNormImpl extends BaseLayer<DeviationBatchNorm> {
    /** Whether the last forward pass normalized with batch statistics (training) or the running ones. */
    private boolean lastForwardTraining;
    /** Batch statistics of the last training forward pass (detached), and the input they belong to. */
    private Stats lastBatchStats;
    private INDArray lastBatchInput;

    public DeviationBatchNormImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public Type type() {
        return Type.NORMALIZATION;
    }

    /** Normalization statistics of one pass: μ and σ̂ per channel, and the denominator σ̂ + ε. */
    private record Stats(INDArray mean, INDArray std, INDArray denom) {
        Stats detach() {
            return new Stats(mean.detach(), std.detach(), denom.detach());
        }
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
        assertInputSet(false);
        INDArray x = checkedInput(training);
        INDArray rows = toRows(x);
        Stats s;
        if (training) {
            s = batchStats(rows);
            lastBatchStats = s.detach();
            lastBatchInput = input;
        } else {
            s = runningStats();
        }
        lastForwardTraining = training;
        // γ (x − μ) / (σ̂ + ε) + β, in place
        rows.subiRowVector(s.mean()).muliRowVector(gammaVector().divi(s.denom())).addiRowVector(betaVector());
        INDArray y = layerConf().getActivationFn().getActivation(rows, training);
        INDArray out = mgr.createUninitialized(ArrayType.ACTIVATIONS, dataType, x.shape(), 'c');
        return fromRows(y, out);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        assertInputSet(true);
        DeviationBatchNorm c = layerConf();
        boolean batch = lastForwardTraining;
        INDArray rows = toRows(checkedInput(batch));
        Stats s = !batch ? runningStats() : lastBatchInput == input ? lastBatchStats : batchStats(rows);
        INDArray xHat = rows.subiRowVector(s.mean()).diviRowVector(s.denom());  // rows is a copy: reuse it
        INDArray dy = toRows(epsilon.castTo(dataType));
        if (!(c.getActivationFn() instanceof ActivationIdentity)) {
            // dL/dz through the activation, z = γ x̂ + β the pre-activation
            INDArray z = xHat.mulRowVector(gammaVector()).addiRowVector(betaVector());
            dy = c.getActivationFn().backprop(z, dy).getFirst();
        }
        INDArray dBeta = dy.sum(0);                  // Σ dL/dz
        INDArray dGamma = dy.mul(xHat).sum(0);       // Σ dL/dz · x̂

        Gradient grad = new DefaultGradient();
        if (!c.isLockGammaBeta()) {
            for (String k : new String[]{DeviationBatchNormParamInitializer.GAMMA, DeviationBatchNormParamInitializer.BETA}) {
                INDArray view = gradientViews.get(k);
                view.assign(k.equals(DeviationBatchNormParamInitializer.GAMMA) ? dGamma : dBeta);
                grad.setGradientFor(k, view);
            }
        }
        for (String k : new String[]{DeviationBatchNormParamInitializer.MEAN, DeviationBatchNormParamInitializer.STD}) {
            INDArray view = gradientViews.get(k);
            view.assign(0);
            grad.setGradientFor(k, view);
        }

        INDArray dx;
        if (batch) {
            // With h = γ dL/dz and A = Σ h x̂ = γ Σ dL/dz x̂:
            // dL/dx_j = (h_j − mean(h) − A · ∂σ̂/∂x_j) / (σ̂ + ε)
            //         = γ / (σ̂ + ε) · (dL/dz_j − mean(dL/dz) − Σ(dL/dz x̂) · ∂σ̂/∂x_j)
            // σ̂ is translation invariant and positively homogeneous, so ∂σ̂/∂x at x equals ∂σ̂/∂x at
            // x̂ = (x − μ)/(σ̂ + ε), whose mean is 0: no second copy of the input is needed.
            dx = dy.subRowVector(dBeta.div(xHat.size(0)));
            c.getKind().addDeviationGradient(xHat, Nd4j.zeros(dataType, c.getNOut()), dGamma.neg(), dx);
            updateRunningStats(s);
        } else {
            dx = dy.dup();
        }
        dx.muliRowVector(gammaVector().divi(s.denom()));
        INDArray eps = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, dataType, epsilon.shape(), 'c');
        return new Pair<>(grad, fromRows(dx, eps));
    }

    /** running ← d·running + (1−d)·batch, for the mean and the deviation estimate. */
    private void updateRunningStats(Stats batch) {
        double d = layerConf().getDecay();
        INDArray mean = getParam(DeviationBatchNormParamInitializer.MEAN);
        INDArray std = getParam(DeviationBatchNormParamInitializer.STD);
        mean.muli(d).addi(batch.mean().castTo(mean.dataType()).mul(1 - d));
        std.muli(d).addi(batch.std().castTo(std.dataType()).mul(1 - d));
    }

    private Stats batchStats(INDArray rows) {
        INDArray mean = rows.mean(0);
        INDArray std = layerConf().getKind().deviation(rows, mean);
        return new Stats(mean, std, std.add(layerConf().getEps()));
    }

    private Stats runningStats() {
        INDArray mean = getParam(DeviationBatchNormParamInitializer.MEAN).castTo(dataType);
        INDArray std = getParam(DeviationBatchNormParamInitializer.STD).castTo(dataType);
        return new Stats(mean, std, std.add(layerConf().getEps()));
    }

    /** A new vector of the per-channel γ (the locked value when γ is locked). */
    private INDArray gammaVector() {
        DeviationBatchNorm c = layerConf();
        return c.isLockGammaBeta() ? Nd4j.valueArrayOf(new long[]{c.getNOut()}, c.getGamma(), dataType)
                : getParam(DeviationBatchNormParamInitializer.GAMMA).castTo(dataType).dup();
    }

    /** The per-channel β (the locked value when β is locked). */
    private INDArray betaVector() {
        DeviationBatchNorm c = layerConf();
        return c.isLockGammaBeta() ? Nd4j.valueArrayOf(new long[]{c.getNOut()}, c.getBeta(), dataType)
                : getParam(DeviationBatchNormParamInitializer.BETA).castTo(dataType);
    }

    /** The input in the layer's data type, checked; {@code batchStats}: statistics will be computed from it. */
    private INDArray checkedInput(boolean batchStats) {
        INDArray x = input.castTo(dataType);
        long channels = layerConf().getNOut();
        if ((x.rank() != 2 && x.rank() != 4) || x.size(1) != channels) {
            throw new IllegalArgumentException("DeviationBatchNorm " + layerId() + ": input of shape "
                    + Arrays.toString(x.shape()) + " not supported; allowed: [N, " + channels + "] or [N, " + channels
                    + ", H, W] (NCHW)");
        }
        if (batchStats && layerConf().getKind() == NormKind.RANGE && x.length() / channels < 2) {
            throw new IllegalArgumentException("DeviationBatchNorm " + layerId() + " (RANGE): input of shape "
                    + Arrays.toString(x.shape()) + " has " + x.length() / channels + " value per channel; the range "
                    + "needs at least 2 (use a minibatch of 2 or more)");
        }
        return x;
    }

    /** A new c-order {@code [n, C]} copy: dense as is, NCHW permuted to NHWC and flattened. */
    private static INDArray toRows(INDArray x) {
        if (x.rank() == 2) {
            return x.dup('c');
        }
        long c = x.size(1);
        return x.permute(0, 2, 3, 1).dup('c').reshape('c', x.length() / c, c);
    }

    /** Writes {@code rows} back into {@code target} (the shape of the layer input). */
    private static INDArray fromRows(INDArray rows, INDArray target) {
        if (target.rank() == 2) {
            return target.assign(rows);
        }
        long[] s = target.shape();
        return target.assign(rows.reshape('c', s[0], s[2], s[3], s[1]).permute(0, 3, 1, 2));
    }

    @Override
    public boolean isPretrainLayer() {
        return false;
    }

    @Override
    public boolean hasBias() {
        return false;
    }

    @Override
    public boolean updaterDivideByMinibatch(String paramName) {
        // the running statistics have zero gradients; γ and β gradients are sums over the minibatch
        return !DeviationBatchNormParamInitializer.MEAN.equals(paramName)
                && !DeviationBatchNormParamInitializer.STD.equals(paramName);
    }
}
