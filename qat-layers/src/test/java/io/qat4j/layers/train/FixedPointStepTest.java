package io.qat4j.layers.train;

import io.qat4j.layers.nn.QuantDense;
import io.qat4j.layers.nn.QuantOutput;
import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.QuantSpec;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.lossfunctions.impl.LossL2;

import java.io.File;
import java.nio.file.Path;
import java.util.Map;

import static io.qat4j.layers.TestArrays.assertValues;
import static io.qat4j.layers.TestArrays.f32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backward paths inside DL4J's training step: errors handed back by a layer, gradients before the
 * updater, updates and stored weights after it, optimizer state, the loss scale; float settings leave
 * DL4J's step untouched; everything survives JSON and ModelSerializer.
 */
class FixedPointStepTest {

    @AfterEach
    void noMonitor() {
        TrainingMonitor.uninstall();
    }

    /** Dense 3 -> 2 (identity, no bias) then a 2 -> 2 output layer. */
    static MultiLayerNetwork tinyNet(GradientSpec denseErrors) {
        MultiLayerConfiguration c = new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT)
                .updater(new Sgd(0.1)).list()
                .layer(new QuantDense.Builder().nIn(3).nOut(2).hasBias(false).activation(Activation.IDENTITY)
                        .quant(QuantSites.none().withErrors(denseErrors)).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(2).nOut(2)
                        .activation(Activation.IDENTITY).build())
                .build();
        MultiLayerNetwork n = new MultiLayerNetwork(c);
        n.init();
        n.initGradientsView();
        return n;
    }

    @Test
    void errorHandedBackIsQuantized() {
        MultiLayerNetwork net = tinyNet(GradientSpec.parse("shift(bits=4)"));
        org.deeplearning4j.nn.api.Layer dense = net.getLayer(0);
        dense.setParam("W", f32(new long[] {3, 2}, 1, 2, 3, 4, -1, 0.5));
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        dense.setInput(f32(new long[] {1, 3}, 0.2, 0.1, 0.4), mgr);
        dense.activate(true, mgr);
        Pair<Gradient, INDArray> p = dense.backpropGradient(f32(new long[] {1, 2}, 0.3, -0.1), mgr);
        // epsilon = delta W^T = [0.1, 0.5, -0.35]; shift(bits=4): s = 0.5, codes 2, 7 (saturated), -6 -> q s / 8.
        assertValues(new double[] {0.125, 0.4375, -0.375}, p.getSecond(), 0);
        // The weight gradient x^T delta is computed before and without error quantization.
        assertValues(new double[] {0.06, -0.02, 0.03, -0.01, 0.12, -0.04}, p.getFirst().getGradientFor("W"), 1e-7);
    }

    @Test
    void errorSiteRecordsSaturationAndFlushesInTheMonitor() {
        TrainingMonitor m = TrainingMonitor.install();
        MultiLayerNetwork net = tinyNet(GradientSpec.parse("shift(bits=4)"));
        org.deeplearning4j.nn.api.Layer dense = net.getLayer(0);
        dense.setParam("W", f32(new long[] {3, 2}, 1, 2, 3, 4, -1, 0.5));
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        dense.setInput(f32(new long[] {1, 3}, 0.2, 0.1, 0.4), mgr);
        dense.activate(true, mgr);
        // epsilon [0.1, 0.5, -0.002]: 0.5 saturates (code 8 -> 7), -0.002 flushes to zero.
        dense.backpropGradient(f32(new long[] {1, 2}, 0.3, -0.1).muli(1), mgr);
        dense.activate(true, mgr);
        dense.setParam("W", f32(new long[] {3, 2}, 1, 2, 3, 4, -0.01, -0.01));
        dense.backpropGradient(f32(new long[] {1, 2}, 0.3, -0.1), mgr);
        Map<Integer, Map<TrainingMonitor.Path, PathStats>> s = m.takeStats();
        PathStats e = s.get(0).get(TrainingMonitor.Path.ERRORS);
        assertEquals(2, e.tensors());
        assertEquals(6, e.values());
        // first tensor: 1 saturated of 3; second [0.1, 0.5, -0.002]: 0.5 saturated, -0.002 flushed (of 3 non-zero)
        assertEquals(2.0 / 6, e.saturatedFraction(), 1e-12);
        assertEquals(1.0 / 6, e.flushedFraction(), 1e-12);
        // distinct values: {0.125, 0.4375, -0.375} and {0.125, 0.4375, 0} -> log2 3 each
        assertEquals(Math.log(3) / Math.log(2), e.bitsInUse(), 1e-12);
        assertTrue(m.takeStats().isEmpty(), "taking resets");
    }

    /** One 2 -> 2 output layer (identity, squared error summed over outputs), SGD 0.1, W and b given. */
    static MultiLayerNetwork oneLayer(String errors, String gradients) {
        MultiLayerConfiguration c = new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT)
                .updater(new Sgd(0.1)).list()
                .layer(new QuantOutput.Builder(new LossL2()).nIn(2).nOut(2).activation(Activation.IDENTITY)
                        .quant(QuantSites.none().withErrors(GradientSpec.parse(errors))).build())
                .build();
        FixedPointTraining.apply(c, name -> GradientSpec.parse(gradients), FixedPointTraining.Options.NONE);
        MultiLayerNetwork n = new MultiLayerNetwork(c);
        n.init();
        n.setParam("0_W", f32(new long[] {2, 2}, 0.5, -0.25, 0.125, 0.75));
        n.setParam("0_b", f32(new long[] {1, 2}, 0, 0));
        return n;
    }

    @Test
    void oneTrainingStepMatchesHandComputedQuantizedErrorsAndGradients() {
        INDArray x = f32(new long[] {1, 2}, 1, 2);
        INDArray y = f32(new long[] {1, 2}, 1, 0);
        // y_hat = x W = [0.75, 1.25]; delta = dL/dz = 2 (y_hat - y) = [-0.5, 2.5]
        // (a) errors shift(bits=4): s = Shift(2.5) = 2, codes -2, 10 -> 7: delta_q = [-0.5, 1.75];
        //     dW = x^T delta_q = [[-0.5, 1.75], [-1, 3.5]], db = delta_q; W -= 0.1 dW.
        MultiLayerNetwork a = oneLayer("shift(bits=4)", "float");
        a.fit(x, y);
        assertValues(new double[] {0.55, -0.425, 0.225, 0.4}, a.getParam("0_W"), 1e-6);
        assertValues(new double[] {0.05, -0.175}, a.getParam("0_b"), 1e-6);
        // (b) gradients int4 (round to nearest): dW = [[-0.5, 2.5], [-1, 5]], scale 5/7.5:
        //     codes -0.75 -> -1, 3.75 -> 4, -1.5 -> -2, 7.5 -> 8 -> 7; db = [-0.5, 2.5], scale 2.5/7.5: -1.5 -> -2, 7.5 -> 7.
        MultiLayerNetwork b = oneLayer("float", "int4");
        b.fit(x, y);
        double sw = (float) (5 / 7.5);
        double sb = (float) (2.5 / 7.5);
        assertValues(new double[] {0.5 + 0.1 * sw, -0.25 - 0.1 * 4 * sw, 0.125 + 0.1 * 2 * sw, 0.75 - 0.1 * 7 * sw},
                b.getParam("0_W"), 1e-6);
        assertValues(new double[] {0.1 * 2 * sb, -0.1 * 7 * sb}, b.getParam("0_b"), 1e-6);
    }

    @Test
    void gradientRegularizationQuantizesBeforeTheUpdater() {
        // int4: scale 0.7/7.5; codes 7 (saturated from 7.5), -4, 1, 0.
        GradientQuantization gq = new GradientQuantization(GradientSpec.parse("int4"), 0, -1, 0);
        INDArray grad = f32(0.7, -0.35, 0.1, 0);
        gq.apply(f32(0, 0, 0, 0), grad, 0.1, 5, 0);
        double s = (float) (0.7 / 7.5);
        assertValues(new double[] {(float) (7 * s), (float) (-4 * s), (float) s, 0}, grad, 1e-7);
        assertEquals(org.nd4j.linalg.learning.regularization.Regularization.ApplyStep.BEFORE_UPDATER, gq.applyStep());
        // wage: the view holds update / lr, so that Sgd(lr) applies n / 128 exactly.
        INDArray g2 = f32(0.3, -0.6, 0.05, 0);
        new GradientQuantization(GradientSpec.parse("wage(bits=8)"), 0, -1, 0).apply(f32(0, 0, 0, 0), g2, 2, 0, 0);
        for (double v : NdArrays.read(g2)) {
            double n = v * 2 * 128;
            assertEquals(Math.rint(n), n, 0, "integer multiple of 1/128 after Sgd(2): " + v);
        }
    }

    @Test
    void fixedPointWeightsStayOnTheirGridAndAreClipped() {
        WeightUpdateQuantization u = new WeightUpdateQuantization(GradientSpec.FLOAT, QuantSpec.parse("fixed(m=0, n=3)"),
                0.5, 0, 0);
        INDArray w = f32(0.25, -0.5, 0.125);
        INDArray update = f32(0.3, 0.1, -0.0625);
        u.apply(w, update, 1, 0, 0);
        // W - dW = -0.05, -0.6, 0.1875 -> clip +-0.5 -> grid 1/8 (half to even): 0, -0.5, 0.25
        assertValues(new double[] {0, -0.5, 0.25}, w, 0);
        assertValues(new double[] {0, 0, 0}, update, 0);
        // With an update format the update is quantized first: int4 of (0.3, 0.1, -0.0625): scale 0.3/7.5 = 0.04
        WeightUpdateQuantization u2 = new WeightUpdateQuantization(GradientSpec.parse("int4"), QuantSpec.FLOAT, 0, 0, 0);
        INDArray w2 = f32(0.25, -0.5, 0.125);
        INDArray up2 = f32(0.3, 0.1, -0.0625);
        u2.apply(w2, up2, 1, 0, 0);
        double s = (float) (0.3 / 7.5);
        assertValues(new double[] {(float) (7 * s), (float) (2 * s), (float) (-2 * s)}, up2, 1e-7);
        assertValues(new double[] {0.25, -0.5, 0.125}, w2, 0);
    }

    @Test
    void optimizerStateIsKeptInTheStateFormatAndTheLossScaleIsRemoved() {
        QuantizedUpdater qu = new QuantizedUpdater(new Nesterovs(0.1, 0.9), QuantSpec.parse("fixed(m=0, n=4)"), 8);
        INDArray view = Nd4j.zeros(DataType.FLOAT, 1, 2);
        org.nd4j.linalg.learning.GradientUpdater<?> gu = qu.instantiate(view, true);
        gu.setStateViewArray(view, new long[] {1, 2}, 'c', true);
        INDArray grad = f32(new long[] {1, 2}, 0.3 * 8, -0.7 * 8);
        gu.applyUpdater(grad, 0, 0);
        // unscaled g = 0.3, -0.7; Nesterov v = -lr g = -0.03, 0.07 -> grid 1/16: 0, 0.0625
        assertValues(new double[] {0, 0.0625}, gu.getState().get("V"), 0);
        assertEquals(0.1, qu.getLearningRate(0, 0), 0);
    }

    /** Conv, max pool, dense, output: plain DL4J (quant false) or quantized layers with every backward path float. */
    static MultiLayerConfiguration cnn(boolean fixedPointMachinery, IUpdater updater) {
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.FLOAT)
                .updater(updater).weightInit(WeightInit.XAVIER).list();
        if (fixedPointMachinery) {
            b.layer(new io.qat4j.layers.nn.QuantConv2D.Builder(3, 3).nOut(4).activation(Activation.RELU)
                    .quant(QuantSites.none().withErrors(GradientSpec.FLOAT)).build());
        } else {
            b.layer(new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.RELU).build());
        }
        b.layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build());
        b.layer(new DenseLayer.Builder().nOut(8).activation(Activation.RELU).build());
        if (fixedPointMachinery) {
            b.layer(new QuantOutput.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX)
                    .quant(QuantSites.none()).build());
        } else {
            b.layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build());
        }
        MultiLayerConfiguration c = b.setInputType(InputType.convolutional(8, 8, 1)).build();
        if (fixedPointMachinery) {
            FixedPointTraining.apply(c, name -> GradientSpec.FLOAT, FixedPointTraining.Options.NONE);
            // Force every hook in, each with float formats: they must be exact no-ops.
            for (int i : new int[] {0, 2, 3}) {
                var bl = (org.deeplearning4j.nn.conf.layers.BaseLayer) c.getConf(i).getLayer();
                bl.setRegularization(java.util.List.of(new GradientQuantization(GradientSpec.FLOAT, i, 1, 0),
                        new WeightUpdateQuantization(GradientSpec.FLOAT, QuantSpec.FLOAT, 0, i, 0)));
                bl.setRegularizationBias(java.util.List.of(new GradientQuantization(GradientSpec.FLOAT, i, -1, 1),
                        new WeightUpdateQuantization(GradientSpec.FLOAT, QuantSpec.FLOAT, 0, i, 1)));
                bl.setIUpdater(new QuantizedUpdater(bl.getIUpdater(), QuantSpec.FLOAT, 1));
            }
            var out = (org.deeplearning4j.nn.conf.layers.BaseOutputLayer) c.getConf(3).getLayer();
            out.setLossFn(new QuantizedLoss(out.getLossFn(), GradientSpec.FLOAT, 1, 3));
        }
        return c;
    }

    static DataSet data(int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.rand(DataType.FLOAT, n, 1, 8, 8);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 3);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, i % 3, 1.0);
        }
        return new DataSet(x, y);
    }

    static MultiLayerNetwork init(MultiLayerConfiguration c) {
        MultiLayerNetwork n = new MultiLayerNetwork(c);
        n.init();
        return n;
    }

    @Test
    void withEveryPathFloatATrainingStepIsExactlyDl4jsStep() {
        for (IUpdater u : new IUpdater[] {new Adam(1e-2), new Nesterovs(0.05, 0.9), new Sgd(0.1)}) {
            MultiLayerNetwork ref = init(cnn(false, u.clone()));
            MultiLayerNetwork fp = init(cnn(true, u.clone()));
            assertEquals(ref.numParams(), fp.numParams());
            fp.setParams(ref.params().dup());
            DataSet ds = data(6, 3);
            for (int i = 0; i < 3; i++) {
                ref.fit(ds);
                fp.fit(ds);
            }
            assertExact(ref.params(), fp.params(), "params after 3 steps identical with " + u);
            assertEquals(ref.score(), fp.score(), 0);
        }
    }

    @Test
    void powerOfTwoLossScaleIsExactWithFloatFormats() {
        MultiLayerNetwork ref = init(cnn(false, new Sgd(0.1)));
        MultiLayerConfiguration c = cnn(false, new Sgd(0.1));
        FixedPointTraining.apply(c, name -> null, new FixedPointTraining.Options(GradientSpec.FLOAT, QuantSpec.FLOAT, 0,
                QuantSpec.FLOAT, 1024, 0));
        MultiLayerNetwork scaled = init(c);
        scaled.setParams(ref.params().dup());
        DataSet ds = data(6, 4);
        for (int i = 0; i < 3; i++) {
            ref.fit(ds);
            scaled.fit(ds);
        }
        assertExact(ref.params(), scaled.params(), "loss-scaled params");
        assertEquals(ref.score(), scaled.score(), 0, "the reported loss is unscaled");
    }

    /** A fully fixed-point configuration: every hook with a real format. */
    static MultiLayerConfiguration fixedPointCnn() {
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.FLOAT)
                .updater(new Sgd(2)).weightInit(WeightInit.XAVIER).list();
        GradientSpec e = GradientSpec.parse("shift(bits=8)");
        b.layer(new io.qat4j.layers.nn.QuantConv2D.Builder(3, 3).nOut(4).activation(Activation.RELU)
                .quant(QuantSites.of("float", "fixed(m=0, n=1, overflow=saturate_symmetric)", "float", "float").withErrors(e))
                .build());
        b.layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build());
        b.layer(new QuantDense.Builder().nOut(8).activation(Activation.RELU)
                .quant(QuantSites.of("float", "fixed(m=0, n=1, overflow=saturate_symmetric)", "float",
                        "fixed(m=0, n=7, overflow=saturate_symmetric)").withErrors(e)).build());
        b.layer(new QuantOutput.Builder(new LossL2()).nOut(3).activation(Activation.IDENTITY)
                .quant(QuantSites.of("float", "fixed(m=0, n=1, overflow=saturate_symmetric)", "float", "float")
                        .withErrors(e)).build());
        MultiLayerConfiguration c = b.setInputType(InputType.convolutional(8, 8, 1)).build();
        return FixedPointTraining.apply(c, name -> GradientSpec.parse("wage(bits=8)"),
                new FixedPointTraining.Options(GradientSpec.FLOAT, QuantSpec.parse("fixed(m=0, n=7)"), 0.5,
                        QuantSpec.FLOAT, 1, 2));
    }

    @Test
    void fixedPointNetworkRoundTripsThroughJsonAndModelSerializer(@TempDir Path tmp) throws Exception {
        MultiLayerConfiguration c = fixedPointCnn();
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(c.toJson());
        assertEquals(c, back);
        assertTrue(c.toJson().contains("\"errors\" : \"shift(bits=8)\""), "errors site in the JSON");
        var out = (org.deeplearning4j.nn.conf.layers.BaseOutputLayer) back.getConf(3).getLayer();
        assertTrue(out.getLossFn() instanceof QuantizedLoss);
        assertTrue(out.getActivationFn() instanceof ScaledActivation s && s.scale() == 1.0 / Wage.alpha(2, 8));

        MultiLayerNetwork net = init(c);
        FixedPointTraining.initialize(net);
        DataSet ds = data(6, 5);
        net.fit(ds);
        File f = tmp.resolve("fp.zip").toFile();
        ModelSerializer.writeModel(net, f, true);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(f, true);
        assertEquals(net.getLayerWiseConfigurations(), restored.getLayerWiseConfigurations());
        assertExact(net.params(), restored.params(), "restored params");
        assertEquals(null, restored.getUpdater().getStateViewArray(), "plain SGD keeps no state");
        // Stored weights are on the 1/128 grid within +-0.5.
        for (String key : new String[] {"0_W", "2_W", "3_W"}) {
            for (double w : NdArrays.read(net.getParam(key))) {
                assertEquals(Math.rint(w * 128), w * 128, 0, key + " on the grid: " + w);
                assertTrue(Math.abs(w) <= 0.5, key + " clipped: " + w);
            }
        }
    }

    @Test
    void quantizedUpdaterRoundTripsWithItsState(@TempDir Path tmp) throws Exception {
        MultiLayerConfiguration c = cnn(false, new Adam(1e-2));
        FixedPointTraining.apply(c, name -> null, new FixedPointTraining.Options(GradientSpec.FLOAT, QuantSpec.FLOAT, 0,
                QuantSpec.parse("bf16"), 256, 0));
        String json = c.toJson();
        assertTrue(json.contains("QuantizedUpdater") && json.contains("\"state\" : \"bf16\""), json);
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(json);
        assertEquals(c, back);
        IUpdater u = ((org.deeplearning4j.nn.conf.layers.BaseLayer) back.getConf(0).getLayer()).getIUpdater();
        assertTrue(u instanceof QuantizedUpdater q && q.base() instanceof Adam && q.lossScale() == 256);

        MultiLayerNetwork net = init(c);
        DataSet ds = data(6, 6);
        net.fit(ds);
        net.fit(ds);
        INDArray state = net.getUpdater().getStateViewArray();
        for (double v : NdArrays.read(state)) {
            assertEquals((double) bf16(v), v, 0, "Adam moments stored in bf16");
        }
        File f = tmp.resolve("u.zip").toFile();
        ModelSerializer.writeModel(net, f, true);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(f, true);
        assertExact(state, restored.getUpdater().getStateViewArray(), "restored updater state");
        net.fit(ds);
        restored.fit(ds);
        assertExact(net.params(), restored.params(), "training continues identically after the round trip");
        // The Trainer's per-epoch learning-rate change goes through the wrapper.
        restored.setLearningRate(0.5e-2);
        assertEquals(0.5e-2, restored.getLearningRate(0), 0);
    }

    /** Bit-for-bit equality (INDArray.equals allows 1e-5). */
    static void assertExact(INDArray expected, INDArray actual, String what) {
        assertEquals(java.util.Arrays.toString(expected.shape()), java.util.Arrays.toString(actual.shape()), what);
        double[] e = NdArrays.read(expected);
        double[] a = NdArrays.read(actual);
        for (int i = 0; i < e.length; i++) {
            if (Double.doubleToLongBits(e[i]) != Double.doubleToLongBits(a[i])) {
                throw new AssertionError(what + ": element " + i + " differs: " + e[i] + " vs " + a[i]);
            }
        }
    }

    private static float bf16(double v) {
        int bits = Float.floatToIntBits((float) v);
        int lsb = (bits >> 16) & 1;
        return Float.intBitsToFloat((bits + 0x7fff + lsb) & 0xffff0000);
    }

    @Test
    void wageGradientsNeedPowerOfTwoSgd() {
        MultiLayerConfiguration c = cnn(false, new Adam(1e-3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FixedPointTraining.apply(c,
                name -> GradientSpec.parse("wage(bits=8)"), FixedPointTraining.Options.NONE));
        assertTrue(e.getMessage().contains("needs plain SGD") && e.getMessage().contains("Adam"), e.getMessage());
        MultiLayerConfiguration c2 = cnn(false, new Sgd(0.1));
        e = assertThrows(IllegalArgumentException.class, () -> FixedPointTraining.apply(c2,
                name -> GradientSpec.parse("wage(bits=8)"), FixedPointTraining.Options.NONE));
        assertTrue(e.getMessage().contains("power-of-two learning rate") && e.getMessage().contains("0.1"), e.getMessage());
        MultiLayerConfiguration c3 = cnn(false, new Sgd(1));
        FixedPointTraining.apply(c3, name -> GradientSpec.parse("int8"), FixedPointTraining.Options.NONE);
        var conv = (org.deeplearning4j.nn.conf.layers.BaseLayer) c3.getConf(0).getLayer();
        assertEquals(java.util.List.of(new GradientQuantization(GradientSpec.parse("int8"), 0, 0, 0)), conv.getRegularization(),
                "conv weights: per-channel axis 0");
        assertEquals(java.util.List.of(new GradientQuantization(GradientSpec.parse("int8"), 0, -1, 1)),
                conv.getRegularizationBias());
        var dense = (org.deeplearning4j.nn.conf.layers.BaseLayer) c3.getConf(2).getLayer();
        assertEquals(2, ((GradientQuantization) dense.getRegularization().get(0)).layer());
    }

    @Test
    void nonFiniteGradientsAreReportedNotThrown() {
        TrainingMonitor m = TrainingMonitor.install();
        GradientQuantization gq = new GradientQuantization(GradientSpec.parse("int8"), 4, -1, 0);
        INDArray g = f32(1, Float.NaN, 2);
        gq.apply(f32(0, 0, 0), g, 1, 0, 0);
        assertNotNull(m.firstOverflow());
        assertEquals(4, m.firstOverflow().layer());
        assertEquals(TrainingMonitor.Path.GRADIENTS, m.firstOverflow().path());
        assertTrue(m.firstOverflow().what().contains("NaN"), m.firstOverflow().what());
    }
}
