package io.qat4j.layers.train;

import io.qat4j.layers.nn.FusedBnParamInitializer;
import io.qat4j.layers.nn.QuantDense;
import io.qat4j.layers.nn.QuantDenseBN;
import io.qat4j.layers.nn.QuantOutput;
import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.quant.QuantSpec;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fixed-point training together with the learned quantizers and the layers with folded batch
 * normalization: the error site quantizes the error those layers hand back without changing their
 * parameter gradients (learned ones included), and the gradient path reaches the fused layers' weights
 * but not their γ and β.
 */
class FixedPointWithLearnedAndFusedTest {
    private static final GradientSpec ERRORS = GradientSpec.parse("shift(bits=4)");

    @AfterEach
    void noMonitor() {
        TrainingMonitor.uninstall();
    }

    private static MultiLayerNetwork net(org.deeplearning4j.nn.conf.layers.Layer first, int nIn, int hidden) {
        MultiLayerConfiguration c = new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.FLOAT)
                .updater(new Sgd(0.1)).list()
                .layer(first)
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(hidden).nOut(2)
                        .activation(Activation.IDENTITY).build())
                .build();
        MultiLayerNetwork n = new MultiLayerNetwork(c);
        n.init();
        n.initGradientsView();
        return n;
    }

    private static QuantDense learnedDense(GradientSpec errors) {
        QuantSites s = QuantSites.of("float", "lsq(bits=4)", "float", "pact(bits=4, init=0.4)").withErrors(errors);
        return new QuantDense.Builder().nIn(3).nOut(4).activation(Activation.RELU).quant(s).build();
    }

    private static QuantDenseBN fusedDense(GradientSpec errors) {
        QuantSites s = QuantSites.of("float", "int(bits=8, narrow=true, axis=channel)", "float", "float")
                .withErrors(errors);
        return new QuantDenseBN.Builder().nIn(3).nOut(4).activation(Activation.IDENTITY).quant(s).build();
    }

    /** One forward and backward pass of layer 0 of {@code n} on fixed data (same parameters for every net). */
    private static Pair<Gradient, INDArray> backprop(MultiLayerNetwork n, INDArray params) {
        n.setParams(params.dup());
        Layer l = n.getLayer(0);
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        l.setInput(Nd4j.createFromArray(new float[][] {{0.2f, -0.4f, 0.9f}, {0.7f, 0.1f, -0.3f}, {-0.5f, 0.8f, 0.6f}}),
                mgr);
        l.activate(true, mgr);
        INDArray eps = Nd4j.createFromArray(new float[][] {{0.3f, -0.1f, 0.05f, 0.2f}, {-0.25f, 0.4f, 0.1f, -0.02f},
                {0.15f, 0.01f, -0.3f, 0.12f}});
        Pair<Gradient, INDArray> p = l.backpropGradient(eps, mgr);
        // Copy out of the gradient views, which the next pass overwrites.
        Gradient g = new org.deeplearning4j.nn.gradient.DefaultGradient();
        p.getFirst().gradientForVariable().forEach((k, v) -> g.setGradientFor(k, v.dup()));
        return new Pair<>(g, p.getSecond().dup());
    }

    private static void assertSameGradients(Gradient expected, Gradient actual, List<String> keys) {
        for (String k : keys) {
            assertEquals(expected.getGradientFor(k), actual.getGradientFor(k), k);
        }
    }

    @Test
    void learnedQuantizersKeepTheirGradientsWhileTheErrorIsQuantized() {
        MultiLayerNetwork plain = net(learnedDense(GradientSpec.FLOAT), 3, 4);
        MultiLayerNetwork quant = net(learnedDense(ERRORS), 3, 4);
        INDArray params = plain.params().dup();
        Pair<Gradient, INDArray> a = backprop(plain, params);
        Pair<Gradient, INDArray> b = backprop(quant, params);
        List<String> keys = List.of("W", "b", "wstep", "alpha");
        assertSameGradients(a.getFirst(), b.getFirst(), keys);
        assertNotEquals(0.0, b.getFirst().getGradientFor("alpha").norm1Number().doubleValue(), "alpha is trained");
        assertNotEquals(0.0, b.getFirst().getGradientFor("wstep").norm1Number().doubleValue(), "wstep is trained");
        INDArray expected = new ErrorSite(ERRORS).apply(a.getSecond(), 0, 0, LayerWorkspaceMgr.noWorkspaces());
        assertEquals(expected, b.getSecond());
        assertNotEquals(a.getSecond(), b.getSecond(), "the error is on the 4-bit grid");
    }

    @Test
    void fusedBatchNormLayersHandBackQuantizedErrors() {
        MultiLayerNetwork plain = net(fusedDense(GradientSpec.FLOAT), 3, 4);
        MultiLayerNetwork quant = net(fusedDense(ERRORS), 3, 4);
        INDArray params = plain.params().dup();
        Pair<Gradient, INDArray> a = backprop(plain, params);
        Pair<Gradient, INDArray> b = backprop(quant, params);
        assertSameGradients(a.getFirst(), b.getFirst(), List.of("W", FusedBnParamInitializer.GAMMA,
                FusedBnParamInitializer.BETA));
        INDArray expected = new ErrorSite(ERRORS).apply(a.getSecond(), 0, 0, LayerWorkspaceMgr.noWorkspaces());
        assertEquals(expected, b.getSecond());
        assertNotEquals(a.getSecond(), b.getSecond());
    }

    @Test
    void gradientQuantizationReachesFusedWeightsButNotGammaAndBeta() {
        MultiLayerConfiguration c = new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.FLOAT)
                .updater(new Sgd(0.1)).list()
                .layer(fusedDense(GradientSpec.FLOAT))
                .layer(new QuantOutput.Builder(LossFunctions.LossFunction.MSE).nIn(4).nOut(2)
                        .activation(Activation.IDENTITY).build())
                .build();
        FixedPointTraining.apply(c, name -> GradientSpec.parse("int(bits=8, rounding=stochastic)"),
                FixedPointTraining.Options.NONE);
        BaseLayer fused = (BaseLayer) c.getConf(0).getLayer();
        assertTrue(FixedPointTraining.isWeighted(fused));
        List<Regularization> w = fused.getRegularizationByParam("W");
        assertTrue(w != null && w.stream().anyMatch(r -> r instanceof GradientQuantization), String.valueOf(w));
        for (String k : List.of(FusedBnParamInitializer.GAMMA, FusedBnParamInitializer.BETA)) {
            List<Regularization> r = fused.getRegularizationByParam(k);
            assertFalse(r != null && r.stream().anyMatch(x -> x instanceof GradientQuantization), k + ": " + r);
        }
        MultiLayerNetwork n = new MultiLayerNetwork(c);
        n.init();
        INDArray x = Nd4j.rand(DataType.FLOAT, 8, 3);
        INDArray y = Nd4j.rand(DataType.FLOAT, 8, 2);
        n.fit(x, y);
        double first = n.score();
        for (int i = 0; i < 20; i++) {
            n.fit(x, y);
        }
        assertTrue(n.score() < first, "loss falls: " + first + " -> " + n.score());
    }

    @Test
    void fusedDenseAccumulatesInTheAccumulatorFormat() {
        QuantSites s = QuantSites.none();
        QuantDenseBN exact = new QuantDenseBN.Builder().nIn(300).nOut(4).activation(Activation.IDENTITY).quant(s).build();
        QuantDenseBN fp16 = new QuantDenseBN.Builder().nIn(300).nOut(4).activation(Activation.IDENTITY)
                .quant(s.withAccumulation(QuantSpec.parse("fp16"), 1)).build();
        MultiLayerNetwork a = net(exact, 300, 4);
        MultiLayerNetwork b = net(fp16, 300, 4);
        b.setParams(a.params().dup());
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.rand(DataType.FLOAT, 5, 300).addi(100);
        INDArray ya = a.getLayer(0).activate(x, false, LayerWorkspaceMgr.noWorkspaces()).dup();
        INDArray yb = b.getLayer(0).activate(x, false, LayerWorkspaceMgr.noWorkspaces()).dup();
        assertNotEquals(ya, yb, "sequential fp16 accumulation rounds");
        double rel = ya.sub(yb).norm2Number().doubleValue() / ya.norm2Number().doubleValue();
        assertTrue(rel < 1e-2, "close to the float32 product: " + rel);
    }

    @Test
    void pactL2AndLossScalingDoNotMix() {
        MultiLayerConfiguration c = new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.FLOAT)
                .updater(new Sgd(0.1)).list()
                .layer(new QuantDense.Builder().nIn(3).nOut(4).activation(Activation.RELU).name("fc")
                        .outputQuant("pact(bits=4, l2=0.0001)").build())
                .layer(new QuantOutput.Builder(LossFunctions.LossFunction.MSE).nIn(4).nOut(2)
                        .activation(Activation.IDENTITY).build())
                .build();
        FixedPointTraining.Options o = new FixedPointTraining.Options(GradientSpec.FLOAT, QuantSpec.FLOAT, 0,
                QuantSpec.FLOAT, 256, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FixedPointTraining.apply(c, name -> null, o));
        assertTrue(e.getMessage().contains("fc") && e.getMessage().contains("pact"), e.getMessage());
    }
}
