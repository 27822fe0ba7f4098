package io.qat4j.zoo;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import java.util.ArrayList;
import java.util.List;

/**
 * A network configuration of either DL4J kind: a layer stack ({@code MultiLayerNetwork}) or a graph
 * ({@code ComputationGraph}, for residual networks). Zoo models return one; callers that need the
 * kind switch on it.
 */
public sealed interface NetConf permits NetConf.Stack, NetConf.Graph {

    /** A {@code MultiLayerNetwork} configuration. */
    record Stack(MultiLayerConfiguration conf) implements NetConf {
        @Override
        public List<Layer> layers() {
            List<Layer> out = new ArrayList<>();
            for (NeuralNetConfiguration c : conf.getConfs()) {
                out.add(c.getLayer());
            }
            return out;
        }

        @Override
        public MultiLayerNetwork init() {
            MultiLayerNetwork n = new MultiLayerNetwork(conf);
            n.init();
            return n;
        }

        @Override
        public Stack copy() {
            return new Stack(conf.clone());
        }
    }

    /** A {@code ComputationGraph} configuration. */
    record Graph(ComputationGraphConfiguration conf) implements NetConf {
        @Override
        public List<Layer> layers() {
            List<Layer> out = new ArrayList<>();
            for (var v : conf.getVertices().values()) {
                if (v instanceof LayerVertex lv) {
                    out.add(lv.getLayerConf().getLayer());
                }
            }
            return out;
        }

        @Override
        public ComputationGraph init() {
            ComputationGraph g = new ComputationGraph(conf);
            g.init();
            return g;
        }

        @Override
        public Graph copy() {
            return new Graph(conf.clone());
        }
    }

    /** The layer configurations in order (a graph's layer vertices in the order they were added: topological). */
    List<Layer> layers();

    /** A new initialized network of this configuration. */
    Model init();

    /** A deep copy. */
    NetConf copy();

    /** The JSON form DL4J reads back. */
    default String toJson() {
        return this instanceof Stack s ? s.conf().toJson() : ((Graph) this).conf().toJson();
    }
}
