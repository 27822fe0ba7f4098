package io.qat4j.layers.nn.contract;

import io.qat4j.layers.nn.QuantLayer;
import io.qat4j.layers.nn.QuantParamInitializer;
import io.qat4j.layers.nn.QuantSites;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.learning.regularization.Regularization;

import java.io.File;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The contract every quantized layer configuration keeps, checked for all of them alike: learned quantizer
 * parameters get their {@code lr_scale} and {@code l2}; state gets no updates; JSON and ModelSerializer round
 * trips; DL4J's gradient check in double with quantization off; parity with the float twin; and every entry
 * point of both network kinds, workspaces on and off, with quantization on.
 */
class QuantLayerContractTest {
    /** Observers, per-channel weights, a quantized bias: state parameters and every fixed quantizer path. */
    static final QuantSites FIXED = QuantSites.of("int(bits=8, signed=true, observer=ema)",
            "int(bits=4, axis=channel, narrow=true)", "float", "int(bits=4, observer=ema)");

    static Stream<LayerCase> cases() {
        return LayerCase.all().stream();
    }

    /** The sites a case's layer takes: the output layer's output stays float. */
    static QuantSites fixedSites(LayerCase c) {
        return c.isOutput() ? FIXED.withOutput(io.qat4j.layers.quant.QuantSpec.FLOAT) : FIXED;
    }

    @Test
    void everyQuantizedLayerClassHasACase() throws Exception {
        URL dir = QuantLayer.class.getProtectionDomain().getCodeSource().getLocation().toURI()
                .resolve("io/qat4j/layers/nn/").toURL();
        Set<String> classes = new TreeSet<>();
        try (Stream<Path> files = Files.list(Path.of(dir.toURI()))) {
            for (Path f : files.toList()) {
                String n = f.getFileName().toString();
                if (n.endsWith(".class") && !n.contains("$")) {
                    Class<?> k = Class.forName("io.qat4j.layers.nn." + n.substring(0, n.length() - 6));
                    if (QuantLayer.class.isAssignableFrom(k) && !k.isInterface()) {
                        classes.add(k.getSimpleName());
                    }
                }
            }
        }
        Set<String> covered = LayerCase.all().stream().map(LayerCase::name).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(classes, covered, "every QuantLayer implementation must have a LayerCase");
    }

