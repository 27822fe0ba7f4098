package io.qat4j.layers.train;

import io.qat4j.layers.nn.QuantDense;
import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.quant.NdArrays;
import io.qat4j.layers.quant.QuantSpec;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.List;

import static io.qat4j.layers.TestArrays.assertValues;
import static io.qat4j.layers.TestArrays.f32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Chunk-based accumulation in a reduced-precision accumulator: swamping, chunking, and the dense layer using it. */
class ChunkedAccumulationTest {
    static final QuantSpec FP16 = QuantSpec.parse("fp16");

    @Test
    void sequentialFp16AccumulationSwampsAndChunkingRecovers() {
        // 4096 products of 1: an FP16 running sum stops at 2048 (2048 + 1 rounds back to 2048, ulp 2); chunks of 64
        // add exact multiples of 64 and reach 4096.
        INDArray x = Nd4j.ones(DataType.FLOAT, 1, 4096);
        INDArray w = Nd4j.ones(DataType.FLOAT, 4096, 1);
        assertValues(new double[] {2048}, ChunkedAccumulation.matmul(x, w, FP16, 1), 0);
        assertValues(new double[] {4096}, ChunkedAccumulation.matmul(x, w, FP16, 64), 0);
        assertValues(new double[] {4096}, ChunkedAccumulation.matmul(x, w, QuantSpec.FLOAT, 1), 0);
    }

    @Test
    void eachChunkSumIsRoundedOnceThenAddedInTheAccumulator() {
        // products 1024, 0.25, 0.25, 0.25 (FP16 ulp at 1024 is 1):
        // chunk 1: 1024 (each 0.25 swamped); chunk 2: A(1024.25) = 1024, then A(1024 + 0.5) = 1024 (ties to even);
        // chunk 4: A(1024.75) = 1025.
        INDArray x = f32(new long[] {1, 4}, 1, 1, 1, 1);
        INDArray w = f32(new long[] {4, 1}, 1024, 0.25, 0.25, 0.25);
        assertValues(new double[] {1024}, ChunkedAccumulation.matmul(x, w, FP16, 1), 0);
        assertValues(new double[] {1024}, ChunkedAccumulation.matmul(x, w, FP16, 2), 0);
        assertValues(new double[] {1025}, ChunkedAccumulation.matmul(x, w, FP16, 4), 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChunkedAccumulation.matmul(x, w, FP16, 0));
        assertTrue(e.getMessage().contains("chunk must be in [1, 1048576]"), e.getMessage());
    }

