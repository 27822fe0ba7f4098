package io.qat4j.layers.nn;

import static io.qat4j.layers.TestArrays.assertValues;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.qat4j.layers.quant.LearnedQuantizer;
import io.qat4j.layers.quant.LearnedQuantizer.Role;
import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizers;
import java.io.File;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.common.primitives.Pair;
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

/**
 * Learned quantizers inside DL4J networks: their parameters are layer parameters (keys, shapes,
 * initial values), the layers write the right gradients into the gradient views, DL4J's gradient
 * check passes where the quantizer is differentiable (no discretization), the updater, learning-rate
 * scale and PACT's L2 penalty act on them, and they survive JSON and ModelSerializer round trips.
 */
class LearnedQuantLayerTest {

    private static DataSet images(DataType dt, int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.rand(dt, n, 1, 6, 6).subi(0.5);
        INDArray y = Nd4j.zeros(dt, n, 3);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, i % 3, 1.0);
        }
        return new DataSet(x, y);
    }

    private static DataSet vectors(DataType dt, int n, int features, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.rand(dt, n, features).subi(0.5);
        INDArray y = Nd4j.zeros(dt, n, 3);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, i % 3, 1.0);
        }
        return new DataSet(x, y);
    }

    private static NeuralNetConfiguration.ListBuilder list(DataType dt, IUpdater u) {
        return list(dt, u, 0);
    }

    private static NeuralNetConfiguration.ListBuilder list(DataType dt, IUpdater u, double weightL2) {
        return new NeuralNetConfiguration.Builder().seed(42).dataType(dt).updater(u).l2(weightL2)
                .weightInit(WeightInit.XAVIER).list();
    }

    private static QuantOutput output(int nOut) {
        return new QuantOutput.Builder(LossFunctions.LossFunction.MCXENT).nOut(nOut).activation(Activation.SOFTMAX).build();
    }

    private static MultiLayerNetwork init(MultiLayerConfiguration c) {
        MultiLayerNetwork n = new MultiLayerNetwork(c);
        n.init();
        return n;
    }

    private static void withDoubles(Runnable r) {
        DataType before = Nd4j.dataType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        try {
            r.run();
        } finally {
            Nd4j.setDefaultDataTypes(before, before);
        }
    }

    private static boolean gradientsCheck(MultiLayerNetwork n, DataSet ds) {
        return GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig().net(n).input(ds.getFeatures())
                .labels(ds.getLabels()).print(GradientCheckUtil.PrintMode.FAILURES_ONLY));
    }

    // ------------------------------------------------------------------ gradient checks (no discretization)

    /** PACT as a learned clip (bits=32): alpha per channel on a conv output, per tensor on an activation layer, with L2. */
    @Test
    void pactClipPassesGradientCheckIncludingAlphaAndItsL2() {
        withDoubles(() -> {
            MultiLayerConfiguration c = list(DataType.DOUBLE, new NoOp())
                    .layer(new QuantConv2D.Builder(3, 3).nOut(3).activation(Activation.RELU)
                            .outputQuant("pact(bits=32, axis=channel, init=0.25, l2=0.05)").build())
                    .layer(new QuantActivation.Builder().activation(Activation.IDENTITY).quant("pact(bits=32, init=0.15, l2=0.1)")
                            .build())
                    .layer(new DenseLayer.Builder().nOut(4).activation(Activation.TANH).build())
                    .layer(output(3))
                    .setInputType(InputType.convolutional(6, 6, 1)).build();
            MultiLayerNetwork n = init(c);
            DataSet ds = images(DataType.DOUBLE, 5, 3);
            INDArray y = n.feedForward(ds.getFeatures(), false).get(1);
            assertTrue(y.maxNumber().doubleValue() == 0.25 && y.minNumber().doubleValue() == 0, "some values clipped");
            assertTrue(gradientsCheck(n, ds));
        });
    }

    /** QIL's transformers (bits=32) on dense weights (with gamma) and activations. */
    @Test
    void qilTransformersPassGradientCheck() {
        withDoubles(() -> {
            MultiLayerConfiguration c = list(DataType.DOUBLE, new NoOp())
                    .layer(new QuantDense.Builder().nIn(8).nOut(6).activation(Activation.TANH).weightQuant("qil(bits=32)")
                            .outputQuant("qil(bits=32)").build())
                    .layer(new QuantActivation.Builder().activation(Activation.IDENTITY).quant("qil(bits=32)").build())
                    .layer(output(3))
                    .setInputType(InputType.feedForward(8)).build();
            MultiLayerNetwork n = init(c);
            // intervals set by hand (so that both pruning and clipping happen), gamma != 1
            n.getLayer(0).setParam("wc", Nd4j.scalar(0.3).reshape(1));
            n.getLayer(0).setParam("wd", Nd4j.scalar(0.25).reshape(1));
            n.getLayer(0).setParam("wgamma", Nd4j.scalar(1.4).reshape(1));
            n.getLayer(0).setParam("ac", Nd4j.scalar(0.2).reshape(1));
            n.getLayer(0).setParam("ad", Nd4j.scalar(0.3).reshape(1));
            n.getLayer(1).setParam("ac", Nd4j.scalar(0.5).reshape(1));
            n.getLayer(1).setParam("ad", Nd4j.scalar(0.3).reshape(1));
            INDArray w = n.getLayer(0).getParam("W");
            double maxW = w.amaxNumber().doubleValue();
            double minW = Nd4j.getExecutioner().exec(new org.nd4j.linalg.api.ops.impl.reduce.same.AMin(w)).getDouble(0);
            assertTrue(maxW > 0.55 && minW < 0.05, "weights both clipped and pruned: " + minW + " .. " + maxW);
            assertTrue(gradientsCheck(n, vectors(DataType.DOUBLE, 6, 8, 4)));
        });
    }

    // ------------------------------------------------------------------ gradients written by the layers

    /**
     * A dense layer's backward pass equals the quantizers' own maths: forward z = x Q_w(W) + b,
     * y = Q_a(z); backward dz = Q_a'(dy) (and d params of Q_a), dW_hat = x^T dz, (dW, d params of Q_w) =
     * Q_w'(dW_hat), db = sum dz, dx = dz W_hat^T.
     */
    @ParameterizedTest(name = "{0} / {1}")
    @CsvSource(delimiter = '|', value = {
        "lsq(bits=3, axis=channel) | lsq(bits=2, signed=false)",
        "ttq(threshold=0.2)        | pact(bits=2, init=0.5)",
        "qil(bits=3)               | qil(bits=2)",
        "sawb(bits=2)              | pact(bits=3, axis=channel, init=0.4)"})
    void denseLayerWritesTheQuantizersGradients(String wSpec, String aSpec) {
        MultiLayerConfiguration c = list(DataType.DOUBLE, new Adam(1e-3))
                .layer(new QuantDense.Builder().nIn(4).nOut(3).activation(Activation.IDENTITY).weightQuant(wSpec)
                        .outputQuant(aSpec).build())
                .layer(output(3))
                .setInputType(InputType.feedForward(4)).build();
        MultiLayerNetwork n = init(c);
        n.initGradientsView();
        org.deeplearning4j.nn.api.Layer l = n.getLayer(0);
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        Nd4j.getRandom().setSeed(9);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 5, 4).subi(0.3);
        INDArray eps = Nd4j.rand(DataType.DOUBLE, 5, 3).subi(0.5);
        l.setInput(x, mgr);
        INDArray y = l.activate(true, mgr).dup();
        Pair<Gradient, INDArray> p = l.backpropGradient(eps, mgr);

        // the same computation by hand, with the parameters as the forward pass initialized them
        QuantSpec ws = QuantSpec.parse(wSpec);
        QuantSpec as = QuantSpec.parse(aSpec);
        Map<String, INDArray> wp = learned(l, ws, Role.WEIGHTS, QuantSites.Site.WEIGHTS);
        Map<String, INDArray> ap = learned(l, as, Role.ACTIVATIONS, QuantSites.Site.OUTPUT);
        INDArray w = l.getParam("W");
        QuantContext wctx = QuantContext.of(1).withTraining(true);
        INDArray wHat = ws.isLearned() ? Quantizers.learned(ws).forward(w, wp, wctx, Role.WEIGHTS).output()
                : Quantizers.of(ws).forward(w, wctx).output();
        INDArray z = x.mmul(wHat).addiRowVector(l.getParam("b"));
        QuantContext actx = QuantContext.of(as.granularity() == io.qat4j.layers.quant.Granularity.TENSOR ? -1 : 1);
        LearnedQuantizer aq = Quantizers.learned(as);
        assertValues(NdArrays.read(aq.forward(z, ap, actx, Role.ACTIVATIONS).output()), y, 1e-12);

        Map<String, INDArray> dap = zerosLike(ap);
        INDArray dz = aq.backward(z, eps, ap, actx, Role.ACTIVATIONS, dap);
        INDArray dwHat = x.transpose().mmul(dz);
        Map<String, INDArray> dwp = zerosLike(wp);
        INDArray dw = ws.isLearned() ? Quantizers.learned(ws).backward(w, dwHat, wp, wctx, Role.WEIGHTS, dwp)
                : Quantizers.of(ws).backward(w, dwHat, Quantizers.of(ws).forward(w, wctx));
        Gradient g = p.getFirst();
        assertValues(NdArrays.read(dw), g.getGradientFor("W"), 1e-10);
        assertValues(NdArrays.read(dz.sum(0)), g.getGradientFor("b"), 1e-10);
        assertValues(NdArrays.read(dz.mmul(wHat.transpose())), p.getSecond(), 1e-10);
        for (Map.Entry<String, INDArray> e : dwp.entrySet()) {
            String key = QuantParamInitializer.learnedKey(QuantSites.Site.WEIGHTS, e.getKey());
            assertValues(NdArrays.read(e.getValue()), g.getGradientFor(key), 1e-10);
        }
        for (Map.Entry<String, INDArray> e : dap.entrySet()) {
            String key = QuantParamInitializer.learnedKey(QuantSites.Site.OUTPUT, e.getKey());
            assertValues(NdArrays.read(e.getValue()), g.getGradientFor(key), 1e-10);
        }
        assertTrue(g.gradientForVariable().size() == 2 + dwp.size() + dap.size(), g.gradientForVariable().keySet().toString());
    }

    /** The learned parameters of one site as the quantizer names them (copies of the layer's values). */
    private static Map<String, INDArray> learned(org.deeplearning4j.nn.api.Layer l, QuantSpec spec, Role role,
                                                 QuantSites.Site site) {
        Map<String, INDArray> m = new LinkedHashMap<>();
        if (!spec.isLearned()) {
            return m;
        }
        for (LearnedQuantizer.Param p : Quantizers.learned(spec).params(role, 3)) {
            INDArray v = l.getParam(QuantParamInitializer.learnedKey(site, p.name())).dup();
            assertNotEquals(0.0, v.getDouble(0), p.name() + " was initialized by the forward pass");
            m.put(p.name(), v);
        }
        return m;
    }

    private static Map<String, INDArray> zerosLike(Map<String, INDArray> m) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, Nd4j.zerosLike(v)));
        return out;
    }

    // ------------------------------------------------------------------ parameters, JSON, saving, training

    /** A small CNN with a learned quantizer of every kind somewhere. */
    private static MultiLayerConfiguration everyKind(IUpdater u) {
        return list(DataType.FLOAT, u)
                .layer(new QuantConv2D.Builder(3, 3).nOut(3).activation(Activation.RELU).weightQuant("lsq(bits=2, axis=channel)")
                        .outputQuant("pact(bits=4, axis=channel, init=3, l2=0.001, lr_scale=10)").build())
                .layer(new QuantActivation.Builder().activation(Activation.IDENTITY).quant("lsq(bits=2, signed=false, axis=channel)")
                        .build())
                .layer(new QuantDense.Builder().nOut(6).activation(Activation.RELU).weightQuant("qil(bits=3)")
                        .outputQuant("qil(bits=3)").build())
                .layer(new QuantDense.Builder().nOut(5).activation(Activation.TANH).weightQuant("ttq").build())
                .layer(new QuantOutput.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX)
                        .inputQuant("lsq(bits=4, signed=false)").weightQuant("sawb(bits=2)").build())
                .setInputType(InputType.convolutional(6, 6, 1)).build();
    }

    @Test
    void learnedParametersAreLayerParametersWithKeysShapesAndInitialValues() {
        MultiLayerConfiguration c = everyKind(new Adam(1e-3));
        assertEquals(c, MultiLayerConfiguration.fromJson(c.toJson()));
        MultiLayerNetwork n = init(c);
        assertEquals(List.of("b", "W", "wstep", "alpha"), List.copyOf(n.getLayer(0).paramTable().keySet()));
        assertEquals(List.of("astep"), List.copyOf(n.getLayer(1).paramTable().keySet()));
        assertEquals(List.of("W", "b", "wc", "wd", "wgamma", "ac", "ad"), List.copyOf(n.getLayer(2).paramTable().keySet()));
        assertEquals(List.of("W", "b", "wp", "wn"), List.copyOf(n.getLayer(3).paramTable().keySet()));
        assertEquals(List.of("W", "b", "istep"), List.copyOf(n.getLayer(4).paramTable().keySet()));
        assertArrayEquals(new double[] {3, 3, 3}, n.getLayer(0).getParam("alpha").toDoubleVector());
        assertArrayEquals(new double[] {0, 0, 0}, n.getLayer(0).getParam("wstep").toDoubleVector(), "set from data");
        assertEquals(3, n.getLayer(1).getParam("astep").length());
        assertEquals(1, n.getLayer(2).getParam("wgamma").getDouble(0));
        assertEquals(List.of("wp", "wn"), QuantParamInitializer.learnedKeys(c.getConf(3).getLayer()));

        n.output(images(DataType.FLOAT, 4, 1).getFeatures());
        for (String k : List.of("wstep", "alpha")) {
            for (double v : n.getLayer(0).getParam(k).toDoubleVector()) {
                assertTrue(v > 0, k + " initialized: " + v);
            }
        }
        assertTrue(n.getLayer(3).getParam("wp").getDouble(0) > 0 && n.getLayer(3).getParam("wn").getDouble(0) > 0);
    }

    @Test
    void learnedParametersTrainSaveAndResumeIdentically(@TempDir Path tmp) throws Exception {
        MultiLayerNetwork n = init(everyKind(new Adam(1e-2)));
        DataSet ds = images(DataType.FLOAT, 8, 2);
        n.fit(ds);
        Map<String, INDArray> first = learnedValues(n);
        for (int i = 0; i < 4; i++) {
            n.fit(ds);
        }
        Map<String, INDArray> later = learnedValues(n);
        for (String k : first.keySet()) {
            assertNotEquals(first.get(k), later.get(k), k + " changes under training");
        }

        File f = tmp.resolve("learned.zip").toFile();
        ModelSerializer.writeModel(n, f, true);
        MultiLayerNetwork back = ModelSerializer.restoreMultiLayerNetwork(f, true);
        assertEquals(n.params(), back.params());
        assertEquals(learnedValues(n), learnedValues(back));
        assertEquals(n.output(ds.getFeatures()), back.output(ds.getFeatures()));
        for (int i = 0; i < 3; i++) {
            n.fit(ds);
            back.fit(ds);
        }
        assertEquals(n.params(), back.params(), "training continues identically after restoring");
    }

    private static Map<String, INDArray> learnedValues(MultiLayerNetwork n) {
        Map<String, INDArray> m = new LinkedHashMap<>();
        for (int i = 0; i < n.getnLayers(); i++) {
            for (String k : QuantParamInitializer.learnedKeys(n.getLayer(i).conf().getLayer())) {
                m.put(i + "_" + k, n.getLayer(i).getParam(k).dup());
            }
        }
        return m;
    }

    /**
     * With nothing clipped (alpha = 100) alpha's only gradient is the L2 term l2 alpha, so one SGD step
     * gives alpha - lr lr_scale l2 alpha; the scale follows later changes of the learning rate.
     */
    @ParameterizedTest(name = "lr_scale {0}")
    @CsvSource({"1", "4"})
    void pactAlphaTakesItsL2PenaltyAtTheScaledLearningRate(double scale) {
        MultiLayerConfiguration c = list(DataType.DOUBLE, new Sgd(0.1), 0.3)
                .layer(new QuantDense.Builder().nIn(4).nOut(3).activation(Activation.RELU)
                        .outputQuant("pact(bits=4, init=100, l2=0.5" + (scale == 1 ? "" : ", lr_scale=" + (int) scale) + ")").build())
                .layer(output(3))
                .setInputType(InputType.feedForward(4)).build();
        MultiLayerNetwork n = init(c);
        var conf = c.getConf(0).getLayer();
        assertEquals(0.1 * scale, conf.getUpdaterByParam("alpha").getLearningRate(0, 0), 1e-15);
        assertEquals(0.1, conf.getUpdaterByParam("W").getLearningRate(0, 0), 1e-15);
        assertEquals(1, conf.getRegularizationByParam("alpha").size(), "alpha: its own L2, not the weight decay");
        DataSet ds = vectors(DataType.DOUBLE, 6, 4, 5);
        n.fit(ds);
        double a1 = 100 - 0.1 * scale * 0.5 * 100;
        assertEquals(a1, n.getLayer(0).getParam("alpha").getDouble(0), 1e-9);
        n.setLearningRate(0.01);
        n.fit(ds);
        assertEquals(a1 - 0.01 * scale * 0.5 * a1, n.getLayer(0).getParam("alpha").getDouble(0), 1e-9);
    }

    @Test
    void learnedParametersTakeNoWeightDecay() {
        MultiLayerConfiguration c = list(DataType.FLOAT, new Sgd(0.1), 0.3)
                .layer(new QuantDense.Builder().nIn(4).nOut(3).weightQuant("lsq(bits=2)").outputQuant("pact(bits=2)").build())
                .layer(output(3)).setInputType(InputType.feedForward(4)).build();
        var conf = c.getConf(0).getLayer();
        assertTrue(conf.getRegularizationByParam("wstep").isEmpty());
        assertTrue(conf.getRegularizationByParam("alpha").isEmpty(), "l2=0: no penalty on alpha");
        assertEquals(1, conf.getRegularizationByParam("W").size());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "float  | pact(bits=4) | float        | float | pact clips activations to [0, alpha] and cannot quantize weights",
        "float  | float        | float        | ttq   | ttq ternarizes weights and cannot quantize activations ('ttq' at the output site)",
        "ttq    | float        | float        | float | ttq ternarizes weights and cannot quantize activations ('ttq' at the input site)",
        "float  | float        | lsq(bits=4)  | float | learned quantizer 'lsq(bits=4)' at the bias site"})
    void learnedQuantizersOnlyWhereTheyApply(String in, String w, String b, String out, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QuantSites.of(in, w, b, out));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }
}
