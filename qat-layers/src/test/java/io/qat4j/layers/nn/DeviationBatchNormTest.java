package io.qat4j.layers.nn;

import io.qat4j.layers.quant.NdArrays;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static io.qat4j.layers.TestArrays.assertValues;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RangeBN and L1BN ({@link DeviationBatchNorm}): hand-computed forward values in training and
 * inference mode, the running-statistics update, exact gradients (DL4J gradient check in double
 * precision, dense and convolutional), JSON and model-zip round trips, and clear errors.
 */
class DeviationBatchNormTest {
    private static final double EPS = 1e-3;
    private static final double[] GAMMA = {2, 0.5};
    private static final double[] BETA = {0.1, -1};

    /**
     * Dense input [N=4, C=2]. Channel 0: 1, 2, 4, 7 (μ = 3.5, range 6); channel 1: −1, 0.5, 3, −2
     * (μ = 0.125, range 5). C(4) = 1/sqrt(2 ln 4) = 0.6005612044, so RangeBN σ̂ = (3.6033672264,
     * 3.0028060220); mean |x − μ| = (2, 1.625), so L1BN σ̂ = sqrt(π/2)·that = (2.5066282746, 2.0366354731).
     */
    private static INDArray denseInput() {
        return Nd4j.create(new double[]{1, -1, 2, 0.5, 4, 3, 7, -2}, new long[]{4, 2}, DataType.DOUBLE);
    }

    /** Convolutional input [N=2, C=2, H=2, W=2]: n = 8 values per channel, μ = (1.1875, 1.3125). */
    private static INDArray convInput() {
        return Nd4j.create(new double[]{3, -1, 0.5, 2, 1, 1.5, -2, 4, 6, 0, 2, -3, 0.25, 0.75, -1, 6},
                new long[]{2, 2, 2, 2}, DataType.DOUBLE);
    }

    /** y = γ (x − μ) / (σ̂ + ε) + β with the statistics above, γ = (2, 0.5), β = (0.1, −1), ε = 1e-3. */
    private static final double[] DENSE_RANGE = {-1.2872060437, -1.1872624250, -0.7323236262, -0.9375791917,
            0.3774412087, -0.5214404694, 2.0420884611, -1.3537179139};
    private static final double[] DENSE_L1 = {-1.8939159446, -1.2760552647, -1.0963495668, -0.9079815784,
            0.4987831889, -0.2945254345, 2.8914823225, -1.5214377223};
    /** Conv: RangeBN σ̂ = (4.4132055302, 3.9228493602) with C(8) = 1/sqrt(2 ln 8). */
    private static final double[] CONV_RANGE = {0.9212123281, -0.8911183270, -0.2114943313, 0.4681296643,
            -1.0398205909, -0.9761076455, -1.4220982632, -0.6575429185, 2.2804603193, -0.4380356632, 0.4681296643,
            -1.7972836545, -1.1353900090, -1.0716770636, -1.2946723724, -0.4026911370};
    /** Conv: L1BN σ̂ = (2.5849604082, 2.3695470416). */
    private static final double[] CONV_L1 = {1.5018002706, -1.5918279128, -0.4317173440, 0.7283932248,
            -1.0659130561, -0.9604521664, -1.6986783942, -0.4331477179, 3.8220214082, -0.8184208669, 0.7283932248,
            -3.1386420045, -1.2241043906, -1.1186435009, -1.4877566149, -0.0113041591};
    /** Conv, inference mode with running mean (1, −0.5) and std (2, 0.25): same for both kinds. */
    private static final double[] CONV_INFERENCE = {2.0990004998, -1.8990004998, -0.3997501249, 1.0995002499,
            1.9880478088, 2.9840637450, -3.9880478088, 7.9641434263, 5.0975012494, -0.8995002499, 1.0995002499,
            -3.8980009995, 0.4940239044, 1.4900398406, -1.9960159363, 11.9482071713};

