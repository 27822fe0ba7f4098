package io.qat4j.layers.fold;

import io.qat4j.layers.nn.DeviationBatchNorm;
import io.qat4j.layers.nn.DeviationBatchNormParamInitializer;
import io.qat4j.layers.nn.impl.DeviationBatchNormImpl;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Folds batch normalization into the convolution or dense layer that precedes it.
 *
 * <p>With running statistics μ, σ² and learned γ, β, inference-mode normalization of a layer
 * output {@code z = W·x + b} is {@code y = γ (z − μ) / sqrt(σ² + ε) + β}. Per output channel
 * {@code g = γ / sqrt(σ² + ε)}; the folded layer computes {@code y = W'·x + b'} with
 * <pre>
 *   W'[o] = g[o] · W[o]            (conv weights [nOut,nIn,kH,kW]: axis 0; dense [nIn,nOut]: axis 1)
 *   b'[o] = β[o] + g[o] · (b[o] − μ[o])      (b = 0 when the layer has no bias)
 * </pre>
 * (Jacob et al., 1712.05877, §3.2; Krishnamoorthi, 1806.08342, §2.8). DL4J keeps the variance
 * either as such or as log10 of the standard deviation; both are read. Folding changes results
 * only by float rounding.
 *
 * <p>{@link DeviationBatchNorm} (RangeBN, L1BN) folds the same way with its own divisor:
 * {@code g = γ / (σ̂ + ε)}, σ̂ being its running deviation estimate ({@code std}); its activation
 * function (identity unless configured) moves to the folded layer.
 */
public final class BatchNormFold {
    private BatchNormFold() {
    }

    /**
     * The per-channel statistics of a batch-normalization layer (inference mode): the layer computes
     * {@code y = γ (x − mean) / sqrt(var + eps) + β}.
     *
     * <p>For DL4J's {@code BatchNormalization} {@code var} is the running variance σ² and {@code eps}
     * the layer's ε. For {@link DeviationBatchNorm}, whose divisor is {@code σ̂ + ε} rather than a
     * square root, {@code var = (σ̂ + ε)²} and {@code eps = 0}, so {@code sqrt(var + eps)} is that
     * divisor and every user of these statistics ({@link #factor()}, {@link #fold}) stays exact.
     */
    public record Stats(INDArray gamma, INDArray beta, INDArray mean, INDArray var, double eps) {

        /**
         * Reads the statistics of a normalization layer: DL4J's {@code BatchNormalization} or a
         * {@link DeviationBatchNorm}.
         *
         * @throws IllegalArgumentException for any other layer, naming it and the supported ones
         */
        public static Stats of(Layer layer) {
            if (layer instanceof org.deeplearning4j.nn.layers.normalization.BatchNormalization bn) {
                return of(bn);
            }
            if (layer instanceof DeviationBatchNormImpl dbn) {
                return of(dbn);
            }
            throw new IllegalArgumentException("layer " + layer.conf().getLayer().getLayerName() + " ("
                    + layer.getClass().getSimpleName() + ") is not a normalization layer; supported: "
                    + "BatchNormalization, DeviationBatchNorm");
        }

        /**
         * Reads γ, β, μ and σ̂ from a {@link DeviationBatchNorm} (γ and β from the configuration when
         * they are locked) and encodes the divisor σ̂ + ε as {@code var = (σ̂ + ε)²}, {@code eps = 0}.
         */
        public static Stats of(DeviationBatchNormImpl layer) {
            DeviationBatchNorm c = (DeviationBatchNorm) layer.conf().getLayer();
            long n = c.getNOut();
            INDArray mean = layer.getParam(DeviationBatchNormParamInitializer.MEAN).reshape(n).dup();
            DataType dt = mean.dataType();
            INDArray gamma = c.isLockGammaBeta() ? Nd4j.valueArrayOf(new long[]{n}, c.getGamma(), dt)
                    : layer.getParam(DeviationBatchNormParamInitializer.GAMMA).reshape(n).dup();
            INDArray beta = c.isLockGammaBeta() ? Nd4j.valueArrayOf(new long[]{n}, c.getBeta(), dt)
                    : layer.getParam(DeviationBatchNormParamInitializer.BETA).reshape(n).dup();
            INDArray denom = layer.getParam(DeviationBatchNormParamInitializer.STD).reshape(n).add(c.getEps());
            return new Stats(gamma, beta, mean, denom.mul(denom), 0.0);
        }

