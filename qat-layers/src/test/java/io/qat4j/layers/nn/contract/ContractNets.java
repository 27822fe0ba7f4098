package io.qat4j.layers.nn.contract;

import io.qat4j.layers.nn.QuantSites;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The small networks the contract test puts each layer into, as a {@code MultiLayerNetwork} and as the
 * equivalent linear {@code ComputationGraph}: {@code [pre] -> q [-> pool] -> out}, or the float twin's layers
 * in place of {@code q} (named {@code q}, {@code q_1}, {@code q_2}, ...).
 */
final class ContractNets {
    private ContractNets() {
    }

    /** The layers of the network, named, in order. */
    static List<Map.Entry<String, Layer>> layers(LayerCase c, QuantSites sites, boolean floatTwin) {
        List<Map.Entry<String, Layer>> out = new ArrayList<>();
        if (c.before() != null) {
            out.add(Map.entry("pre", c.before().get()));
        }
        if (floatTwin) {
            List<Layer> twin = c.floatTwin().get();
            for (int i = 0; i < twin.size(); i++) {
                out.add(Map.entry(i == 0 ? "q" : "q_" + i, twin.get(i)));
            }
        } else {
            out.add(Map.entry("q", c.quant().apply(sites)));
        }
        if (c.convolutional()) {
            out.add(Map.entry("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build()));
        }
        if (!c.isOutput()) {
            out.add(Map.entry("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                    .activation(Activation.SOFTMAX).build()));
        }
        for (Map.Entry<String, Layer> e : out) {
            e.getValue().setLayerName(e.getKey());
        }
        return out;
    }

    private static NeuralNetConfiguration.Builder base(DataType dt, IUpdater updater, WorkspaceMode ws) {
        return new NeuralNetConfiguration.Builder().seed(42).dataType(dt).updater(updater).weightInit(WeightInit.XAVIER)
                .trainingWorkspaceMode(ws).inferenceWorkspaceMode(ws);
    }

    static MultiLayerNetwork mln(LayerCase c, QuantSites sites, boolean floatTwin, DataType dt, IUpdater updater,
                                 WorkspaceMode ws) {
        NeuralNetConfiguration.ListBuilder b = base(dt, updater, ws).list();
        for (Map.Entry<String, Layer> e : layers(c, sites, floatTwin)) {
            b.layer(e.getValue());
        }
        MultiLayerConfiguration conf = b.setInputType(c.input()).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    static ComputationGraph graph(LayerCase c, QuantSites sites, boolean floatTwin, DataType dt, IUpdater updater,
                                  WorkspaceMode ws) {
        ComputationGraphConfiguration.GraphBuilder b = base(dt, updater, ws).graphBuilder().addInputs("in");
        String prev = "in";
        for (Map.Entry<String, Layer> e : layers(c, sites, floatTwin)) {
            b.addLayer(e.getKey(), e.getValue(), prev);
            prev = e.getKey();
        }
        ComputationGraph net = new ComputationGraph(b.setOutputs(prev).setInputTypes(c.input()).build());
        net.init();
        return net;
    }

    /** Random inputs of the case's shape and one-hot labels of 3 classes. */
    static DataSet data(LayerCase c, DataType dt, int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        long[] shape = c.input() instanceof org.deeplearning4j.nn.conf.inputs.InputType.InputTypeConvolutional t
                ? new long[] {n, t.getChannels(), t.getHeight(), t.getWidth()}
                : new long[] {n, c.input().arrayElementsPerExample()};
        INDArray x = Nd4j.rand(dt, shape).muli(2).subi(1);
        INDArray y = Nd4j.zeros(dt, n, 3);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, i % 3, 1.0);
        }
        return new DataSet(x, y);
    }

    /** The parameter table of the layer named {@code name}. */
    static Map<String, INDArray> params(Model net, String name) {
        return net instanceof ComputationGraph g ? g.getLayer(name).paramTable()
                : layerByName((MultiLayerNetwork) net, name).paramTable();
    }

    static org.deeplearning4j.nn.api.Layer layerByName(MultiLayerNetwork net, String name) {
        for (org.deeplearning4j.nn.api.Layer l : net.getLayers()) {
            if (name.equals(l.conf().getLayer().getLayerName())) {
                return l;
            }
        }
        throw new IllegalArgumentException("no layer " + name);
    }

    /** Copies every parameter of {@code from} into the parameter of {@code to} with the same layer name and key. */
    static void copyByName(Model from, Model to) {
        for (String layer : layerNames(to)) {
            Map<String, INDArray> dst = params(to, layer);
            Map<String, INDArray> src = params(from, layer);
            for (Map.Entry<String, INDArray> p : dst.entrySet()) {
                p.getValue().assign(src.get(p.getKey()));
            }
        }
    }

    /**
     * Copies the quantized layer {@code q}'s parameters into the float twin's layers {@code q, q_1, ...}
     * (by key), and the other layers' by name.
     */
    static void copyIntoTwin(Model quant, Model twin) {
        Map<String, INDArray> q = params(quant, "q");
        for (String layer : layerNames(twin)) {
            Map<String, INDArray> dst = params(twin, layer);
            Map<String, INDArray> src = layer.startsWith("q") ? q : params(quant, layer);
            for (Map.Entry<String, INDArray> p : dst.entrySet()) {
                INDArray v = src.get(p.getKey());
                if (v == null) {
                    throw new IllegalStateException("no parameter " + p.getKey() + " for twin layer " + layer + " in "
                            + src.keySet());
                }
                p.getValue().assign(v.reshape(p.getValue().shape()));
            }
        }
    }

    static List<String> layerNames(Model net) {
        List<String> names = new ArrayList<>();
        org.deeplearning4j.nn.api.Layer[] ls = net instanceof ComputationGraph g ? g.getLayers()
                : ((MultiLayerNetwork) net).getLayers();
        for (org.deeplearning4j.nn.api.Layer l : ls) {
            names.add(l.conf().getLayer().getLayerName());
        }
        return names;
    }
}
