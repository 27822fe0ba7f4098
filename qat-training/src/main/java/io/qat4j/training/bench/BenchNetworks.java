package io.qat4j.training.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.qat4j.layers.nn.QuantConv2D;
import io.qat4j.layers.nn.QuantDense;
import io.qat4j.layers.nn.QuantOutput;
import io.qat4j.layers.nn.QuantSites;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Map;

/**
 * The networks {@link QatBenchmark} measures besides the experiment configs: the quantization-aware twin of a stock
 * float network with every site {@code float} (the project's own float path), and a ResNet for 28x28 images.
 */
final class BenchNetworks {
    private static final Map<String, String> TWINS = Map.of(
            ConvolutionLayer.class.getName(), QuantConv2D.class.getName(),
            DenseLayer.class.getName(), QuantDense.class.getName(),
            OutputLayer.class.getName(), QuantOutput.class.getName());

    private BenchNetworks() {
    }

    /**
     * {@code stock} with every {@code ConvolutionLayer}, {@code DenseLayer} and {@code OutputLayer} replaced by
     * {@code QuantConv2D}, {@code QuantDense} and {@code QuantOutput} with float sites, every other field kept
     * (the twin classes extend the stock ones and share their JSON fields).
     */
    static MultiLayerConfiguration floatTwin(MultiLayerConfiguration stock) {
        try {
            ObjectMapper mapper = new ObjectMapper();
            JsonNode root = mapper.readTree(stock.toJson());
            int replaced = swapClasses(root);
            if (replaced == 0) {
                throw new IllegalStateException("no stock layer to replace in " + stock.toJson());
            }
            return MultiLayerConfiguration.fromJson(mapper.writeValueAsString(root));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int swapClasses(JsonNode node) {
        int n = 0;
        if (node instanceof ObjectNode o && o.has("@class") && TWINS.containsKey(o.get("@class").asText())) {
            o.put("@class", TWINS.get(o.get("@class").asText()));
            n++;
        }
        for (Iterator<JsonNode> it = node.elements(); it.hasNext(); ) {
            n += swapClasses(it.next());
        }
        return n;
    }

    /** How the ResNet's convolutions and output layer are built. */
    enum Variant {
        /** DL4J's ConvolutionLayer and OutputLayer. */
        STOCK,
        /** QuantConv2D / QuantOutput with float sites. */
        FLOAT,
        /** 4-bit per-channel weights and 4-bit unsigned inputs (EMA ranges); 8 bits for the first conv and the output. */
        W4A4
    }

    /**
     * A CIFAR-style ResNet-(6n+2) for 28x28x1 images (He et al. 1512.03385, section 4.2): a 3x3 convolution with 16
     * filters, then three stages of {@code n} basic blocks at 16, 32, 64 channels (3x3 conv, BN, ReLU, 3x3 conv, BN,
     * add, ReLU; the first block of stages 2 and 3 has stride 2 and a 1x1 stride-2 convolution + BN shortcut), global
     * average pooling and a 10-way softmax. Convolutions have no bias (BN follows). {@code n = 3} is ResNet-20.
     */
    static ComputationGraphConfiguration resnet(int n, Variant v) {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().seed(42)
                .dataType(DataType.FLOAT).updater(new Adam(1e-3)).weightInit(WeightInit.RELU).graphBuilder()
                .addInputs("in").setInputTypes(InputType.convolutionalFlat(28, 28, 1));
        g.addLayer("stem", conv(v, 3, 1, 16, true), "in");
        String x = bnRelu(g, "stem", "stem");
        int channels = 16;
        for (int stage = 0; stage < 3; stage++) {
            for (int b = 0; b < n; b++) {
                int out = 16 << stage;
                int stride = stage > 0 && b == 0 ? 2 : 1;
                String name = "s" + stage + "b" + b;
                g.addLayer(name + "_c1", conv(v, 3, stride, out, false), x);
                String y = bnRelu(g, name + "_c1", name + "_1");
                g.addLayer(name + "_c2", conv(v, 3, 1, out, false), y);
                g.addLayer(name + "_bn2", new BatchNormalization.Builder().build(), name + "_c2");
                String shortcut = x;
                if (stride != 1 || out != channels) {
                    g.addLayer(name + "_sc", conv(v, 1, stride, out, false), x);
                    g.addLayer(name + "_scbn", new BatchNormalization.Builder().build(), name + "_sc");
                    shortcut = name + "_scbn";
                }
                g.addVertex(name + "_add", new ElementWiseVertex(ElementWiseVertex.Op.Add), name + "_bn2", shortcut);
                g.addLayer(name + "_relu", new ActivationLayer.Builder().activation(Activation.RELU).build(),
                        name + "_add");
                x = name + "_relu";
                channels = out;
            }
        }
        g.addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), x);
        g.addLayer("out", output(v), "pool");
        return g.setOutputs("out").build();
    }

    private static String bnRelu(ComputationGraphConfiguration.GraphBuilder g, String in, String name) {
        g.addLayer(name + "_bn", new BatchNormalization.Builder().build(), in);
        g.addLayer(name + "_relu", new ActivationLayer.Builder().activation(Activation.RELU).build(), name + "_bn");
        return name + "_relu";
    }

    private static Layer conv(Variant v, int k, int stride, int nOut, boolean first) {
        if (v == Variant.STOCK) {
            return new ConvolutionLayer.Builder(k, k).stride(stride, stride).nOut(nOut).hasBias(false)
                    .convolutionMode(ConvolutionMode.Same).activation(Activation.IDENTITY).build();
        }
        QuantSites sites = v == Variant.FLOAT ? QuantSites.none() : QuantSites.of(
                "int(bits=" + (first ? 8 : 4) + ", signed=false, observer=ema)",
                "int(bits=" + (first ? 8 : 4) + ", narrow=true, axis=channel)", "float", "float");
        return new QuantConv2D.Builder(k, k).stride(stride, stride).nOut(nOut).hasBias(false)
                .convolutionMode(ConvolutionMode.Same).activation(Activation.IDENTITY).quant(sites).build();
    }

    private static Layer output(Variant v) {
        if (v == Variant.STOCK) {
            return new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10).activation(Activation.SOFTMAX)
                    .build();
        }
        QuantSites sites = v == Variant.FLOAT ? QuantSites.none()
                : QuantSites.of("float", "int(bits=8, narrow=true, axis=channel)", "float", "float");
        return new QuantOutput.Builder(LossFunctions.LossFunction.MCXENT).nOut(10).activation(Activation.SOFTMAX)
                .quant(sites).build();
    }

    /** Whether every layer of a configuration is a stock DL4J class (what the float experiment config builds). */
    static boolean allStock(MultiLayerConfiguration c) {
        return c.getConfs().stream().allMatch(nnc -> nnc.getLayer().getClass().getName().startsWith("org.deeplearning4j."));
    }
}
