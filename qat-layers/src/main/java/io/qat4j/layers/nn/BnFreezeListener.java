package io.qat4j.layers.nn;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;

/**
 * The batch-normalization freeze phase switch: from the start of epoch {@code epochs} (counting
 * finished epochs from 0) every layer with folded batch normalization ({@link FusedBatchNorm}) of the
 * network switches from batch statistics to its frozen running statistics (Krishnamoorthi,
 * 1806.08342, §3.2: "freeze the batch norm statistics" after enough steps).
 *
 * <p>The switch is {@link FusedBatchNorm#setBnFrozen} on the layer configurations, which the network
 * saves, so a network restored from a checkpoint stays frozen. It happens in {@code onEpochStart}
 * (called by DL4J's {@code fit(DataSetIterator)} and by loops that count epochs themselves), and, for
 * loops that call no epoch hooks, after the first iteration of the epoch in {@code iterationDone}.
 * {@code epochs = 0} freezes before the first epoch.
 *
 * <pre>
 * net.addListeners(new BnFreezeListener(2));   // epochs 0 and 1 with batch statistics, then frozen
 * </pre>
 */
public class BnFreezeListener extends BaseTrainingListener {
    private final int epochs;

    /**
     * @param epochs number of epochs trained with batch statistics, &gt;= 0
     * @throws IllegalArgumentException for a negative count
     */
    public BnFreezeListener(int epochs) {
        if (epochs < 0) {
            throw new IllegalArgumentException("BnFreezeListener: epochs " + epochs + " is not allowed; allowed: "
                    + "an epoch count >= 0 (0 freezes before the first epoch)");
        }
        this.epochs = epochs;
    }

    /** The number of epochs trained with batch statistics. */
    public int epochs() {
        return epochs;
    }

    @Override
    public void onEpochStart(Model model) {
        apply(model, epochCount(model));
    }

    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
        apply(model, epoch);
    }

    private void apply(Model model, int epoch) {
        if (epoch >= epochs) {
            freezeAll(model);
        }
    }

    /** Freezes the statistics of every layer with folded batch normalization; returns how many there were. */
    public static int freezeAll(Model model) {
        int n = 0;
        for (Layer l : layers(model)) {
            if (l.conf() != null && l.conf().getLayer() instanceof FusedBatchNorm f) {
                f.setBnFrozen(true);
                n++;
            }
        }
        return n;
    }

    private static Layer[] layers(Model model) {
        if (model instanceof MultiLayerNetwork net) {
            return net.getLayers();
        }
        if (model instanceof ComputationGraph graph) {
            return graph.getLayers();
        }
        if (model instanceof Layer layer) {
            return new Layer[]{layer};
        }
        throw new IllegalArgumentException("BnFreezeListener: model " + model.getClass().getName() + " is not allowed; "
                + "allowed: MultiLayerNetwork, ComputationGraph, Layer");
    }

    private static int epochCount(Model model) {
        if (model instanceof MultiLayerNetwork net) {
            return net.getLayerWiseConfigurations().getEpochCount();
        }
        if (model instanceof ComputationGraph graph) {
            return graph.getConfiguration().getEpochCount();
        }
        return model.conf().getEpochCount();
    }

    @Override
    public String toString() {
        return "BnFreezeListener(epochs=" + epochs + ")";
    }
}
