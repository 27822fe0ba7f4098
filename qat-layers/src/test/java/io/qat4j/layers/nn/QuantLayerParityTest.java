package io.qat4j.layers.nn;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.io.File;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With every site float, each quantized layer equals its DL4J float twin (outputs and gradients),
 * passes DL4J's gradient check in double precision, and survives JSON and ModelSerializer round trips.
 */
class QuantLayerParityTest {

    /** A small CNN using every quantized layer kind, or the stock DL4J layers when {@code quant} is false. */
    static MultiLayerConfiguration net(boolean quant, DataType dt, IUpdater updater, QuantSites sites) {
        Layer conv = quant
                ? new QuantConv2D.Builder(3, 3).nOut(4).stride(1, 1).convolutionMode(ConvolutionMode.Same)
                .activation(Activation.TANH).quant(sites).build()
                : new ConvolutionLayer.Builder(3, 3).nOut(4).stride(1, 1).convolutionMode(ConvolutionMode.Same)
                .activation(Activation.TANH).build();
        Layer dw = quant
                ? new QuantDepthwiseConv2D.Builder(2, 2).quant(sites).depthMultiplier(1).stride(1, 1)
                .activation(Activation.SIGMOID).build()
                : new DepthwiseConvolution2D.Builder(2, 2).depthMultiplier(1).stride(1, 1).activation(Activation.SIGMOID).build();
        Layer dense = quant
                ? new QuantDense.Builder().nOut(7).activation(Activation.TANH).quant(sites).build()
                : new DenseLayer.Builder().nOut(7).activation(Activation.TANH).build();
        Layer out = quant
                ? new QuantOutput.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX)
                .quant(sites.withOutput(io.qat4j.layers.quant.QuantSpec.FLOAT)).build()
                : new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build();
        return new NeuralNetConfiguration.Builder().seed(12345).dataType(dt).updater(updater)
                .weightInit(WeightInit.XAVIER).list()
                .layer(conv)
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                .layer(dw).layer(dense).layer(out)
                .setInputType(InputType.convolutional(6, 6, 2)).build();
    }

    static DataSet data(DataType dt, int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.rand(dt, n, 2, 6, 6).subi(0.5);
        INDArray y = Nd4j.zeros(dt, n, 3);
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
    void floatSitesMatchTheFloatTwinInOutputsGradientsAndTraining() {
        MultiLayerNetwork ref = init(net(false, DataType.DOUBLE, new Adam(1e-2), null));
        MultiLayerNetwork q = init(net(true, DataType.DOUBLE, new Adam(1e-2), QuantSites.none()));
        assertEquals(ref.numParams(), q.numParams(), "float sites add no state parameters");
        q.setParams(ref.params().dup());
        DataSet ds = data(DataType.DOUBLE, 5, 1);
        assertTrue(ref.output(ds.getFeatures()).equalsWithEps(q.output(ds.getFeatures()), 1e-12));
        ref.setInput(ds.getFeatures());
        ref.setLabels(ds.getLabels());
        q.setInput(ds.getFeatures());
        q.setLabels(ds.getLabels());
        ref.computeGradientAndScore();
        q.computeGradientAndScore();
        assertEquals(ref.score(), q.score(), 1e-12);
        assertTrue(ref.gradient().gradient().equalsWithEps(q.gradient().gradient(), 1e-12));
        for (int i = 0; i < 3; i++) {
            ref.fit(ds);
            q.fit(ds);
        }
        assertTrue(ref.params().equalsWithEps(q.params(), 1e-10), "three Adam steps stay identical");
    }

    @Test
    void floatPrecisionOutputsMatchWithin1e6() {
        MultiLayerNetwork ref = init(net(false, DataType.FLOAT, new Adam(1e-2), null));
        MultiLayerNetwork q = init(net(true, DataType.FLOAT, new Adam(1e-2), QuantSites.none()));
        q.setParams(ref.params().dup());
        DataSet ds = data(DataType.FLOAT, 8, 2);
        assertTrue(ref.output(ds.getFeatures()).equalsWithEps(q.output(ds.getFeatures()), 1e-6));
    }

    @Test
    void gradientCheckPassesInDoublePrecisionWithFloatSites() {
        DataType before = Nd4j.dataType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        try {
            MultiLayerNetwork q = init(net(true, DataType.DOUBLE, new NoOp(), QuantSites.none()));
            DataSet ds = data(DataType.DOUBLE, 3, 3);
            boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig().net(q)
                    .input(ds.getFeatures()).labels(ds.getLabels()).epsilon(1e-6).maxRelError(1e-3).minAbsoluteError(1e-8)
                    .print(GradientCheckUtil.PrintMode.FAILURES_ONLY).exitOnFirstError(false));
            assertTrue(ok, "DL4J gradient check");
        } finally {
            Nd4j.setDefaultDataTypes(before, before);
        }
    }

    @Test
    void quantizedConfigurationRoundTripsThroughJson() {
        QuantSites sites = QuantSites.of("int(bits=8, signed=false, symmetric=false, observer=ema)",
                "int(bits=4, axis=channel, narrow=true)", "int(bits=16)", "int(bits=4, signed=false, observer=ema)");
        MultiLayerConfiguration c = net(true, DataType.FLOAT, new Adam(1e-3), sites);
        String json = c.toJson();
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(json);
        assertEquals(c, back);
        assertEquals(json, back.toJson());
        QuantDense d = (QuantDense) back.getConf(3).getLayer();
        assertEquals(sites, d.getQuantSites());
    }

    @Test
    void quantizedModelSavesLoadsAndContinuesTrainingIdentically(@TempDir Path tmp) throws Exception {
        QuantSites sites = QuantSites.of("int(bits=8, signed=false, symmetric=false, observer=ema)",
                "int(bits=4, axis=channel, narrow=true)", "float", "int(bits=8, observer=ema)");
        MultiLayerNetwork a = init(net(true, DataType.FLOAT, new Adam(1e-2), sites));
        DataSet ds = data(DataType.FLOAT, 16, 4);
        for (int i = 0; i < 3; i++) {
            a.fit(ds);
        }
        File f = tmp.resolve("q.zip").toFile();
        ModelSerializer.writeModel(a, f, true);
        MultiLayerNetwork b = ModelSerializer.restoreMultiLayerNetwork(f, true);
        assertEquals(a.params(), b.params(), "parameters, including observer state, are restored");
        assertEquals(a.output(ds.getFeatures()), b.output(ds.getFeatures()));
        for (int i = 0; i < 3; i++) {
            a.fit(ds);
            b.fit(ds);
        }
        assertEquals(a.params(), b.params(), "training continues identically");
        assertEquals(a.output(ds.getFeatures()), b.output(ds.getFeatures()));
        List<String> keys = List.copyOf(a.getLayer(3).paramTable().keySet());
        assertEquals(List.of("W", "b", "qin", "qout"), keys);
    }
}
