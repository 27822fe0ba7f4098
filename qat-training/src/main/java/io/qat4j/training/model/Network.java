package io.qat4j.training.model;

import io.qat4j.training.UserException;
import io.qat4j.zoo.NetConf;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A trained or training network of either DL4J kind, {@code MultiLayerNetwork} or {@code ComputationGraph}
 * (single input, single output), with the operations the runner, the evaluators and the exporter need. The one
 * place that switches on the kind.
 */
public final class Network {
    private final Model model;

    private Network(Model model) {
        if (!(model instanceof MultiLayerNetwork) && !(model instanceof ComputationGraph)) {
            throw new IllegalArgumentException("a Network is a MultiLayerNetwork or a ComputationGraph, got "
                    + model.getClass().getName());
        }
        if (model instanceof ComputationGraph g && (g.getNumInputArrays() != 1 || g.getNumOutputArrays() != 1)) {
            throw new UserException("the graph has " + g.getNumInputArrays() + " inputs and " + g.getNumOutputArrays()
                    + " outputs; allowed: one input and one output");
        }
        this.model = model;
    }

    /** Wraps a network. */
    public static Network of(Model model) {
        return new Network(model);
    }

    /** A new initialized network of a configuration. */
    public static Network create(NetConf conf) {
        return new Network(conf.init());
    }

    /**
     * Reads a ModelSerializer zip of either kind (told apart by its configuration); a missing or bad file is a
     * user error naming it.
     */
    public static Network restore(Path zip) {
        if (!Files.isRegularFile(zip)) {
            throw new UserException("model " + zip + " does not exist; give a run's best.zip / last.zip or a DL4J "
                    + "ModelSerializer zip");
        }
        try {
            boolean graph;
            try (ZipFile z = new ZipFile(zip.toFile())) {
                ZipEntry e = z.getEntry("configuration.json");
                if (e == null) {
                    throw new UserException("model " + zip + " is not a DL4J ModelSerializer zip (no configuration.json "
                            + "inside)");
                }
                try (InputStream in = z.getInputStream(e)) {
                    graph = new String(in.readAllBytes(), StandardCharsets.UTF_8).contains("\"vertices\"");
                }
            }
            return new Network(graph ? ModelSerializer.restoreComputationGraph(zip.toFile(), true)
                    : ModelSerializer.restoreMultiLayerNetwork(zip.toFile(), true));
        } catch (IOException | RuntimeException e) {
            if (e instanceof UserException u) {
                throw u;
            }
            throw new UserException("cannot read model " + zip + ": " + e.getMessage(), e);
        }
    }

    /** Writes a ModelSerializer zip (with the updater state, so training can continue). */
    public void save(Path zip) throws IOException {
        ModelSerializer.writeModel(model, zip.toFile(), true);
    }

    public Model model() {
        return model;
    }

    public boolean isGraph() {
        return model instanceof ComputationGraph;
    }

    /** The configuration (a copy of the network's own). */
    public NetConf conf() {
        return model instanceof ComputationGraph g ? new NetConf.Graph(g.getConfiguration().clone())
                : new NetConf.Stack(((MultiLayerNetwork) model).getLayerWiseConfigurations().clone());
    }

    /** One training step on a minibatch. */
    public void fit(DataSet ds) {
        if (model instanceof ComputationGraph g) {
            g.fit(new INDArray[] {ds.getFeatures()}, new INDArray[] {ds.getLabels()});
        } else {
            ((MultiLayerNetwork) model).fit(ds.getFeatures(), ds.getLabels());
        }
    }

    /** The score (loss) of the last minibatch. */
    public double score() {
        return model.score();
    }

    /** Inference-mode output (class probabilities). */
    public INDArray output(INDArray x) {
        return model instanceof ComputationGraph g ? g.outputSingle(false, x) : ((MultiLayerNetwork) model).output(x, false);
    }

    /** Sets the learning rate of every layer (the schedule is the runner's). */
    public void setLearningRate(double lr) {
        if (model instanceof ComputationGraph g) {
            g.setLearningRate(lr);
        } else {
            ((MultiLayerNetwork) model).setLearningRate(lr);
        }
    }

    public Collection<TrainingListener> listeners() {
        return model instanceof ComputationGraph g ? g.getListeners() : ((MultiLayerNetwork) model).getListeners();
    }

    public void addListener(TrainingListener l) {
        model.addListeners(l);
    }

    public void incrementEpochCount() {
        if (model instanceof ComputationGraph g) {
            g.getConfiguration().setEpochCount(g.getConfiguration().getEpochCount() + 1);
        } else {
            ((MultiLayerNetwork) model).incrementEpochCount();
        }
    }

    /** The layers in order: a stack's in order, a graph's in topological order. */
    public List<Layer> layers() {
        if (model instanceof MultiLayerNetwork m) {
            return List.of(m.getLayers());
        }
        ComputationGraph g = (ComputationGraph) model;
        List<Layer> out = new ArrayList<>();
        for (int i : g.topologicalSortOrder()) {
            var v = g.getVertices()[i];
            if (v.hasLayer()) {
                out.add(v.getLayer());
            }
        }
        return out;
    }

    /** The layer named {@code name}, or null. */
    public Layer layer(String name) {
        for (Layer l : layers()) {
            if (name.equals(l.conf().getLayer().getLayerName())) {
                return l;
            }
        }
        return null;
    }

    /** The name of the layer with DL4J index {@code index} (as layers and training monitors know it), or "". */
    public String layerName(int index) {
        for (Layer l : layers()) {
            if (l.getIndex() == index) {
                String n = l.conf().getLayer().getLayerName();
                return n == null ? "layer " + index : n;
            }
        }
        return "";
    }

    /** A copy in another floating-point type (e.g. double, for a fake-quant reference without float32 noise). */
    public Network convertDataType(org.nd4j.linalg.api.buffer.DataType type) {
        return new Network(model instanceof ComputationGraph g ? g.convertDataType(type)
                : ((MultiLayerNetwork) model).convertDataType(type));
    }

    public long numParams() {
        return model.numParams();
    }

    public INDArray params() {
        return model.params();
    }
}
