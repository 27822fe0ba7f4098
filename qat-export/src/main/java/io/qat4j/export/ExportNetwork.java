package io.qat4j.export;

import io.qat4j.layers.nn.QuantLayer;
import io.qat4j.layers.quant.Granularity;
import io.qat4j.layers.quant.QuantContext;
import io.qat4j.layers.quant.QuantSpec;
import io.qat4j.layers.quant.Quantizers;
import io.qat4j.layers.train.ScaledActivation;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A trained network as the exporter walks it: its nodes in topological order, each a DL4J layer or a graph
 * vertex with the names of its inputs ({@code "input"} for the network input), for a {@code MultiLayerNetwork}
 * (a chain) and a {@code ComputationGraph} alike; and the fake-quant model's activations and logits, which the
 * simulator compares the integer engine with.
 */
public final class ExportNetwork {

    /**
     * One node.
     *
     * @param name   the DL4J layer or vertex name ({@code layer<i>} for an unnamed layer of a stack)
     * @param layer  the layer configuration, or null for a vertex without a layer
     * @param vertex the graph vertex configuration of a non-layer vertex, else null
     * @param impl   the layer implementation (parameters), or null
     * @param inputs names of the nodes feeding it
     * @param pre    the input preprocessor DL4J applies before the layer, or null
     */
    public record Node(String name, Layer layer, GraphVertex vertex, org.deeplearning4j.nn.api.Layer impl,
                       List<String> inputs, InputPreProcessor pre) {
    }

    private final Model model;
    private final List<Node> nodes = new ArrayList<>();

    private ExportNetwork(Model model) {
        this.model = model;
        if (model instanceof MultiLayerNetwork m) {
            MultiLayerConfiguration conf = m.getLayerWiseConfigurations();
            String prev = "input";
            for (int i = 0; i < m.getnLayers(); i++) {
                Layer l = conf.getConf(i).getLayer();
                String name = l.getLayerName() == null ? "layer" + i : l.getLayerName();
                nodes.add(new Node(name, l, null, m.getLayer(i), List.of(prev), conf.getInputPreProcess(i)));
                prev = name;
            }
        } else if (model instanceof ComputationGraph g) {
            if (g.getNumInputArrays() != 1 || g.getNumOutputArrays() != 1) {
                throw new IllegalArgumentException("the graph has " + g.getNumInputArrays() + " inputs and "
                        + g.getNumOutputArrays() + " outputs; allowed: one of each");
            }
            String in = g.getConfiguration().getNetworkInputs().get(0);
            for (int i : g.topologicalSortOrder()) {
                String name = g.getVertices()[i].getVertexName();
                if (name.equals(in)) {
                    continue;
                }
                GraphVertex v = g.getConfiguration().getVertices().get(name);
                List<String> inputs = g.getConfiguration().getVertexInputs().get(name).stream()
                        .map(s -> s.equals(in) ? "input" : s).toList();
                if (v instanceof LayerVertex lv) {
                    nodes.add(new Node(name, lv.getLayerConf().getLayer(), null, g.getLayer(name), inputs,
                            lv.getPreProcessor()));
                } else {
                    nodes.add(new Node(name, null, v, null, inputs, null));
                }
            }
        } else {
            throw new IllegalArgumentException("cannot export a " + model.getClass().getSimpleName()
                    + "; allowed: MultiLayerNetwork, ComputationGraph");
        }
    }

    /** The network of a DL4J model. */
    public static ExportNetwork of(Model model) {
        return new ExportNetwork(model);
    }

    public Model model() {
        return model;
    }

    /** The nodes in topological order; the last one is the output layer. */
    public List<Node> nodes() {
        return nodes;
    }

    /** The node named {@code name}. */
    public Node node(String name) {
        for (Node n : nodes) {
            if (n.name().equals(name)) {
                return n;
            }
        }
        throw new IllegalArgumentException("no node named " + name);
    }

    /** The output layer (the last node). */
    public Node output() {
        return nodes.get(nodes.size() - 1);
    }

    /**
     * The NCHW input shape (N = 1): from the FeedForwardToCnn preprocessor of the first layer for convolutional
     * networks (flat image input), [1, nIn] for dense ones.
     */
    public List<Integer> inputShape() {
        for (Node n : nodes) {
            if (!n.inputs().contains("input")) {
                continue;
            }
            if (n.pre() instanceof FeedForwardToCnnPreProcessor p) {
                return List.of(1, (int) p.getNumChannels(), (int) p.getInputHeight(), (int) p.getInputWidth());
            }
            if (n.layer() instanceof FeedForwardLayer ff && !(n.layer() instanceof ConvolutionLayer)) {
                return List.of(1, (int) ff.getNIn());
            }
            throw new IllegalArgumentException("cannot tell the input shape of layer " + n.name() + ": a convolutional "
                    + "network needs a FeedForwardToCnn input preprocessor (InputType.convolutionalFlat)");
        }
        throw new IllegalArgumentException("no layer reads the network input");
    }

    /** Every node's inference-mode output on {@code x}, by node name ({@code "input"} too). */
    public Map<String, INDArray> activations(INDArray x) {
        if (model instanceof ComputationGraph g) {
            Map<String, INDArray> m = new LinkedHashMap<>(g.feedForward(x, false));
            m.put("input", m.remove(g.getConfiguration().getNetworkInputs().get(0)));
            return m;
        }
        List<INDArray> acts = ((MultiLayerNetwork) model).feedForward(x, false);
        Map<String, INDArray> m = new LinkedHashMap<>();
        m.put("input", acts.get(0));
        for (int i = 0; i < nodes.size(); i++) {
            m.put(nodes.get(i).name(), acts.get(i + 1));
        }
        return m;
    }

    /** The fake-quantized weights of a quantized layer (what its forward pass uses), detached. */
    public static INDArray fakeQuantWeights(Node n) {
        QuantSpec spec = ((QuantLayer) n.layer()).getQuantSites().weights();
        INDArray w = n.impl().getParam("W");
        if (spec.isFloat()) {
            return w.dup();
        }
        int axis = n.layer() instanceof ConvolutionLayer ? 0 : 1;
        return Quantizers.of(spec).forward(w, new QuantContext(spec.granularity() == Granularity.TENSOR ? -1 : axis,
                null, null, 0L, false)).output();
    }

    /**
     * Float logits (pre-softmax) of the output layer as the fake-quant model computes them: in · Q_w(W) + b, with
     * {@code in} the output layer's input in {@code activations} (preprocessed as DL4J does).
     */
    public INDArray logits(Map<String, INDArray> activations) {
        Node out = output();
        INDArray in = activations.get(out.inputs().get(0));
        if (out.pre() != null) {
            in = out.pre().preProcess(in, (int) in.size(0), LayerWorkspaceMgr.noWorkspaces());
        }
        INDArray w = fakeQuantWeights(out);
        INDArray z = in.castTo(w.dataType()).mmul(w);
        INDArray b = out.impl().paramTable().get("b");
        if (b != null) {
            z.addiRowVector(b.reshape(1, b.length()));
        }
        if (out.layer() instanceof BaseLayer bl && bl.getActivationFn() instanceof ScaledActivation sa) {
            z.muli(sa.scale()); // WAGE's 1/α on the output layer scales the logits
        }
        return z;
    }

    /** The fake-quant logits on {@code x}. */
    public INDArray logits(INDArray x) {
        return logits(activations(x));
    }
}