    /** Change of every learned parameter after one SGD step. */
    private static Map<String, INDArray> stepDelta(LayerCase c, QuantSites sites, DataSet ds) {
        MultiLayerNetwork net = ContractNets.mln(c, sites, false, DataType.DOUBLE, new Sgd(0.1), WorkspaceMode.ENABLED);
        net.output(ds.getFeatures(), true); // lets learned quantizers initialize from the batch
        Map<String, INDArray> before = new java.util.HashMap<>();
        ContractNets.params(net, "q").forEach((k, v) -> before.put(k, v.dup()));
        net.fit(ds);
        Map<String, INDArray> delta = new java.util.HashMap<>();
        for (String k : QuantParamInitializer.learnedKeys(ContractNets.layerByName(net, "q").conf().getLayer())) {
            delta.put(k, ContractNets.params(net, "q").get(k).sub(before.get(k)));
            delta.put(k + "@before", before.get(k));
        }
        return delta;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void learnedParametersGetTheirLearningRateScaleAndL2(LayerCase c) {
        QuantSites sites = c.learned();
        Layer conf = ContractNets.mln(c, sites, false, DataType.DOUBLE, new Sgd(0.1), WorkspaceMode.ENABLED)
                .getLayerWiseConfigurations().getConf(c.before() == null ? 0 : 1).getLayer();
        List<String> keys = QuantParamInitializer.learnedKeys(conf);
        assertFalse(keys.isEmpty(), "the case's learned sites give the layer learned parameters");
        for (String k : keys) {
            double scale = QuantParamInitializer.learnedSpec(conf, k).lrScale();
            assertEquals(0.1 * scale, conf.getUpdaterByParam(k).getLearningRate(0, 0), 1e-15, k + " learning rate");
        }
        DataSet ds = ContractNets.data(c, DataType.DOUBLE, 6, 7);
        // The same step with every lr_scale at 1 and no L2: the scaled step is lr_scale times larger,
        // and L2 adds -lr * lr_scale * l2 * alpha.
        String plain = sites.toString().replaceAll("lr_scale=[0-9.]+", "lr_scale=1").replaceAll("l2=[0-9.]+", "l2=0");
        QuantSites unscaled = QuantSites.of(sites.input().toString().replaceAll(", lr_scale=[0-9.]+|, l2=[0-9.]+", ""),
                sites.weights().toString().replaceAll(", lr_scale=[0-9.]+|, l2=[0-9.]+", ""), sites.bias().toString(),
                sites.output().toString().replaceAll(", lr_scale=[0-9.]+|, l2=[0-9.]+", ""));
        assertFalse(plain.isEmpty());
        Map<String, INDArray> scaled = stepDelta(c, sites, ds);
        Map<String, INDArray> base = stepDelta(c, unscaled, ds);
        for (String k : keys) {
            var spec = QuantParamInitializer.learnedSpec(conf, k);
            INDArray expected = base.get(k).mul(spec.lrScale());
            if (spec.l2() > 0) {
                expected.subi(base.get(k + "@before").mul(0.1 * spec.lrScale() * spec.l2()));
            }
            assertTrue(expected.neq(0).any(), k + ": the step must move the parameter");
            assertTrue(expected.equalsWithEps(scaled.get(k), 1e-10),
                    k + ": expected " + expected + " got " + scaled.get(k));
            List<Regularization> reg = java.util.Objects.requireNonNullElse(conf.getRegularizationByParam(k), List.of());
            if (spec.l2() > 0) {
                assertEquals(1, reg.size(), k);
                assertInstanceOf(L2Regularization.class, reg.get(0));
            } else {
                assertTrue(reg.isEmpty(), k + " takes no weight decay");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void stateIsNeverTrained(LayerCase c) {
        MultiLayerNetwork net = ContractNets.mln(c, fixedSites(c), false, DataType.FLOAT, new Adam(0.05),
                WorkspaceMode.ENABLED);
        Layer conf = ContractNets.layerByName(net, "q").conf().getLayer();
        for (String k : ContractNets.params(net, "q").keySet()) {
            boolean state = io.qat4j.layers.nn.QuantLayerSupport.isState(conf, k);
            if (state) {
                assertInstanceOf(NoOp.class, conf.getUpdaterByParam(k), k);
                assertTrue(conf.getRegularizationByParam(k).isEmpty(), k);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void jsonAndModelSerializerRoundTrip(LayerCase c, @TempDir Path tmp) throws Exception {
        QuantSites sites = fixedSites(c);
        MultiLayerNetwork a = ContractNets.mln(c, sites, false, DataType.FLOAT, new Adam(1e-2), WorkspaceMode.ENABLED);
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(a.getLayerWiseConfigurations().toJson());
        assertEquals(a.getLayerWiseConfigurations(), back);
        ComputationGraph g = ContractNets.graph(c, sites, false, DataType.FLOAT, new Adam(1e-2), WorkspaceMode.ENABLED);
        assertEquals(g.getConfiguration(), ComputationGraphConfiguration.fromJson(g.getConfiguration().toJson()));

        DataSet ds = ContractNets.data(c, DataType.FLOAT, 8, 3);
        for (Model m : List.of(a, g)) {
            for (int i = 0; i < 2; i++) {
                ((org.deeplearning4j.nn.api.NeuralNetwork) m).fit(ds);
            }
            File f = tmp.resolve(m.getClass().getSimpleName() + ".zip").toFile();
            ModelSerializer.writeModel(m, f, true);
            Model b = m instanceof ComputationGraph ? ModelSerializer.restoreComputationGraph(f, true)
                    : ModelSerializer.restoreMultiLayerNetwork(f, true);
            assertEquals(m.params(), b.params(), "parameters, observer state included, are restored");
            assertEquals(output(m, ds.getFeatures()), output(b, ds.getFeatures()));
            ((org.deeplearning4j.nn.api.NeuralNetwork) m).fit(ds);
            ((org.deeplearning4j.nn.api.NeuralNetwork) b).fit(ds);
            assertEquals(m.params(), b.params(), "training continues identically (updater state restored)");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void gradientCheckInDoubleWithQuantizationOff(LayerCase c) {
        DataType before = Nd4j.dataType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        try {
            DataSet ds = ContractNets.data(c, DataType.DOUBLE, 4, 11);
            MultiLayerNetwork net = ContractNets.mln(c, QuantSites.none(), false, DataType.DOUBLE, new NoOp(),
                    WorkspaceMode.ENABLED);
            assertTrue(GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig().net(net)
                    .input(ds.getFeatures()).labels(ds.getLabels()).epsilon(1e-6).maxRelError(1e-3)
                    .minAbsoluteError(1e-8).print(GradientCheckUtil.PrintMode.FAILURES_ONLY).exitOnFirstError(false)),
                    "MultiLayerNetwork gradient check");
            ComputationGraph g = ContractNets.graph(c, QuantSites.none(), false, DataType.DOUBLE, new NoOp(),
                    WorkspaceMode.ENABLED);
            assertTrue(GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(g)
                    .inputs(new INDArray[] {ds.getFeatures()}).labels(new INDArray[] {ds.getLabels()}).epsilon(1e-6)
                    .maxRelError(1e-3).minAbsoluteError(1e-8).print(GradientCheckUtil.PrintMode.FAILURES_ONLY)
                    .exitOnFirstError(false)), "ComputationGraph gradient check");
        } finally {
            Nd4j.setDefaultDataTypes(before, before);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void floatSitesComputeWhatTheFloatTwinComputes(LayerCase c) {
        DataSet ds = ContractNets.data(c, DataType.DOUBLE, 6, 5);
        MultiLayerNetwork q = ContractNets.mln(c, QuantSites.none(), false, DataType.DOUBLE, new Adam(1e-2),
                WorkspaceMode.ENABLED);
        MultiLayerNetwork twin = ContractNets.mln(c, null, true, DataType.DOUBLE, new Adam(1e-2), WorkspaceMode.ENABLED);
        ContractNets.copyIntoTwin(q, twin);
        double eps = Math.max(c.parityEps(), 1e-12);
        assertTrue(q.output(ds.getFeatures()).equalsWithEps(twin.output(ds.getFeatures()), eps), "inference output");
        assertTrue(q.output(ds.getFeatures(), true).equalsWithEps(twin.output(ds.getFeatures(), true), eps),
                "training-mode output");
        q.setInput(ds.getFeatures());
        q.setLabels(ds.getLabels());
        twin.setInput(ds.getFeatures());
        twin.setLabels(ds.getLabels());
        q.computeGradientAndScore();
        twin.computeGradientAndScore();
        assertEquals(twin.score(), q.score(), eps, "score");
        Map<String, INDArray> gq = q.gradient().gradientForVariable();
        for (Map.Entry<String, INDArray> e : twin.gradient().gradientForVariable().entrySet()) {
            String key = e.getKey().replaceFirst("^[0-9]+_", "");
            String layer = e.getKey().substring(0, e.getKey().indexOf('_'));
            // twin layers q, q_1, q_2 map onto the quantized layer's index
            INDArray mine = findGradient(q, twin, layer, key);
            if (mine != null && !key.equals("mean") && !key.equals("var")) {
                assertTrue(e.getValue().reshape(mine.shape()).equalsWithEps(mine, eps), "gradient " + e.getKey());
            }
        }
        assertFalse(gq.isEmpty());
    }

    private static INDArray findGradient(MultiLayerNetwork q, MultiLayerNetwork twin, String twinIndex, String key) {
        String name = twin.getLayer(Integer.parseInt(twinIndex)).conf().getLayer().getLayerName();
        String qName = name.startsWith("q") ? "q" : name;
        for (int i = 0; i < q.getnLayers(); i++) {
            if (q.getLayer(i).conf().getLayer().getLayerName().equals(qName)) {
                return q.gradient().gradientForVariable().get(i + "_" + key);
            }
        }
        return null;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void everyEntryPointOfBothNetworkKindsWithWorkspacesOnAndOff(LayerCase c) {
        DataSet ds = ContractNets.data(c, DataType.FLOAT, 8, 9);
        INDArray x = ds.getFeatures();
        MultiLayerNetwork ref = null;
        for (WorkspaceMode ws : new WorkspaceMode[] {WorkspaceMode.ENABLED, WorkspaceMode.NONE}) {
            MultiLayerNetwork mln = ContractNets.mln(c, fixedSites(c), false, DataType.FLOAT, new Adam(1e-2), ws);
            ComputationGraph cg = ContractNets.graph(c, fixedSites(c), false, DataType.FLOAT, new Adam(1e-2), ws);
            if (ref == null) {
                ref = mln;
            } else {
                ContractNets.copyByName(ref, mln);
            }
            ContractNets.copyByName(ref, cg);
            String where;
            // inference entry points before any training (observers empty) and after
            for (int round = 0; round < 2; round++) {
                where = c + ", workspaces " + ws + ", round " + round;
                INDArray out = mln.output(x, false);
                assertTrue(out.isMatrix() && !out.isInfinite().any() && !out.isNaN().any(), where);
                assertEquals(out, cg.outputSingle(false, x), where + ": ComputationGraph.outputSingle");
                assertEquals(out, cg.output(false, x)[0], where + ": ComputationGraph.output");
                assertEquals(out, cg.output(x)[0], where + ": ComputationGraph.output(x)");
                List<INDArray> ff = mln.feedForward(x, false);
                assertEquals(out, ff.get(ff.size() - 1), where + ": MultiLayerNetwork.feedForward");
                Map<String, INDArray> cff = cg.feedForward(x, false);
                assertEquals(out, cff.get(cg.getConfiguration().getNetworkOutputs().get(0)), where + ": feedForward");
                assertEquals(mln.score(ds), cg.score(ds), 1e-6, where + ": score");
                assertEquals(mln.evaluate(new org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator<>(
                        List.of(ds))).accuracy(), cg.evaluate(
                        new org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator<>(List.of(ds))).accuracy(),
                        where + ": evaluate");
                // training entry points: both kinds take the same steps
                mln.fit(ds);
                cg.fit(ds);
                mln.fit(new org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator<>(List.of(ds)));
                cg.fit(new org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator<>(List.of(ds)));
                assertTrue(ContractNets.params(mln, "q").values().stream().noneMatch(p -> p.isNaN().any()), where);
                for (String layer : ContractNets.layerNames(mln)) {
                    Map<String, INDArray> a = ContractNets.params(mln, layer);
                    Map<String, INDArray> b = ContractNets.params(cg, layer);
                    for (String k : a.keySet()) {
                        assertTrue(a.get(k).equalsWithEps(b.get(k), 1e-5), where + ": " + layer + "." + k
                                + " after training");
                    }
                }
                assertEquals(mln.output(x, true).shape()[0], cg.outputSingle(true, x).shape()[0], where);
                List<INDArray> ffTrain = mln.feedForward(x, true);
                INDArray cgTrain = cg.feedForward(x, true).get(cg.getConfiguration().getNetworkOutputs().get(0));
                assertTrue(ffTrain.get(ffTrain.size() - 1).equalsWithEps(cgTrain, 1e-5), where + ": feedForward(train)");
            }
        }
    }

    private static INDArray output(Model m, INDArray x) {
        return m instanceof ComputationGraph g ? g.outputSingle(x) : ((MultiLayerNetwork) m).output(x);
    }
}