    private static MultiLayerNetwork init(MultiLayerConfiguration c) {
        MultiLayerNetwork n = new MultiLayerNetwork(c);
        n.init();
        return n;
    }

    /** The norm layer alone (plus an output layer so the network can be fitted), γ and β set as above. */
    private static MultiLayerNetwork normNet(NormKind kind, InputType in, IUpdater updater) {
        MultiLayerNetwork net = init(new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.DOUBLE)
                .updater(updater).weightInit(WeightInit.XAVIER).list()
                .layer(new DeviationBatchNorm.Builder(kind).eps(EPS).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nOut(2).activation(Activation.IDENTITY).build())
                .setInputType(in).build());
        net.getLayer(0).getParam("gamma").assign(Nd4j.createFromArray(GAMMA));
        net.getLayer(0).getParam("beta").assign(Nd4j.createFromArray(BETA));
        return net;
    }

    private static INDArray forward(MultiLayerNetwork net, INDArray x, boolean training) {
        Layer l = net.getLayer(0);
        return l.activate(x, training, LayerWorkspaceMgr.noWorkspaces());
    }

    static Stream<Arguments> forwardGoldens() {
        return Stream.of(
                Arguments.of(NormKind.RANGE, false, DENSE_RANGE),
                Arguments.of(NormKind.L1, false, DENSE_L1),
                Arguments.of(NormKind.RANGE, true, CONV_RANGE),
                Arguments.of(NormKind.L1, true, CONV_L1));
    }

    @ParameterizedTest(name = "{0} conv={1}")
    @MethodSource("forwardGoldens")
    void trainingModeNormalizesWithTheBatchEstimate(NormKind kind, boolean conv, double[] expected) {
        INDArray x = conv ? convInput() : denseInput();
        InputType in = conv ? InputType.convolutional(2, 2, 2) : InputType.feedForward(2);
        MultiLayerNetwork net = normNet(kind, in, new NoOp());
        INDArray y = forward(net, x, true);
        assertArrayEquals(x.shape(), y.shape());
        assertValues(expected, y, 1e-9);
    }

    @ParameterizedTest
    @EnumSource(NormKind.class)
    void inferenceModeUsesTheRunningStatistics(NormKind kind) {
        MultiLayerNetwork net = normNet(kind, InputType.convolutional(2, 2, 2), new NoOp());
        net.getLayer(0).getParam("mean").assign(Nd4j.createFromArray(1.0, -0.5));
        net.getLayer(0).getParam("std").assign(Nd4j.createFromArray(2.0, 0.25));
        assertValues(CONV_INFERENCE, forward(net, convInput(), false), 1e-9);
        // dense: channel 0 is (x − 1)/(2 + ε)·2 + 0.1
        INDArray yd = normNet(kind, InputType.feedForward(2), new NoOp()).getLayer(0).activate(denseInput(), false,
                LayerWorkspaceMgr.noWorkspaces());
        assertValues(new double[]{0.1 + 2 * (1 - 0) / (1 + EPS), -1 + 0.5 * (-1 - 0) / (1 + EPS)},
                yd.getRow(0), 1e-12); // fresh running statistics: mean 0, std 1
    }

    @Test
    void lockedGammaAndBetaAreConstantsWithoutParameters() {
        MultiLayerNetwork net = init(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).list()
                .layer(new DeviationBatchNorm.Builder(NormKind.RANGE).eps(EPS).lockGammaBeta(true).gamma(3).beta(-2).build())
                .setInputType(InputType.feedForward(2)).build());
        assertEquals(List.of("mean", "std"), List.copyOf(net.getLayer(0).paramTable().keySet()));
        assertEquals(4, net.numParams());
        INDArray y = forward(net, denseInput(), true);
        // channel 0, first row: 3·(1 − 3.5)/(3.6033672264 + ε) − 2
        assertEquals(3 * (1 - 3.5) / (3.6033672264 + EPS) - 2, y.getDouble(0, 0), 1e-9);
        assertEquals(3 * (-2 - 0.125) / (3.0028060220 + EPS) - 2, y.getDouble(3, 1), 1e-9);
    }

    @ParameterizedTest
    @EnumSource(NormKind.class)
    void runningStatisticsFollowTheDecayFormula(NormKind kind) {
        double[] std = kind == NormKind.RANGE ? new double[]{3.6033672264, 3.0028060220}
                : new double[]{2.5066282746, 2.0366354731};
        MultiLayerNetwork net = normNet(kind, InputType.feedForward(2), new Sgd(0.1));
        DataSet ds = new DataSet(denseInput(), Nd4j.zeros(DataType.DOUBLE, 4, 2));
        net.fit(ds);
        // one step from mean 0, std 1 with decay 0.9
        assertValues(new double[]{0.1 * 3.5, 0.1 * 0.125}, net.getLayer(0).getParam("mean"), 1e-9);
        assertValues(new double[]{0.9 + 0.1 * std[0], 0.9 + 0.1 * std[1]}, net.getLayer(0).getParam("std"), 1e-9);
        net.fit(ds);
        assertValues(new double[]{0.9 * 0.35 + 0.1 * 3.5, 0.9 * 0.0125 + 0.1 * 0.125},
                net.getLayer(0).getParam("mean"), 1e-9);
        double s0 = 0.9 + 0.1 * std[0];
        assertEquals(0.9 * s0 + 0.1 * std[0], net.getLayer(0).getParam("std").getDouble(0), 1e-9);
        // γ, β were trained; evaluation passes leave the running statistics alone
        assertNotEquals(GAMMA[0], net.getLayer(0).getParam("gamma").getDouble(0));
        INDArray before = net.getLayer(0).getParam("std").dup();
        net.output(denseInput(), true);
        net.output(denseInput(), false);
        assertEquals(before, net.getLayer(0).getParam("std"));
    }

    /** ∂σ̂/∂x of a kind, as a dense [n, C] matrix. */
    private static INDArray deviationGradient(NormKind kind, INDArray rows) {
        INDArray g = Nd4j.zeros(rows.dataType(), rows.shape());
        kind.addDeviationGradient(rows, rows.mean(0), Nd4j.ones(rows.dataType(), rows.size(1)), g);
        return g;
    }

    @ParameterizedTest
    @EnumSource(NormKind.class)
    void deviationGradientMatchesCentralDifferences(NormKind kind) {
        Nd4j.getRandom().setSeed(5);
        INDArray rows = Nd4j.rand(DataType.DOUBLE, 7, 3).muli(4).subi(2);
        INDArray analytic = deviationGradient(kind, rows);
        double h = 1e-6;
        for (int i = 0; i < 7; i++) {
            for (int c = 0; c < 3; c++) {
                INDArray p = rows.dup();
                p.putScalar(i, c, rows.getDouble(i, c) + h);
                INDArray m = rows.dup();
                m.putScalar(i, c, rows.getDouble(i, c) - h);
                double numeric = (kind.deviation(p, p.mean(0)).getDouble(c) - kind.deviation(m, m.mean(0)).getDouble(c)) / (2 * h);
                assertEquals(numeric, analytic.getDouble(i, c), 1e-7, kind + " element " + i + "," + c);
            }
        }
        if (kind == NormKind.RANGE) {
            // only the arg-max (+C(n)) and arg-min (−C(n)) of each column get a gradient
            double cn = NormKind.rangeFactor(7);
            for (int c = 0; c < 3; c++) {
                double[] col = NdArrays.read(analytic.getColumn(c));
                assertEquals(5, java.util.Arrays.stream(col).filter(v -> v == 0).count());
                assertEquals(cn, java.util.Arrays.stream(col).max().orElseThrow(), 1e-15);
                assertEquals(-cn, java.util.Arrays.stream(col).min().orElseThrow(), 1e-15);
            }
        }
        // the upstream coefficient scales each column, and the gradient is added to the target
        INDArray target = Nd4j.ones(DataType.DOUBLE, 7, 3);
        kind.addDeviationGradient(rows, rows.mean(0), Nd4j.createFromArray(2.0, -1.0, 0.5), target);
        INDArray expected = analytic.mulRowVector(Nd4j.createFromArray(2.0, -1.0, 0.5)).addi(1);
        assertTrue(expected.equalsWithEps(target, 1e-12), target.toString());
    }

    @Test
    void rangeGradientGoesToTheFirstOfTiedMaxima() {
        INDArray rows = Nd4j.create(new double[]{1, 3, 3, 0, 0}, new long[]{5, 1}, DataType.DOUBLE);
        double cn = NormKind.rangeFactor(5);
        assertValues(new double[]{0, cn, 0, -cn, 0}, deviationGradient(NormKind.RANGE, rows), 1e-15);
        assertEquals(1 / Math.sqrt(2 * Math.log(5)), cn, 1e-15);
        assertEquals(0.6005612043932249, NormKind.rangeFactor(4), 1e-15);
    }

    /**
     * conv (identity) → norm → dense (tanh) → softmax output, or dense → norm (tanh) → output. The layer
     * before the normalization has no bias: the normalization removes it, its gradient is 0 and the
     * numerical one only rounding noise.
     */
    static MultiLayerConfiguration gradientNet(NormKind kind, boolean conv, boolean locked) {
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder().seed(42).dataType(DataType.DOUBLE)
                .updater(new NoOp()).weightInit(WeightInit.XAVIER).list();
        DeviationBatchNorm.Builder norm = new DeviationBatchNorm.Builder(kind).lockGammaBeta(locked).gamma(1.5).beta(0.2);
        if (conv) {
            b.layer(new ConvolutionLayer.Builder(2, 2).nOut(3).convolutionMode(ConvolutionMode.Truncate).hasBias(false)
                    .activation(Activation.IDENTITY).build());
            b.layer(norm.build());
            b.layer(new DenseLayer.Builder().nOut(5).activation(Activation.TANH).build());
            b.setInputType(InputType.convolutional(4, 4, 2));
        } else {
            b.layer(new DenseLayer.Builder().nOut(5).hasBias(false).activation(Activation.IDENTITY).build());
            b.layer(norm.activation(Activation.TANH).build());
            b.setInputType(InputType.feedForward(4));
        }
        b.layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build());
        return b.build();
    }

    static Stream<Arguments> gradientCases() {
        return Stream.of(NormKind.values()).flatMap(k -> Stream.of(
                Arguments.of(k, false, false), Arguments.of(k, true, false), Arguments.of(k, false, true),
                Arguments.of(k, true, true)));
    }

    @ParameterizedTest(name = "{0} conv={1} locked={2}")
    @MethodSource("gradientCases")
    void gradientCheckPassesInDoublePrecision(NormKind kind, boolean conv, boolean locked) {
        DataType before = Nd4j.dataType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        try {
            MultiLayerNetwork net = init(gradientNet(kind, conv, locked));
            // a γ away from 1 and β away from 0, so their gradients are tested at a general point
            if (!locked) {
                net.getLayer(1).getParam("gamma").assign(Nd4j.createFromArray(0.7, 1.3, 1.1, 0.9, 1.6).get(
                        org.nd4j.linalg.indexing.NDArrayIndex.interval(0, conv ? 3 : 5)));
                net.getLayer(1).getParam("beta").assign(0.3);
            }
            Nd4j.getRandom().setSeed(conv ? 17 : 23);
            int n = conv ? 3 : 8;
            INDArray x = conv ? Nd4j.rand(DataType.DOUBLE, n, 2, 4, 4).subi(0.5) : Nd4j.rand(DataType.DOUBLE, n, 4).subi(0.5);
            INDArray y = Nd4j.zeros(DataType.DOUBLE, n, 3);
            for (int i = 0; i < n; i++) {
                y.putScalar(i, i % 3, 1.0);
            }
            boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig().net(net).input(x).labels(y)
                    .epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-10)
                    .print(GradientCheckUtil.PrintMode.FAILURES_ONLY).exitOnFirstError(false));
            assertTrue(ok, "DL4J gradient check of " + kind + (conv ? " conv" : " dense"));
            // the input gradient is exact too (the check above covers parameters only)
            assertInputGradient(net, x, y);
        } finally {
            Nd4j.setDefaultDataTypes(before, before);
        }
    }

    /** dL/dinput of the network against central differences of the score, on a few input elements. */
    private static void assertInputGradient(MultiLayerNetwork net, INDArray x, INDArray y) {
        DataSet ds = new DataSet(x, y);
        net.setInput(x);
        net.setLabels(y);
        net.computeGradientAndScore();
        INDArray dx = net.calculateGradients(x, y, null, null).getSecond();
        double h = 1e-6;
        INDArray flat = x.reshape(x.length());
        for (long i = 0; i < x.length(); i += Math.max(1, x.length() / 16)) {
            double v = flat.getDouble(i);
            flat.putScalar(i, v + h);
            double plus = net.score(ds, true);
            flat.putScalar(i, v - h);
            double minus = net.score(ds, true);
            flat.putScalar(i, v);
            // the score is the mean loss over the minibatch; DL4J's backward pass gives the gradient of the sum
            double numeric = x.size(0) * (plus - minus) / (2 * h);
            double analytic = dx.reshape(dx.length()).getDouble(i);
            assertEquals(numeric, analytic, 1e-7 + 1e-5 * Math.abs(numeric), "input element " + i);
        }
    }

    @Test
    void configurationRoundTripsThroughJson() {
        MultiLayerConfiguration c = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).hasBias(false).activation(Activation.IDENTITY).build())
                .layer(new DeviationBatchNorm.Builder(NormKind.RANGE).decay(0.95).eps(1e-4).name("bn1").build())
                .layer(new DenseLayer.Builder().nOut(6).activation(Activation.IDENTITY).build())
                .layer(new DeviationBatchNorm.Builder(NormKind.L1).lockGammaBeta(true).gamma(2).beta(-1)
                        .activation(Activation.RELU).name("bn2").build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(8, 8, 1)).build();
        String json = c.toJson();
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(json);
        assertEquals(c, back);
        assertEquals(json, back.toJson());
        DeviationBatchNorm bn1 = (DeviationBatchNorm) back.getConf(1).getLayer();
        assertEquals(NormKind.RANGE, bn1.getKind());
        assertEquals(0.95, bn1.getDecay());
        assertEquals(1e-4, bn1.getEps());
        assertEquals(4, bn1.getNOut());
        DeviationBatchNorm bn2 = (DeviationBatchNorm) back.getConf(3).getLayer();
        assertEquals(NormKind.L1, bn2.getKind());
        assertTrue(bn2.isLockGammaBeta());
        assertEquals(2.0, bn2.getGamma());
        assertEquals(-1.0, bn2.getBeta());
        assertEquals("relu", bn2.getActivationFn().toString());
        assertNotEquals(bn1, bn2);
    }

    @ParameterizedTest
    @EnumSource(NormKind.class)
    void modelSavesLoadsAndContinuesTrainingIdentically(NormKind kind, @TempDir Path tmp) throws Exception {
        MultiLayerNetwork a = init(new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.FLOAT)
                .updater(new Adam(1e-2)).weightInit(WeightInit.RELU).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).hasBias(false).activation(Activation.IDENTITY).build())
                .layer(new DeviationBatchNorm.Builder(kind).build())
                .layer(new org.deeplearning4j.nn.conf.layers.ActivationLayer(Activation.RELU))
                .layer(new DenseLayer.Builder().nOut(8).hasBias(false).activation(Activation.IDENTITY).build())
                .layer(new DeviationBatchNorm.Builder(kind).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(6, 6, 2)).build());
        Nd4j.getRandom().setSeed(9);
        INDArray x = Nd4j.rand(DataType.FLOAT, 16, 2, 6, 6).muli(2).subi(0.5);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 16, 3);
        for (int i = 0; i < 16; i++) {
            y.putScalar(i, i % 3, 1);
        }
        DataSet ds = new DataSet(x, y);
        for (int i = 0; i < 3; i++) {
            a.fit(ds);
        }
        INDArray mean = a.getLayer(1).getParam("mean");
        assertTrue(mean.amaxNumber().doubleValue() > 0, "running mean has moved from 0");
        File f = tmp.resolve("bn.zip").toFile();
        ModelSerializer.writeModel(a, f, true);
        MultiLayerNetwork b = ModelSerializer.restoreMultiLayerNetwork(f, true);
        assertEquals(a.getLayerWiseConfigurations(), b.getLayerWiseConfigurations());
        assertEquals(a.params(), b.params(), "parameters, including the running statistics, are restored");
        assertEquals(a.getLayer(1).getParam("std"), b.getLayer(1).getParam("std"));
        assertEquals(a.output(x), b.output(x));
        for (int i = 0; i < 3; i++) {
            a.fit(ds);
            b.fit(ds);
        }
        assertEquals(a.params(), b.params(), "training continues identically");
        assertEquals(a.output(x), b.output(x));
        assertEquals(List.of("gamma", "beta", "mean", "std"), List.copyOf(b.getLayer(1).paramTable().keySet()));
    }

    @Test
    void badValuesAreRejectedNamingTheAllowedOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NormKind.fromConfigName("l2"));
        assertEquals("unknown normalization kind 'l2'; allowed: range, l1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DeviationBatchNorm.Builder(NormKind.L1).decay(1.5));
        assertEquals("decay must be in [0, 1], got 1.5", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DeviationBatchNorm.Builder(NormKind.L1).eps(-1));
        assertEquals("eps must be a finite number >= 0, got -1.0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DeviationBatchNorm.Builder(null));
        assertEquals("DeviationBatchNorm needs a kind; allowed: range, l1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new NeuralNetConfiguration.Builder().list()
                .layer(new DeviationBatchNorm.Builder(NormKind.RANGE).name("bn").build())
                .setInputType(InputType.convolutional(4, 4, 2, CNN2DFormat.NHWC)).build());
        assertTrue(e.getMessage().contains("NHWC not supported; allowed: NCHW"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NormKind.rangeFactor(1));
        assertTrue(e.getMessage().contains("at least 2 values per channel"), e.getMessage());
        // RangeBN on a single dense example: no range to estimate
        MultiLayerNetwork net = normNet(NormKind.RANGE, InputType.feedForward(2), new NoOp());
        e = assertThrows(IllegalArgumentException.class, () -> forward(net, denseInput().getRow(0, true), true));
        assertTrue(e.getMessage().contains("needs at least 2"), e.getMessage());
        // inference mode needs no batch statistics
        assertEquals(2, forward(net, denseInput().getRow(0, true), false).length());
        e = assertThrows(IllegalArgumentException.class, () -> forward(net, Nd4j.zeros(DataType.DOUBLE, 4, 3), true));
        assertTrue(e.getMessage().contains("allowed: [N, 2] or [N, 2, H, W] (NCHW)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DeviationBatchNorm.Builder(NormKind.L1).build()
                .getUpdaterByParam("var"));
        assertTrue(e.getMessage().contains("allowed: gamma, beta, mean, std"), e.getMessage());
    }
}