    /** The accumulation as first written: each chunk product by INDArray.mmul on the chunk views. */
    static INDArray referenceMatmul(INDArray x, INDArray w, QuantSpec accumulator, int chunk) {
        io.qat4j.layers.quant.Quantizer a = io.qat4j.layers.quant.Quantizers.of(accumulator);
        io.qat4j.layers.quant.QuantContext ctx = new io.qat4j.layers.quant.QuantContext(-1, null, null, 0, true);
        INDArray acc = null;
        for (long start = 0; start < x.size(1); start += chunk) {
            long end = Math.min(x.size(1), start + chunk);
            INDArray p = x.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                    org.nd4j.linalg.indexing.NDArrayIndex.interval(start, end))
                    .mmul(w.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(start, end),
                            org.nd4j.linalg.indexing.NDArrayIndex.all()));
            INDArray q = a.forward(p, ctx).output();
            acc = acc == null ? q : a.forward(acc.addi(q), ctx).output();
        }
        return acc;
    }

    @Test
    void chunkProductsAreMmulsBitForBit() {
        Nd4j.getRandom().setSeed(8);
        for (long[] s : new long[][] {{37, 300, 9}, {5, 64, 1}, {1, 130, 7}, {150, 500, 40}}) {
            INDArray x = Nd4j.randn(DataType.FLOAT, s[0], s[1]).muli(3);
            INDArray w = Nd4j.randn(DataType.FLOAT, s[1], s[2]);
            for (int chunk : new int[] {7, 64, 100}) {
                INDArray expected = referenceMatmul(x, w, FP16, chunk);
                INDArray actual = ChunkedAccumulation.matmul(x, w, FP16, chunk);
                org.junit.jupiter.api.Assertions.assertArrayEquals(expected.dup('c').data().asFloat(),
                        actual.dup('c').data().asFloat(), java.util.Arrays.toString(s) + " chunk " + chunk);
            }
        }
    }

    static MultiLayerNetwork dense(QuantSites sites) {
        MultiLayerConfiguration c = new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.FLOAT)
                .updater(new Sgd(0.1)).list()
                .layer(new QuantDense.Builder().nIn(300).nOut(5).activation(Activation.IDENTITY).quant(sites).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(5).nOut(2).activation(Activation.IDENTITY)
                        .build())
                .build();
        MultiLayerNetwork n = new MultiLayerNetwork(c);
        n.init();
        return n;
    }

    @Test
    void denseLayerAccumulatesInTheConfiguredFormat() throws Exception {
        MultiLayerNetwork ref = dense(QuantSites.none());
        QuantSites sites = QuantSites.none().withAccumulation(FP16, 64);
        MultiLayerNetwork acc = dense(sites);
        acc.setParams(ref.params().dup());
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 300).muli(100);
        INDArray zRef = ref.feedForwardToLayer(0, x).get(1);
        INDArray zAcc = acc.feedForwardToLayer(0, x).get(1);
        INDArray w = ref.getParam("0_W");
        INDArray b = ref.getParam("0_b");
        INDArray expected = ChunkedAccumulation.matmul(x, w, FP16, 64).addiRowVector(b);
        double[] e = NdArrays.read(expected);
        double[] a = NdArrays.read(zAcc);
        double[] r = NdArrays.read(zRef);
        boolean differs = false;
        for (int i = 0; i < e.length; i++) {
            double fp16 = io.qat4j.layers.quant.Quantizers.of(FP16).apply(Nd4j.scalar((float) e[i]).reshape(1),
                    io.qat4j.layers.quant.QuantContext.perTensor()).getDouble(0);
            assertEquals(fp16, a[i], 0, "element " + i + ": FP16 chunked sum, plus the bias in FP16");
            // running sums reach a few hundred (FP16 ulp 0.25); 5 chunks -> within 1 of the float32 sum
            assertEquals(r[i], a[i], 1.0, "close to float32");
            differs |= a[i] != r[i];
        }
        assertTrue(differs, "the FP16 accumulator changes some outputs");
        // The setting is part of the layer's JSON.
        String json = acc.getLayerWiseConfigurations().toJson();
        assertTrue(json.contains("\"accumulation\" : \"fp16\"") && json.contains("\"chunk\" : 64"), json);
        assertEquals(acc.getLayerWiseConfigurations(), MultiLayerConfiguration.fromJson(json));
        assertTrue(!ref.getLayerWiseConfigurations().toJson().contains("accumulation"), "float: not written");
        // Training still works through it.
        acc.fit(x, Nd4j.zeros(DataType.FLOAT, 4, 2));
        assertTrue(Double.isFinite(acc.score()));
    }

    static MultiLayerNetwork conv(QuantSites sites, org.deeplearning4j.nn.conf.ConvolutionMode mode, int stride,
                                  int pad, int dilation, int channels) {
        MultiLayerConfiguration c = new NeuralNetConfiguration.Builder().seed(4).dataType(DataType.FLOAT)
                .updater(new Sgd(0.1)).convolutionMode(mode).list()
                .layer(new io.qat4j.layers.nn.QuantConv2D.Builder(3, 3).nOut(4).stride(stride, stride)
                        .padding(pad, pad).dilation(dilation, dilation).activation(Activation.RELU).quant(sites).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nOut(2).activation(Activation.IDENTITY)
                        .build())
                .setInputType(org.deeplearning4j.nn.conf.inputs.InputType.convolutional(9, 8, channels)).build();
        MultiLayerNetwork n = new MultiLayerNetwork(c);
        n.init();
        return n;
    }

    /** Small integers: every product and partial sum is exact in float32 and in FP16 (below 2048). */
    static INDArray smallIntegers(java.util.Random r, long... shape) {
        INDArray a = Nd4j.create(DataType.FLOAT, shape);
        for (long i = 0; i < a.length(); i++) {
            a.putScalar(i, r.nextInt(7) - 3);
        }
        return a;
    }

    @Test
    void convolutionAccumulatesInTheConfiguredFormat() {
        // With exact sums the emulated im2col product must equal DL4J's convolution, output and gradients alike,
        // in every geometry (stride, padding, dilation, Same mode).
        java.util.Random r = new java.util.Random(11);
        Object[][] geometries = {
            {org.deeplearning4j.nn.conf.ConvolutionMode.Truncate, 1, 0, 1},
            {org.deeplearning4j.nn.conf.ConvolutionMode.Truncate, 2, 1, 1},
            {org.deeplearning4j.nn.conf.ConvolutionMode.Truncate, 1, 2, 2},
            {org.deeplearning4j.nn.conf.ConvolutionMode.Same, 2, 0, 1},
        };
        for (Object[] g : geometries) {
            String what = java.util.Arrays.toString(g);
            org.deeplearning4j.nn.conf.ConvolutionMode mode = (org.deeplearning4j.nn.conf.ConvolutionMode) g[0];
            int stride = (int) g[1];
            int pad = (int) g[2];
            int dil = (int) g[3];
            MultiLayerNetwork ref = conv(QuantSites.none(), mode, stride, pad, dil, 3);
            MultiLayerNetwork acc = conv(QuantSites.none().withAccumulation(FP16, 8), mode, stride, pad, dil, 3);
            INDArray params = smallIntegers(r, ref.params().length()).reshape(1, ref.params().length());
            ref.setParams(params.dup());
            acc.setParams(params.dup());
            INDArray x = smallIntegers(r, 5, 3, 9, 8);
            INDArray y = Nd4j.rand(DataType.FLOAT, 5, 2);
            INDArray zRef = ref.feedForward(x, false).get(1);
            INDArray zAcc = acc.feedForward(x, false).get(1);
            assertEquals(zRef, zAcc, what + ": forward");
            ref.setInput(x);
            ref.setLabels(y);
            acc.setInput(x);
            acc.setLabels(y);
            ref.computeGradientAndScore();
            acc.computeGradientAndScore();
            assertEquals(ref.gradient().gradient(), acc.gradient().gradient(), what + ": gradients");
        }
        // Swamping in a convolution: a 1x1 kernel over 4096 channels of ones. Sequential FP16 accumulation stops
        // at 2048; chunks of 64 reach 4096.
        for (int chunk : new int[] {1, 64}) {
            MultiLayerConfiguration c = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT).list()
                    .layer(new io.qat4j.layers.nn.QuantConv2D.Builder(1, 1).nOut(1).hasBias(false)
                            .activation(Activation.IDENTITY).quant(QuantSites.none().withAccumulation(FP16, chunk))
                            .weightInit(org.deeplearning4j.nn.weights.WeightInit.ONES).build())
                    .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nOut(1).activation(Activation.IDENTITY)
                            .build())
                    .setInputType(org.deeplearning4j.nn.conf.inputs.InputType.convolutional(2, 2, 4096)).build();
            MultiLayerNetwork n = new MultiLayerNetwork(c);
            n.init();
            INDArray z = n.feedForward(Nd4j.ones(DataType.FLOAT, 1, 4096, 2, 2), false).get(1);
            assertValues(new double[] {chunk == 1 ? 2048 : 4096, chunk == 1 ? 2048 : 4096, chunk == 1 ? 2048 : 4096,
                chunk == 1 ? 2048 : 4096}, z, 0);
        }
    }

    /** conv 3x3 (geometry as given) -> conv 2x2 -> dense 6 -> MSE output 2, every quantized layer with {@code sites}. */
    static MultiLayerNetwork convDense(QuantSites sites, org.deeplearning4j.nn.conf.ConvolutionMode mode, int stride,
                                       int pad) {
        MultiLayerConfiguration c = new NeuralNetConfiguration.Builder().seed(6).dataType(DataType.FLOAT)
                .updater(new Sgd(0.1)).convolutionMode(mode).list()
                .layer(new io.qat4j.layers.nn.QuantConv2D.Builder(3, 3).nOut(3).stride(stride, stride).padding(pad, pad)
                        .activation(Activation.RELU).quant(sites).build())
                .layer(new io.qat4j.layers.nn.QuantConv2D.Builder(2, 2).nOut(2).activation(Activation.IDENTITY)
                        .quant(sites).build())
                .layer(new QuantDense.Builder().nOut(6).activation(Activation.RELU).quant(sites).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nOut(2).activation(Activation.IDENTITY)
                        .build())
                .setInputType(org.deeplearning4j.nn.conf.inputs.InputType.convolutional(7, 6, 2)).build();
        MultiLayerNetwork n = new MultiLayerNetwork(c);
        n.init();
        return n;
    }

    @Test
    void backwardProductsAccumulateInTheConfiguredFormat() {
        // An accumulator wide enough for the integer sums here (fixed point, 20 integer bits) must give DL4J's
        // gradients exactly: this checks the layouts of the emulated weight, bias and error products.
        QuantSpec wide = QuantSpec.parse("fixed(m=20, n=3)");
        java.util.Random r = new java.util.Random(12);
        Object[][] geometries = {
            {org.deeplearning4j.nn.conf.ConvolutionMode.Truncate, 1, 0},
            {org.deeplearning4j.nn.conf.ConvolutionMode.Truncate, 2, 1},
            {org.deeplearning4j.nn.conf.ConvolutionMode.Same, 1, 0},
        };
        for (Object[] g : geometries) {
            String what = java.util.Arrays.toString(g);
            org.deeplearning4j.nn.conf.ConvolutionMode mode = (org.deeplearning4j.nn.conf.ConvolutionMode) g[0];
            MultiLayerNetwork ref = convDense(QuantSites.none(), mode, (int) g[1], (int) g[2]);
            MultiLayerNetwork acc = convDense(QuantSites.none().withAccumulation(wide, 8, true), mode, (int) g[1],
                    (int) g[2]);
            INDArray params = Nd4j.create(DataType.FLOAT, 1, ref.params().length());
            for (long i = 0; i < params.length(); i++) {
                params.putScalar(i, r.nextInt(3) - 1);
            }
            ref.setParams(params.dup());
            acc.setParams(params.dup());
            INDArray x = Nd4j.create(DataType.FLOAT, 4, 2, 7, 6);
            for (long i = 0; i < x.length(); i++) {
                x.putScalar(i, r.nextInt(3) - 1);
            }
            INDArray y = f32(new long[] {4, 2}, 1, -2, 0, 3, -1, 1, 2, 0);
            for (MultiLayerNetwork n : List.of(ref, acc)) {
                n.setInput(x);
                n.setLabels(y);
                n.computeGradientAndScore();
            }
            INDArray gRef = ref.gradient().gradient();
            assertTrue(gRef.amaxNumber().doubleValue() > 0, what + ": a test with zero gradients proves nothing");
            assertEquals(gRef, acc.gradient().gradient(), what + ": every gradient, conv layers included");
            String json = acc.getLayerWiseConfigurations().toJson();
            assertTrue(json.contains("\"accumulate_backward\" : true"), json);
            assertEquals(acc.getLayerWiseConfigurations(), MultiLayerConfiguration.fromJson(json));
        }
    }

    @Test
    void weightGradientsSwampInASequentialFp16Accumulator() {
        // dW of a 1x1 convolution over 64x64 positions and of a dense layer over a batch of 4096, every product 1:
        // 4096 with chunks of 64, stuck at 2048 when each product is added to an FP16 running sum.
        for (int chunk : new int[] {1, 64}) {
            double expected = chunk == 1 ? 2048 : 4096;
            QuantSites sites = QuantSites.none().withAccumulation(FP16, chunk, true);
            MultiLayerConfiguration c = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT).list()
                    .layer(new io.qat4j.layers.nn.QuantConv2D.Builder(1, 1).nOut(1).hasBias(false)
                            .activation(Activation.IDENTITY).quant(sites).build())
                    .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nOut(1).activation(Activation.IDENTITY)
                            .build())
                    .setInputType(org.deeplearning4j.nn.conf.inputs.InputType.convolutional(64, 64, 1)).build();
            MultiLayerNetwork conv = new MultiLayerNetwork(c);
            conv.init();
            conv.initGradientsView();
            org.deeplearning4j.nn.api.Layer convLayer = conv.getLayer(0);
            convLayer.setInput(Nd4j.ones(DataType.FLOAT, 1, 1, 64, 64),
                    org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces());
            INDArray dW = convLayer.backpropGradient(Nd4j.ones(DataType.FLOAT, 1, 1, 64, 64),
                    org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces()).getFirst().getGradientFor("W");
            assertEquals(expected, dW.getDouble(0), 0, "conv, chunk " + chunk);

            MultiLayerNetwork dense = dense(sites);
            dense.initGradientsView();
            org.deeplearning4j.nn.api.Layer denseLayer = dense.getLayer(0);
            INDArray x = Nd4j.zeros(DataType.FLOAT, 4096, 300);
            x.getColumn(0).assign(1);
            denseLayer.setInput(x, org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces());
            INDArray g = denseLayer.backpropGradient(Nd4j.ones(DataType.FLOAT, 4096, 5),
                    org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces()).getFirst().getGradientFor("W");
            assertEquals(expected, g.getDouble(0, 0), 0, "dense weight gradient, chunk " + chunk);
            assertEquals(0, g.getDouble(1, 0), 0, "dense weight gradient of an input that is always 0");
            INDArray b = denseLayer.backpropGradient(Nd4j.ones(DataType.FLOAT, 4096, 5),
                    org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces()).getFirst().getGradientFor("b");
            assertEquals(expected, b.getDouble(0), 0, "dense bias gradient, chunk " + chunk);
        }
    }
}
