package io.qat4j.export;

import io.qat4j.inference.Quantization;
import io.qat4j.inference.engine.EngineConfig;
import io.qat4j.inference.engine.IntegerEngine;
import io.qat4j.inference.format.ActivationSpec;
import io.qat4j.inference.format.ExportModel;
import io.qat4j.inference.format.LayerSpec;
import io.qat4j.layers.nn.QuantAddVertex;
import io.qat4j.layers.nn.QuantDense;
import io.qat4j.layers.nn.QuantOutput;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A {@code QuantAddVertex} (observed output range, ReLU) exports as one {@code add} op quantized with its own spec
 * and state; the engine's add computes the real formula on its input codes and matches the fake-quant vertex.
 */
class QuantAddVertexExportTest {
    private static final String W8 = "int(bits=8, narrow=true, axis=channel)";
    private static final String UINT8 = "int(bits=8, signed=false, observer=ema)";

    /** in -> d1 -> (d2, d3) -> add(relu) -> out; d2 signed symmetric, d3 affine: two different zero points. */
    static ComputationGraph graph() {
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.FLOAT)
                .updater(new Adam(1e-2)).weightInit(WeightInit.XAVIER).graphBuilder().addInputs("in")
                .setInputTypes(InputType.feedForward(12))
                .addLayer("d1", new QuantDense.Builder().nOut(16).activation(Activation.RELU).weightQuant(W8)
                        .outputQuant(UINT8).build(), "in")
                .addLayer("d2", new QuantDense.Builder().nOut(16).activation(Activation.IDENTITY).weightQuant(W8)
                        .outputQuant("int(bits=8, observer=ema)").build(), "d1")
                .addLayer("d3", new QuantDense.Builder().nOut(16).activation(Activation.IDENTITY).weightQuant(W8)
                        .outputQuant(UINT8).build(), "d1")
                .addVertex("add", new QuantAddVertex(UINT8, QuantAddVertex.Act.RELU), "d2", "d3")
                .addLayer("out", new QuantOutput.Builder(LossFunctions.LossFunction.MCXENT).nOut(4)
                        .activation(Activation.SOFTMAX).weightQuant(W8).build(), "add")
                .setOutputs("out").build());
        g.init();
        return g;
    }

    /** Class k: pixel block k brighter; 8-bit pixel values k/255 (exact in the export's uint8 input). */
    static DataSet data(int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.rand(DataType.FLOAT, n, 12).muli(0.5);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 4);
        for (int i = 0; i < n; i++) {
            x.get(NDArrayIndex.point(i), NDArrayIndex.interval(3 * (i % 4), 3 * (i % 4) + 3)).addi(0.5);
            y.putScalar(i, i % 4, 1);
        }
        return new DataSet(Transforms.floor(x.muli(255), false).divi(255), y);
    }

    @Test
    void quantAddVertexExportsAsOneAddAndTheEngineComputesTheRealFormula() {
        ComputationGraph g = graph();
        for (int i = 0; i < 30; i++) {
            g.fit(data(32, i));
        }
        Exporter.Result r = Exporter.export(g, "t");
        ExportModel m = r.model();
        LayerSpec add = m.manifest().layers().stream().filter(l -> l.name().equals("add")).findFirst().orElseThrow();
        assertEquals("add", add.op());
        assertEquals(java.util.List.of("d2", "d3"), add.inputs());
        assertEquals("add", r.dl4jSources().get("add"));
        // the vertex's own quantization: uint8 from its observer; ReLU folded into the clamp at the zero point
        ActivationSpec o = add.output();
        assertEquals(8, o.bits());
        assertEquals(Math.max(o.zeroPoint(), 0), add.clampMin());
        assertEquals(255, add.clampMax());

        IntegerEngine engine = new IntegerEngine(m, EngineConfig.INT32);
        Map<String, ActivationSpec> specs = new HashMap<>();
        specs.put("input", m.manifest().input());
        m.manifest().layers().forEach(l -> specs.put(l.name(), l.output()));
        INDArray x = data(32, 99).getFeatures();
        INDArray fake = g.feedForward(x, false).get("add");
        float[][] xs = x.toFloatMatrix();
        long values = 0;
        long formula = 0;
        long dl4jWithin1 = 0;
        long positive = 0;
        for (int b = 0; b < xs.length; b++) {
            Map<String, int[]> outs = engine.runAll(Quantization.quantizeInput(xs[b], m.manifest().input()));
            int[] e = outs.get("add");
            double[] real = GraphExportTest.realFormula(add, outs, specs);
            float[] v = fake.getRow(b).toFloatVector();
            for (int i = 0; i < e.length; i++) {
                double q = Math.max(add.clampMin(), Math.min(add.clampMax(), Math.rint(real[i] / o.scale())
                        + o.zeroPoint()));
                long f = (long) Math.max(o.qmin(), Math.min(o.qmax(), Math.rint(v[i] / (float) o.scale())
                        + o.zeroPoint()));
                values++;
                formula += e[i] == q ? 1 : 0;
                dl4jWithin1 += Math.abs(e[i] - f) <= 1 ? 1 : 0;
                positive += e[i] > add.clampMin() ? 1 : 0;
            }
        }
        assertTrue(positive >= values / 5, "ReLU leaves " + positive + " of " + values + " codes above zero");
        assertTrue(formula >= values * 0.999, "add vs the real formula: " + formula + " of " + values + " identical");
        assertTrue(dl4jWithin1 >= values * 0.99, "add vs the fake-quant vertex: " + dl4jWithin1 + " of " + values
                + " within 1 LSB");
    }

    @Test
    void aQuantAddVertexWithoutObserverIsRefusedNamingIt() {
        ComputationGraph g = new ComputationGraph(graph().getConfiguration().clone());
        g.getConfiguration().getVertices().put("add", new QuantAddVertex("int8"));
        g.init();
        g.fit(data(8, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Exporter.export(g, "t"));
        assertTrue(e.getMessage().contains("add") && e.getMessage().contains("observer"), e.getMessage());
    }
}
