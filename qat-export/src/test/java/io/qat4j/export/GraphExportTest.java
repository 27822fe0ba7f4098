package io.qat4j.export;

import io.qat4j.inference.Quantization;
import io.qat4j.inference.engine.EngineConfig;
import io.qat4j.inference.engine.IntegerEngine;
import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.layers.nn.QuantSites;
import io.qat4j.zoo.BnFolding;
import io.qat4j.zoo.InputSpec;
import io.qat4j.zoo.LayerKind;
import io.qat4j.zoo.MobileNetV1;
import io.qat4j.zoo.ModelZoo;
import io.qat4j.zoo.NetConf;
import io.qat4j.zoo.NetSettings;
import io.qat4j.zoo.Normalization;
import io.qat4j.zoo.QuantPlan;
import io.qat4j.zoo.ResNet;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Graphs through the export: residual additions with option-A (zero-padding) and option-B (projection) shortcuts,
 * global average pooling, depth-wise convolutions, folded and unfolded batch normalization; the integer engine on
 * the export agrees with the fake-quant graph layer by layer.
 */
class GraphExportTest {
    private static final InputSpec IN = new InputSpec(1, 12, 12, 10);

    /** W8A8: 8-bit per-channel weights, 8-bit activations (unsigned after ReLU), 8-bit classifier input. */
    static final QuantPlan W8A8 = new QuantPlan() {
        @Override
        public QuantSites sites(String name, LayerKind kind) {
            return sites(name, kind, true);
        }

        @Override
        public QuantSites sites(String name, LayerKind kind, boolean nonNegative) {
            String w = kind.hasWeights() ? "int(bits=8, narrow=true, axis=channel)" : "float";
            String a = kind == LayerKind.OUTPUT ? "float"
                    : nonNegative ? "int(bits=8, signed=false, observer=ema)" : "int(bits=8, observer=ema)";
            return QuantSites.of("float", w, "float", a);
        }
    };

    /** Ten fixed random 12x12 class templates. */
    private static final INDArray TEMPLATES = templates();

    private static INDArray templates() {
        Nd4j.getRandom().setSeed(3);
        return Nd4j.rand(DataType.FLOAT, 10, 144);
    }

