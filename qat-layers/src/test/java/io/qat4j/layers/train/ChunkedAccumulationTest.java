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
}
