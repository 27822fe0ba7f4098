package io.qat4j.layers.nn;

import io.qat4j.layers.fold.BatchNormFold;
import io.qat4j.layers.nn.impl.FusedBnImpl;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.Quantizers;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Conv-BN and dense-BN folding during QAT ({@link QuantConvBN2D}, {@link QuantDenseBN}): with float
 * sites they compute DL4J's convolution / dense layer followed by {@code BatchNormalization} (batch
 * statistics while training, running statistics when frozen and at inference), their gradients pass
 * DL4J's gradient check in both modes, their folded weights are the post-training fold, and they
 * survive JSON and ModelSerializer round trips.
 */
class QuantConvBnTest {
    private static final double EPS = 1e-5;

    /** conv 3x3 (Truncate) + BN + act, dense + BN + act, softmax output; 6x6x2 inputs. */
    static MultiLayerConfiguration reference(DataType dt, IUpdater u, boolean bias, boolean logStd, Activation act) {
        return new NeuralNetConfiguration.Builder().seed(7).dataType(dt).updater(u).weightInit(WeightInit.XAVIER).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).hasBias(bias).activation(Activation.IDENTITY)
                        .convolutionMode(ConvolutionMode.Truncate).build())
                .layer(new BatchNormalization.Builder().useLogStd(logStd).build())
                .layer(new ActivationLayer.Builder().activation(act).build())
                .layer(new DenseLayer.Builder().nOut(5).hasBias(bias).activation(Activation.IDENTITY).build())
                .layer(new BatchNormalization.Builder().useLogStd(logStd).build())
                .layer(new ActivationLayer.Builder().activation(act).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(6, 6, 2)).build();
    }

    /** The fused twin of {@link #reference}: the activation is the fused layers' own. */
    static MultiLayerConfiguration fused(DataType dt, IUpdater u, boolean bias, Activation act, QuantSites conv,
                                         QuantSites dense, boolean frozen) {
        return new NeuralNetConfiguration.Builder().seed(7).dataType(dt).updater(u).weightInit(WeightInit.XAVIER).list()
                .layer(new QuantConvBN2D.Builder(3, 3).nOut(4).hasBias(bias).activation(act)
                        .convolutionMode(ConvolutionMode.Truncate).quant(conv).bnFrozen(frozen).build())
                .layer(new QuantDenseBN.Builder().nOut(5).hasBias(bias).activation(act).quant(dense).bnFrozen(frozen).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(6, 6, 2)).build();
    }

    static MultiLayerNetwork init(MultiLayerConfiguration c) {
        MultiLayerNetwork n = new MultiLayerNetwork(c);
        n.init();
        return n;
    }

    static DataSet data(DataType dt, int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.rand(dt, n, 2, 6, 6).muli(2).subi(0.5);
        INDArray y = Nd4j.zeros(dt, n, 3);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, i % 3, 1.0);
        }
        return new DataSet(x, y);
    }

    /** Running variance of a DL4J normalization layer, whichever way it stores it. */
    static INDArray variance(Layer bn) {
        INDArray log10 = bn.paramTable().get(BatchNormalizationParamInitializer.GLOBAL_LOG_STD);
        if (log10 == null) {
            return bn.getParam(BatchNormalizationParamInitializer.GLOBAL_VAR).dup();
        }
        INDArray std = Transforms.pow(Nd4j.valueArrayOf(log10.shape(), 10.0, log10.dataType()), log10, true);
        return std.mul(std);
    }

    /** Copies the reference network's parameters into the fused one (the layers the fused one merges). */
    static void copy(MultiLayerNetwork ref, MultiLayerNetwork fused) {
        int[][] pairs = {{0, 1, 0}, {3, 4, 1}, {6, -1, 2}};
        for (int[] p : pairs) {
            Layer dst = fused.getLayer(p[2]);
            for (String k : List.of("W", "b")) {
                if (ref.getLayer(p[0]).paramTable().containsKey(k)) {
                    dst.getParam(k).assign(ref.getLayer(p[0]).getParam(k));
                }
            }
            if (p[1] >= 0) {
                Layer bn = ref.getLayer(p[1]);
                for (String k : List.of("gamma", "beta", "mean")) {
                    dst.getParam(k).assign(bn.getParam(k));
                }
                dst.getParam("var").assign(variance(bn).reshape(dst.getParam("var").shape()));
            }
        }
    }

    /** Writes non-trivial γ, β and running statistics into every normalization of the reference. */
    static void randomizeNormalization(MultiLayerNetwork ref, long seed) {
        Nd4j.getRandom().setSeed(seed);
        for (int i : new int[]{1, 4}) {
            Layer bn = ref.getLayer(i);
            DataType dt = bn.getParam("gamma").dataType();
            long n = bn.getParam("gamma").length();
            bn.getParam("gamma").assign(Nd4j.rand(dt, 1, n).muli(1.5).addi(0.25));
            bn.getParam("beta").assign(Nd4j.rand(dt, 1, n).subi(0.5));
            bn.getParam("mean").assign(Nd4j.rand(dt, 1, n).subi(0.5).muli(0.8));
            INDArray var = Nd4j.rand(dt, 1, n).muli(2).addi(0.3);
            INDArray log10 = bn.paramTable().get(BatchNormalizationParamInitializer.GLOBAL_LOG_STD);
            if (log10 != null) {
                log10.assign(Transforms.log(Transforms.sqrt(var, true), 10, true));
            } else {
                bn.getParam("var").assign(var);
            }
        }
    }

    static double maxDiff(INDArray a, INDArray b) {
        return a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
    }

    @ParameterizedTest
    @CsvSource({"false, true", "true, true", "true, false"})
    void inferenceEqualsConvAndDenseFollowedByBatchNormalization(boolean bias, boolean logStd) {
        MultiLayerNetwork ref = init(reference(DataType.FLOAT, new Adam(1e-2), bias, logStd, Activation.TANH));
        MultiLayerNetwork fused = init(fused(DataType.FLOAT, new Adam(1e-2), bias, Activation.TANH, QuantSites.none(),
                QuantSites.none(), false));
        randomizeNormalization(ref, 5);
        if (bias) {
            ref.getLayer(0).getParam("b").assign(Nd4j.rand(DataType.FLOAT, 1, 4).subi(0.5));
            ref.getLayer(3).getParam("b").assign(Nd4j.rand(DataType.FLOAT, 1, 5).subi(0.5));
        }
        copy(ref, fused);
        INDArray x = data(DataType.FLOAT, 9, 2).getFeatures();
        List<INDArray> a = ref.feedForward(x, false);
        List<INDArray> b = fused.feedForward(x, false);
        assertTrue(maxDiff(a.get(3), b.get(1)) < EPS, "conv + BN: " + maxDiff(a.get(3), b.get(1)));
        assertTrue(maxDiff(a.get(6), b.get(2)) < EPS, "dense + BN: " + maxDiff(a.get(6), b.get(2)));
        assertTrue(maxDiff(a.get(7), b.get(3)) < EPS, "network output");
    }

    @Test
    void batchStatisticsForwardEqualsTrainingModeBatchNormalization() {
        MultiLayerNetwork ref = init(reference(DataType.FLOAT, new Adam(1e-2), true, true, Activation.IDENTITY));
        MultiLayerNetwork fused = init(fused(DataType.FLOAT, new Adam(1e-2), true, Activation.IDENTITY,
                QuantSites.none(), QuantSites.none(), false));
        randomizeNormalization(ref, 6);
        copy(ref, fused);
        INDArray x = data(DataType.FLOAT, 16, 3).getFeatures().muli(3).addi(1); // mean far from 0
        List<INDArray> a = ref.feedForward(x, true);
        List<INDArray> b = fused.feedForward(x, true);
        assertTrue(maxDiff(a.get(2), b.get(1)) < EPS, "conv + BN(training): " + maxDiff(a.get(2), b.get(1)));
        assertTrue(maxDiff(a.get(5), b.get(2)) < EPS, "dense + BN(training): " + maxDiff(a.get(5), b.get(2)));
        // ... and not the running-statistics formula
        INDArray inference = fused.feedForward(x, false).get(1);
        assertTrue(maxDiff(inference, b.get(1)) > 1e-2, "batch statistics differ from the running ones");
    }

    /** Float sites: training the fused network is training conv + BN (double precision, Adam). */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void trainingEqualsConvPlusBatchNormalizationIncludingRunningStatistics(boolean bias) {
        MultiLayerNetwork ref = init(reference(DataType.DOUBLE, new Adam(1e-2), bias, false, Activation.TANH));
        MultiLayerNetwork fused = init(fused(DataType.DOUBLE, new Adam(1e-2), bias, Activation.TANH, QuantSites.none(),
                QuantSites.none(), false));
        copy(ref, fused);
        INDArray b0 = bias ? fused.getLayer(0).getParam("b").dup() : null;
        DataSet ds = data(DataType.DOUBLE, 12, 4);
        for (int i = 0; i < 4; i++) {
            ref.fit(ds);
            fused.fit(ds);
        }
        assertEquals(ref.score(), fused.score(), 1e-10);
        int[][] pairs = {{0, 1, 0}, {3, 4, 1}};
        for (int[] p : pairs) {
            Layer f = fused.getLayer(p[2]);
            assertTrue(maxDiff(ref.getLayer(p[0]).getParam("W"), f.getParam("W")) < 1e-9, "W of layer " + p[2]);
            Layer bn = ref.getLayer(p[1]);
            for (String k : List.of("gamma", "beta", "mean")) {
                assertTrue(maxDiff(bn.getParam(k), f.getParam(k)) < 1e-9, k + " of layer " + p[2] + ": "
                        + bn.getParam(k) + " vs " + f.getParam(k));
            }
            assertTrue(maxDiff(bn.getParam("var"), f.getParam("var")) < 1e-9, "var of layer " + p[2]);
            assertNotEquals(0.0, f.getParam("mean").amaxNumber().doubleValue(), "running mean moved");
            if (bias) {
                // DL4J's gradient is zero up to rounding, which Adam scales up a little
                assertTrue(maxDiff(ref.getLayer(p[0]).getParam("b"), f.getParam("b")) < 1e-7);
            }
        }
        if (bias) {
            assertEquals(b0, fused.getLayer(0).getParam("b"), "the bias before batch normalization gets no gradient");
        }
        assertTrue(maxDiff(ref.getLayer(6).getParam("W"), fused.getLayer(2).getParam("W")) < 1e-9);
        assertTrue(maxDiff(ref.output(ds.getFeatures()), fused.output(ds.getFeatures())) < 1e-9);
    }

    /** Batch mean and biased variance per channel of the float convolution of the fused layer's current W. */
    static INDArray[] convStatistics(MultiLayerNetwork fused, INDArray x) {
        MultiLayerNetwork plain = init(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).hasBias(false).activation(Activation.IDENTITY).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nOut(1).activation(Activation.IDENTITY).build())
                .setInputType(InputType.convolutional(6, 6, 2)).build());
        plain.getLayer(0).getParam("W").assign(fused.getLayer(0).getParam("W"));
        INDArray conv = plain.feedForward(x, false).get(1);
        return new INDArray[]{conv.mean(0, 2, 3), conv.var(false, 0, 2, 3)};
    }

    @Test
    void runningStatisticsFollowDl4jDecayAndLiveInTheNetworkParameters() {
        MultiLayerNetwork fused = init(fused(DataType.DOUBLE, new Adam(1e-2), false, Activation.IDENTITY, QuantSites.none(),
                QuantSites.none(), false));
        DataSet ds = data(DataType.DOUBLE, 10, 8);
        INDArray[] st = convStatistics(fused, ds.getFeatures());
        fused.fit(ds);
        INDArray expMean = st[0].mul(0.1);               // running mean starts at 0, decay 0.9
        INDArray expVar = st[1].mul(0.1).addi(0.9);      // running variance starts at 1
        assertTrue(maxDiff(expMean, fused.getLayer(0).getParam("mean").reshape(4)) < 1e-12);
        assertTrue(maxDiff(expVar, fused.getLayer(0).getParam("var").reshape(4)) < 1e-12);
        st = convStatistics(fused, ds.getFeatures());    // the weights have moved
        fused.fit(ds);
        expMean = expMean.mul(0.9).addi(st[0].mul(0.1));
        expVar = expVar.mul(0.9).addi(st[1].mul(0.1));
        assertTrue(maxDiff(expMean, fused.getLayer(0).getParam("mean").reshape(4)) < 1e-12);
        assertTrue(maxDiff(expVar, fused.getLayer(0).getParam("var").reshape(4)) < 1e-12);
        INDArray flat = fused.params();
        long nW = 4 * 2 * 3 * 3;
        assertEquals(expMean.getDouble(0), flat.getDouble(nW + 8), 1e-12, "the update is in the network's parameters");
        assertEquals(expVar.getDouble(3), flat.getDouble(nW + 15), 1e-12, "the update is in the network's parameters");
    }

    @ParameterizedTest
    @CsvSource({"false, false, IDENTITY", "false, true, TANH", "true, false, TANH", "true, true, IDENTITY"})
    void gradientCheckInDoublePrecision(boolean frozen, boolean bias, Activation act) {
        DataType before = Nd4j.dataType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        try {
            MultiLayerNetwork ref = init(reference(DataType.DOUBLE, new NoOp(), bias, false, act));
            randomizeNormalization(ref, 9);
            if (bias) {
                ref.getLayer(0).getParam("b").assign(Nd4j.rand(DataType.DOUBLE, 1, 4).subi(0.5));
                ref.getLayer(3).getParam("b").assign(Nd4j.rand(DataType.DOUBLE, 1, 5).subi(0.5));
            }
            MultiLayerNetwork q = init(fused(DataType.DOUBLE, new NoOp(), bias, act, QuantSites.none(), QuantSites.none(),
                    frozen));
            copy(ref, q);
            DataSet ds = data(DataType.DOUBLE, 4, 3);
            // Frozen: the output depends on the running statistics, which are state, not trained: their
            // gradient is zero by design. With batch statistics the output does not depend on them at all
            // (the running deviation folded into the weights cancels against the correction factor), so
            // they are checked too: numerical and analytic gradients are both zero.
            Set<String> exclude = frozen ? Set.of("0_mean", "0_var", "1_mean", "1_var") : Set.of();
            boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig().net(q)
                    .input(ds.getFeatures()).labels(ds.getLabels()).epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-9)
                    .excludeParams(exclude).print(GradientCheckUtil.PrintMode.FAILURES_ONLY).exitOnFirstError(false));
            assertTrue(ok, "DL4J gradient check, frozen=" + frozen + ", bias=" + bias + ", " + act);
        } finally {
            Nd4j.setDefaultDataTypes(before, before);
        }
    }

    @Test
    void frozenFoldedWeightsAreThePostTrainingFold() {
        QuantSites conv = QuantSites.of("float", "int(bits=4, axis=channel, narrow=true)", "float", "float");
        QuantSites dense = QuantSites.of("float", "int(bits=4, axis=channel, narrow=true)", "float", "float");
        MultiLayerNetwork fused = init(fused(DataType.FLOAT, new Adam(1e-2), true, Activation.IDENTITY, conv, dense, false));
        DataSet ds = data(DataType.FLOAT, 16, 10);
        for (int i = 0; i < 5; i++) {
            fused.fit(ds);
        }
        assertEquals(2, BnFreezeListener.freezeAll(fused));
        FusedBnImpl<?> c = (FusedBnImpl<?>) fused.getLayer(0);
        FusedBnImpl<?> d = (FusedBnImpl<?>) fused.getLayer(1);
        assertTrue(c.isBnFrozen() && d.isBnFrozen());
        INDArray mean = c.getParam("mean").dup();
        INDArray var = d.getParam("var").dup();
        INDArray w = c.getParam("W").dup();
        fused.fit(ds);
        assertEquals(mean, c.getParam("mean"), "frozen running mean");
        assertEquals(var, d.getParam("var"), "frozen running variance");
        assertNotEquals(w, c.getParam("W"), "the weights still train");

        // The reference: the same parameters in a DL4J conv + BN + dense + BN network (log10 std storage).
        MultiLayerNetwork ref = init(reference(DataType.FLOAT, new Adam(1e-2), true, true, Activation.IDENTITY));
        for (int[] p : new int[][]{{0, 1, 0}, {3, 4, 1}}) {
            Layer f = fused.getLayer(p[2]);
            ref.getLayer(p[0]).getParam("W").assign(f.getParam("W"));
            ref.getLayer(p[0]).getParam("b").assign(f.getParam("b"));
            Layer bn = ref.getLayer(p[1]);
            for (String k : List.of("gamma", "beta", "mean")) {
                bn.getParam(k).assign(f.getParam(k));
            }
            bn.getParam("log10stdev").assign(Transforms.log(Transforms.sqrt(f.getParam("var"), true), 10, true));
            FusedBnImpl<?> impl = (FusedBnImpl<?>) f;
            BatchNormFold.Folded post = BatchNormFold.fold(ref.getLayer(p[0]).getParam("W"),
                    ref.getLayer(p[0]).getParam("b"), BatchNormFold.Stats.of(
                            (org.deeplearning4j.nn.layers.normalization.BatchNormalization) bn), impl.weightChannelAxis());
            BatchNormFold.Folded mine = impl.foldedWeights();
            assertTrue(maxDiff(post.weights(), mine.weights()) < 1e-6, "folded weights of layer " + p[2]);
            assertTrue(maxDiff(post.bias(), mine.bias()) < 1e-5, "folded bias of layer " + p[2]);
            INDArray q = Quantizers.of("int(bits=4, axis=channel, narrow=true)").apply(mine.weights(),
                    QuantContext.of(impl.weightChannelAxis()).withTraining(false));
            assertEquals(q, impl.quantizedFoldedWeights(), "quantized folded weights of layer " + p[2]);
        }

        // A plain conv / dense network with the quantized folded weights computes what the fused one does.
        MultiLayerNetwork plain = init(new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.IDENTITY)
                        .convolutionMode(ConvolutionMode.Truncate).build())
                .layer(new DenseLayer.Builder().nOut(5).activation(Activation.IDENTITY).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(6, 6, 2)).build());
        for (int i = 0; i < 2; i++) {
            FusedBnImpl<?> impl = (FusedBnImpl<?>) fused.getLayer(i);
            plain.getLayer(i).getParam("W").assign(impl.quantizedFoldedWeights());
            plain.getLayer(i).getParam("b").assign(impl.foldedWeights().bias().reshape(1, -1));
        }
        plain.getLayer(2).getParam("W").assign(fused.getLayer(2).getParam("W"));
        plain.getLayer(2).getParam("b").assign(fused.getLayer(2).getParam("b"));
        INDArray x = data(DataType.FLOAT, 7, 11).getFeatures();
        assertTrue(maxDiff(plain.output(x), fused.output(x)) < 1e-5);
        assertTrue(maxDiff(plain.feedForward(x, false).get(2), fused.feedForward(x, false).get(2)) < 1e-4);
        // frozen training forward = inference forward
        assertTrue(maxDiff(fused.feedForward(x, true).get(2), fused.feedForward(x, false).get(2)) < 1e-6);
    }

    @Test
    void frozenStatisticsStayPutAndIterationCountFreezes() {
        MultiLayerNetwork net = init(new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT)
                .updater(new Adam(1e-2)).list()
                .layer(new QuantConvBN2D.Builder(3, 3).nOut(3).freezeBnAfter(3).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(6, 6, 2)).build());
        DataSet ds = data(DataType.FLOAT, 8, 12);
        INDArray[] means = new INDArray[6];
        for (int i = 0; i < 6; i++) {
            net.fit(ds);
            means[i] = net.getLayer(0).getParam("mean").dup();
        }
        assertNotEquals(means[0], means[1], "iteration 1 updates the statistics");
        assertNotEquals(means[1], means[2], "iteration 2 updates the statistics");
        assertEquals(means[2], means[3], "iteration 3 is frozen");
        assertEquals(means[2], means[5], "and stays frozen");
        assertTrue(((FusedBnImpl<?>) net.getLayer(0)).isBnFrozen());
        assertFalse(((FusedBatchNorm) net.getLayer(0).conf().getLayer()).isBnFrozen(), "by iteration count, not the switch");
    }

    @Test
    void listenerFreezesFromTheGivenEpoch() {
        MultiLayerNetwork net = init(fused(DataType.FLOAT, new Adam(1e-2), false, Activation.IDENTITY, QuantSites.none(),
                QuantSites.none(), false));
        net.addListeners(new BnFreezeListener(1));
        DataSet ds = data(DataType.FLOAT, 16, 13);
        var it = new org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator<>(ds.asList(), 8);
        net.fit(it);
        INDArray afterEpoch0 = net.getLayer(1).getParam("var").dup();
        assertNotEquals(1.0, afterEpoch0.getDouble(0), "epoch 0 trains the statistics");
        assertFalse(((FusedBatchNorm) net.getLayer(1).conf().getLayer()).isBnFrozen());
        net.fit(it);
        assertTrue(((FusedBatchNorm) net.getLayer(1).conf().getLayer()).isBnFrozen());
        assertEquals(afterEpoch0, net.getLayer(1).getParam("var"), "epoch 1 is frozen from its first iteration");
        assertThrows(IllegalArgumentException.class, () -> new BnFreezeListener(-1));
    }

    @Test
    void configurationRoundTripsThroughJson() {
        QuantSites sites = QuantSites.of("int(bits=8, signed=false, observer=ema)", "int(bits=4, axis=channel, narrow=true)",
                "float", "int(bits=4, observer=ema)");
        MultiLayerConfiguration c = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT).list()
                .layer(new QuantConvBN2D.Builder(3, 3).nOut(4).hasBias(true).quant(sites).decay(0.95).eps(1e-3)
                        .freezeBnAfter(100).convolutionMode(ConvolutionMode.Same).activation(Activation.RELU).build())
                .layer(new QuantDenseBN.Builder().nOut(5).quant(sites).bnFrozen(true).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(6, 6, 2)).build();
        String json = c.toJson();
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(json);
        assertEquals(c, back);
        assertEquals(json, back.toJson());
        QuantConvBN2D conv = (QuantConvBN2D) back.getConf(0).getLayer();
        assertEquals(sites, conv.getQuantSites());
        assertEquals(0.95, conv.getDecay());
        assertEquals(1e-3, conv.getEps());
        assertEquals(100, conv.getFreezeBnAfter());
        assertTrue(conv.hasBias());
        assertFalse(conv.isBnFrozen());
        QuantDenseBN dense = (QuantDenseBN) back.getConf(1).getLayer();
        assertTrue(dense.isBnFrozen());
        assertFalse(dense.hasBias());
        assertTrue(dense.getActivationFn() instanceof org.nd4j.linalg.activations.impl.ActivationIdentity);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void quantizedModelSavesLoadsAndContinuesTrainingIdentically(boolean freezeBeforeSaving, @TempDir Path tmp)
            throws Exception {
        QuantSites conv = QuantSites.of("float", "int(bits=4, axis=channel, narrow=true)", "float",
                "int(bits=4, observer=ema)");
        QuantSites dense = QuantSites.of("int(bits=8, observer=ema)", "int(bits=4, axis=channel, narrow=true)", "float",
                "float");
        MultiLayerNetwork a = init(fused(DataType.FLOAT, new Adam(1e-2), false, Activation.TANH, conv, dense, false));
        DataSet ds = data(DataType.FLOAT, 16, 14);
        for (int i = 0; i < 3; i++) {
            a.fit(ds);
        }
        if (freezeBeforeSaving) {
            BnFreezeListener.freezeAll(a);
        }
        File f = tmp.resolve("fused.zip").toFile();
        ModelSerializer.writeModel(a, f, true);
        MultiLayerNetwork b = ModelSerializer.restoreMultiLayerNetwork(f, true);
        assertEquals(a.params(), b.params(), "parameters, including running statistics and observer state");
        assertEquals(a.getLayerWiseConfigurations(), b.getLayerWiseConfigurations());
        assertEquals(freezeBeforeSaving, ((FusedBnImpl<?>) b.getLayer(1)).isBnFrozen());
        assertEquals(a.output(ds.getFeatures()), b.output(ds.getFeatures()));
        for (int i = 0; i < 3; i++) {
            a.fit(ds);
            b.fit(ds);
        }
        assertEquals(a.params(), b.params(), "training continues identically");
        assertEquals(a.output(ds.getFeatures()), b.output(ds.getFeatures()));
        assertEquals(List.of("W", "gamma", "beta", "mean", "var", "qin"), List.copyOf(b.getLayer(1).paramTable().keySet()));
        assertEquals(List.of("W", "gamma", "beta", "mean", "var", "qout"), List.copyOf(b.getLayer(0).paramTable().keySet()));
    }

    @Test
    void quantizedTrainingLearnsWithoutNaN() {
        QuantSites sites = QuantSites.of("float", "int(bits=4, axis=channel, narrow=true)", "float", "float");
        MultiLayerNetwork net = init(fused(DataType.FLOAT, new Adam(2e-2), false, Activation.RELU, sites, sites, false));
        DataSet ds = data(DataType.FLOAT, 32, 15);
        net.setInput(ds.getFeatures());
        net.setLabels(ds.getLabels());
        net.computeGradientAndScore();
        double first = net.score();
        for (int i = 0; i < 40; i++) {
            net.fit(ds);
        }
        assertTrue(Double.isFinite(net.score()) && net.score() < 0.7 * first, first + " -> " + net.score());
        INDArray w = ((FusedBnImpl<?>) net.getLayer(0)).quantizedFoldedWeights();
        for (int c = 0; c < 4; c++) {
            INDArray ch = w.slice(c);
            double step = Transforms.abs(ch).maxNumber().doubleValue() / 7;
            INDArray codes = ch.div(step);
            assertTrue(maxDiff(codes, Transforms.round(codes)) < 1e-4, "channel " + c + " of the folded weights on a 4-bit grid");
        }
    }

    @Test
    void invalidSettingsNameTheValueAndTheAllowedOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new QuantConvBN2D.Builder(3, 3).nOut(2).decay(1.0).build());
        assertTrue(e.getMessage().contains("1.0") && e.getMessage().contains("[0, 1)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new QuantDenseBN.Builder().nOut(2).eps(0).build());
        assertTrue(e.getMessage().contains("eps 0.0") && e.getMessage().contains("> 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new QuantDenseBN.Builder().nOut(2).freezeBnAfter(-3).build());
        assertTrue(e.getMessage().contains("-3") && e.getMessage().contains("0 (never)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new QuantConvBN2D.Builder(3, 3).nOut(2).biasQuant("int16").build());
        assertTrue(e.getMessage().contains("int16") && e.getMessage().contains("allowed: float"), e.getMessage());
    }
}