    /**
     * A learnable task: class k is template k plus noise, 8-bit pixels k/255 (the values the export's uint8 input
     * represents exactly).
     */
    static DataSet data(int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.rand(DataType.FLOAT, n, 144).muli(0.4);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 10);
        for (int k = 0; k < n; k++) {
            x.getRow(k).addi(TEMPLATES.getRow(k % 10).mul(0.6));
            y.putScalar(k, k % 10, 1);
        }
        return new DataSet(org.nd4j.linalg.ops.transforms.Transforms.floor(x.muli(255), false).divi(255), y);
    }

    /** A graph trained on {@link #data} until it is confident (observers and statistics set). */
    static ComputationGraph trained(String model, Object options) {
        ComputationGraph g = ((NetConf.Graph) ModelZoo.build(model, options, IN, new NetSettings(5, new Adam(3e-3), 0),
                W8A8)).init();
        for (int i = 0; i < 30; i++) {
            g.fit(data(20, i));
        }
        return g;
    }

    /**
     * Runs the engine on 32 random images and checks: the residual additions and the global average pooling compute
     * exactly the real formula on their input codes (the integer requantization); every exported layer's codes are
     * within one LSB of its DL4J counterpart for nearly all values (the first convolution identical: nothing upstream
     * can differ); the int8 logits within one LSB for {@code logitsWithin1} of the values (tiny networks trained for seconds,
     * whose one-LSB differences of hidden codes add up over the depth; the trained networks of docs/ are measured by
     * qat simulate); the top-1 class.
     */
    static void agrees(ComputationGraph g, double logitsWithin1) {
        Exporter.Result r = Exporter.export(g, "t", Exporter.OutputQuant.covering(8,
                Exporter.maxAbsLogit(g, data(64, 100).getFeatures())));
        ExportModel m = r.model();
        IntegerEngine engine = new IntegerEngine(m, EngineConfig.INT32);
        ExportNetwork net = ExportNetwork.of(g);
        INDArray x = data(32, 200).getFeatures();
        Map<String, INDArray> acts = net.activations(x);
        float[][] logits = net.logits(acts).toFloatMatrix();
        float[][] xs = x.toFloatMatrix();
        Map<String, ActivationSpec> specs = new java.util.HashMap<>();
        specs.put("input", m.manifest().input());
        m.manifest().layers().forEach(l -> specs.put(l.name(), l.output()));
        LayerSpec out = m.manifest().outputLayer();
        String first = m.manifest().layers().get(0).name();
        long[] vsDl4j = new long[3]; // values, within 1 LSB, identical
        long[] firstLayer = new long[2]; // values, identical
        long[] formula = new long[2]; // values, identical
        long[] logitCodes = new long[2]; // values, within 1 LSB
        int agree = 0;
        for (int b = 0; b < 32; b++) {
            Map<String, int[]> outs = engine.runAll(Quantization.quantizeInput(xs[b], m.manifest().input()));
            for (LayerSpec l : m.manifest().layers()) {
                int[] e = outs.get(l.name());
                ActivationSpec o = l.output();
                if (l.op().equals("add") || l.op().equals("global_avg_pool")) {
                    double[] real = realFormula(l, outs, specs);
                    for (int i = 0; i < e.length; i++) {
                        double q = Math.max(l.clampMin(), Math.min(l.clampMax(), Math.rint(real[i] / o.scale())
                                + o.zeroPoint()));
                        formula[0]++;
                        formula[1] += e[i] == q ? 1 : 0;
                    }
                }
                String src = r.dl4jSources().get(l.name());
                if (src == null) {
                    continue;
                }
                float[] v = acts.get(src).get(org.nd4j.linalg.indexing.NDArrayIndex.point(b)).dup('c').reshape(-1)
                        .toFloatVector();
                assertEquals(v.length, e.length, l.name());
                for (int i = 0; i < e.length; i++) {
                    long f = (long) Math.max(o.qmin(), Math.min(o.qmax(), Math.rint(v[i] / (float) o.scale())
                            + o.zeroPoint()));
                    long d = Math.abs(e[i] - f);
                    vsDl4j[0]++;
                    vsDl4j[1] += d <= 1 ? 1 : 0;
                    vsDl4j[2] += d == 0 ? 1 : 0;
                    if (l.name().equals(first)) {
                        firstLayer[0]++;
                        firstLayer[1] += d == 0 ? 1 : 0;
                    }
                }
            }
            int[] q = outs.get(out.name());
            for (int c = 0; c < q.length; c++) {
                double f = Math.max(out.output().qmin(), Math.min(out.output().qmax(),
                        Math.rint(logits[b][c] / out.output().scale())));
                logitCodes[0]++;
                logitCodes[1] += Math.abs(q[c] - f) <= 1 ? 1 : 0;
            }
            agree += argMax(q) == argMax(logits[b]) ? 1 : 0;
        }
        assertTrue(formula[0] > 1000 && formula[1] >= formula[0] * 0.999,
                "add / global_avg_pool vs the real formula: " + formula[1] + " of " + formula[0] + " identical");
        assertTrue(firstLayer[1] >= firstLayer[0] * 0.995, "first layer identical: " + firstLayer[1] + " of "
                + firstLayer[0]);
        assertTrue(vsDl4j[1] >= vsDl4j[0] * 0.98, "within 1 LSB of DL4J: " + vsDl4j[1] + " of " + vsDl4j[0]);
        assertTrue(logitCodes[1] >= logitCodes[0] * logitsWithin1, "logits within 1 LSB: " + logitCodes[1] + " of "
                + logitCodes[0]);
        assertTrue(agree >= 31, "top-1 agreement " + agree + " of 32");
    }

    /** The real value of an add / global_avg_pool output from its input codes, in double precision. */
    static double[] realFormula(LayerSpec l, Map<String, int[]> outs, Map<String, ActivationSpec> specs) {
        ActivationSpec a = specs.get(l.inputs().get(0));
        int[] x = outs.get(l.inputs().get(0));
        if (l.op().equals("add")) {
            ActivationSpec bSpec = specs.get(l.inputs().get(1));
            int[] y = outs.get(l.inputs().get(1));
            double[] r = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                r[i] = a.scale() * (x[i] - a.zeroPoint()) + bSpec.scale() * (y[i] - bSpec.zeroPoint());
            }
            return r;
        }
        int channels = a.shape().get(1);
        int positions = x.length / channels;
        double[] r = new double[channels];
        for (int c = 0; c < channels; c++) {
            long sum = 0;
            for (int p = 0; p < positions; p++) {
                sum += x[c * positions + p] - a.zeroPoint();
            }
            r[c] = a.scale() * sum / positions;
        }
        return r;
    }

    static int argMax(int[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            best = v[i] > v[best] ? i : best;
        }
        return best;
    }

    static int argMax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            best = v[i] > v[best] ? i : best;
        }
        return best;
    }

    static Set<String> ops(ComputationGraph g) {
        return Exporter.export(g, "t").model().manifest().layers().stream().map(LayerSpec::op)
                .collect(Collectors.toSet());
    }

    @Test
    void resnetWithZeroPaddingShortcutsExportsAndTheEngineAgrees() {
        ComputationGraph g = trained("resnet", new ResNet.Options(8, 1, ResNet.Shortcut.A, Normalization.STANDARD,
                BnFolding.none()));
        assertTrue(ops(g).containsAll(List.of("conv2d", "add", "pad_channels", "max_pool", "global_avg_pool", "dense")),
                ops(g).toString());
        agrees(g, 0.95);
    }

    @Test
    void resnetWithProjectionsAndFoldedNormalizationExportsAndTheEngineAgrees() {
        agrees(trained("resnet", new ResNet.Options(8, 1, ResNet.Shortcut.B, Normalization.STANDARD,
                BnFolding.folded(0))), 0.95);
    }

    @Test
    void mobileNetWithDepthwiseConvolutionsExportsAndTheEngineAgrees() {
        ComputationGraph g = trained("mobilenet_v1", new MobileNetV1.Options(0.25, Normalization.STANDARD,
                BnFolding.none()));
        assertTrue(ops(g).contains("depthwise_conv2d"));
        // 27 layers of 8 to 64 channels, trained for seconds: its logits are small, so the one-LSB differences of the
        // pooled features move them by several int8 steps; the per-layer and top-1 checks still hold
        agrees(g, 0.5);
    }

    @Test
    void aFloatResultThatBranchesIsRefusedNamingTheLayer() {
        QuantPlan weightsOnly = (name, kind) -> QuantSites.of("float", kind.hasWeights()
                ? "int(bits=8, narrow=true, axis=channel)" : "float", "float", "float");
        ComputationGraph g = ((NetConf.Graph) ModelZoo.build("resnet", new ResNet.Options(8, 1, ResNet.Shortcut.A,
                Normalization.STANDARD, BnFolding.none()), IN, new NetSettings(5, new Adam(1e-3), 0), weightsOnly)).init();
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Exporter.export(g, "t"));
        assertTrue(e.getMessage().contains("conv1") && e.getMessage().contains("float"), e.getMessage());
    }
}