        /** Reads γ, β, μ and σ² from a BatchNormalization layer, whichever way it stores them. */
        public static Stats of(org.deeplearning4j.nn.layers.normalization.BatchNormalization layer) {
            BatchNormalization c = (BatchNormalization) layer.conf().getLayer();
            long n = c.getNOut();
            DataType dt = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN).dataType();
            INDArray gamma = c.isLockGammaBeta() ? Nd4j.valueArrayOf(new long[]{n}, c.getGamma(), dt)
                    : layer.getParam(BatchNormalizationParamInitializer.GAMMA).reshape(n).dup();
            INDArray beta = c.isLockGammaBeta() ? Nd4j.valueArrayOf(new long[]{n}, c.getBeta(), dt)
                    : layer.getParam(BatchNormalizationParamInitializer.BETA).reshape(n).dup();
            INDArray mean = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN).reshape(n).dup();
            INDArray var;
            if (c.isUseLogStd()) {
                INDArray log10Std = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_LOG_STD).reshape(n);
                INDArray std = Transforms.pow(Nd4j.valueArrayOf(new long[]{n}, 10.0, dt), log10Std, true);
                var = std.mul(std);
            } else {
                var = layer.getParam(BatchNormalizationParamInitializer.GLOBAL_VAR).reshape(n).dup();
            }
            return new Stats(gamma, beta, mean, var, c.getEps());
        }

        /** g = γ / sqrt(σ² + ε), one factor per channel. */
        public INDArray factor() {
            return gamma.div(Transforms.sqrt(var.add(eps), true));
        }
    }

    /**
     * Whether {@code layer} is a normalization layer that {@link Stats#of(Layer)} reads and
     * {@link #foldAll} folds: DL4J's {@code BatchNormalization} or {@link DeviationBatchNorm}.
     */
    public static boolean isNormalization(org.deeplearning4j.nn.conf.layers.Layer layer) {
        return layer instanceof BatchNormalization || layer instanceof DeviationBatchNorm;
    }

    /** Folded weights and bias. */
    public record Folded(INDArray weights, INDArray bias) {
    }

    /**
     * Folds the statistics into weights {@code w} (output channels along {@code outAxis}) and bias
     * {@code b} (may be null).
     */
    public static Folded fold(INDArray w, INDArray b, Stats bn, int outAxis) {
        long n = w.size(outAxis);
        if (bn.gamma().length() != n) {
            throw new IllegalArgumentException("batch normalization has " + bn.gamma().length()
                    + " channels but the weights have " + n + " output channels along axis " + outAxis);
        }
        INDArray g = bn.factor().castTo(w.dataType()).reshape(n);
        INDArray wf = Nd4j.createUninitialized(w.dataType(), w.shape(), 'c');
        Nd4j.getExecutioner().exec(new BroadcastMulOp(w, g, wf, outAxis));
        INDArray bias = b == null ? Nd4j.zeros(w.dataType(), n) : b.reshape(n).castTo(w.dataType());
        INDArray bf = bn.beta().castTo(w.dataType()).add(bias.sub(bn.mean().castTo(w.dataType())).mul(g));
        return new Folded(wf, bf);
    }

    /**
     * A float copy of {@code net} with every convolution or dense layer that is directly followed by
     * batch normalization ({@link #isNormalization}) merged with it: the normalization layer
     * disappears and the folded layer gets a bias. The preceding layer must have the identity
     * activation (otherwise the normalization cannot be folded and is kept). DL4J's
     * {@code BatchNormalization} applies no activation function in its forward pass (1.0.0-M2.1)
     * whatever its configuration says, so the folded layer keeps the identity too and computes
     * exactly what the network computed; a {@link DeviationBatchNorm} applies its activation, which
     * the folded layer takes over.
     */
    public static MultiLayerNetwork foldAll(MultiLayerNetwork net) {
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        int n = conf.getConfs().size();
        List<NeuralNetConfiguration> kept = new ArrayList<>();
        List<Integer> source = new ArrayList<>();
        Map<Integer, Stats> foldedBn = new HashMap<>();
        Map<Integer, InputPreProcessor> pre = new HashMap<>();
        for (int i = 0; i < n; i++) {
            NeuralNetConfiguration c = conf.getConf(i).clone();
            org.deeplearning4j.nn.conf.layers.Layer l = c.getLayer();
            boolean foldable = (l instanceof ConvolutionLayer || l instanceof DenseLayer) && i + 1 < n
                    && isNormalization(conf.getConf(i + 1).getLayer())
                    && ((BaseLayer) l).getActivationFn() instanceof ActivationIdentity
                    && !conf.getInputPreProcessors().containsKey(i + 1);
            if (conf.getInputPreProcessors().containsKey(i)) {
                pre.put(kept.size(), conf.getInputPreProcessors().get(i));
            }
            if (foldable) {
                if (l instanceof ConvolutionLayer cl) {
                    cl.setHasBias(true);
                } else {
                    ((DenseLayer) l).setHasBias(true);
                }
                if (conf.getConf(i + 1).getLayer() instanceof DeviationBatchNorm d) {
                    ((BaseLayer) l).setActivationFn(d.getActivationFn());
                }
                foldedBn.put(kept.size(), Stats.of(net.getLayer(i + 1)));
                kept.add(c);
                source.add(i);
                i++; // skip the normalization layer
            } else {
                kept.add(c);
                source.add(i);
            }
        }
        MultiLayerConfiguration.Builder b = new MultiLayerConfiguration.Builder().confs(kept)
                .inputPreProcessors(pre).backpropType(conf.getBackpropType()).dataType(conf.getDataType())
                .trainingWorkspaceMode(conf.getTrainingWorkspaceMode())
                .inferenceWorkspaceMode(conf.getInferenceWorkspaceMode());
        MultiLayerNetwork out = new MultiLayerNetwork(b.build());
        out.init();
        for (int j = 0; j < kept.size(); j++) {
            Layer src = net.getLayer(source.get(j));
            Layer dst = out.getLayer(j);
            Stats bn = foldedBn.get(j);
            if (bn == null) {
                for (Map.Entry<String, INDArray> p : src.paramTable().entrySet()) {
                    dst.getParam(p.getKey()).assign(p.getValue());
                }
                continue;
            }
            int axis = dst.conf().getLayer() instanceof ConvolutionLayer ? 0 : 1;
            Folded f = fold(src.getParam("W"), src.paramTable().get("b"), bn, axis);
            dst.getParam("W").assign(f.weights());
            dst.getParam("b").assign(f.bias().reshape(dst.getParam("b").shape()));
        }
        return out;
    }
}
