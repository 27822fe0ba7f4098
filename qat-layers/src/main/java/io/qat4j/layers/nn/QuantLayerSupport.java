package io.qat4j.layers.nn;

import io.qat4j.layers.quant.QuantKind;
import io.qat4j.layers.quant.QuantSpec;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.schedule.ISchedule;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What every quantized layer configuration does the same way, written once: instantiation, the
 * parameter initializer, and the updater and regularization of each parameter. The configurations'
 * DL4J overrides are one-line calls to these (see {@link QuantLayer}).
 *
 * <p>Parameters fall in three groups:
 * <ul>
 *   <li>state, never trained: observer ranges ({@code qin}, {@code qout}) and the running statistics of
 *       layers with folded batch normalization — a no-op updater and no regularization;</li>
 *   <li>a learned quantizer's parameters — the layer's updater with its learning rate times the spec's
 *       {@code lr_scale}, and no weight decay except PACT's own L2 on alpha ({@code l2});</li>
 *   <li>everything else (weights, biases, γ, β) — what DL4J's base class gives it.</li>
 * </ul>
 */
public final class QuantLayerSupport {
    private QuantLayerSupport() {
    }

    /** DL4J's {@code instantiate}: a new implementation wired to its configuration and parameter views. */
    public static <C extends org.deeplearning4j.nn.conf.layers.Layer & QuantLayer> Layer instantiate(
            C layer, NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
            INDArray paramsView, boolean initializeParams, DataType dataType) {
        return wire(layer.newImpl(conf, dataType), conf, initializer(layer), listeners, layerIndex, paramsView,
                initializeParams);
    }

    /** Wires an implementation to its configuration and parameters (DL4J's usual instantiate steps). */
    static <L extends Layer> L wire(L impl, NeuralNetConfiguration conf, ParamInitializer initializer,
                                    Collection<TrainingListener> listeners, int layerIndex, INDArray paramsView,
                                    boolean initializeParams) {
        impl.setListeners(listeners);
        impl.setIndex(layerIndex);
        impl.setParamsViewArray(paramsView);
        Map<String, INDArray> paramTable = initializer.init(conf, paramsView, initializeParams);
        impl.setParamTable(paramTable);
        impl.setConf(conf);
        return impl;
    }

    /** The float twin's parameters, then observer state, then learned quantizer parameters. */
    public static ParamInitializer initializer(QuantLayer layer) {
        return new QuantParamInitializer(layer.floatInitializer());
    }

    /** Whether a parameter is state (observer ranges, running statistics): never trained. */
    public static boolean isState(org.deeplearning4j.nn.conf.layers.Layer layer, String param) {
        return QuantParamInitializer.isStateKey(param)
                || (layer instanceof FusedBatchNorm && FusedBnParamInitializer.isStatisticsKey(param));
    }

    /**
     * The updater of a parameter: no-op for state; for a learned quantizer's parameter the layer's
     * updater with its learning rate times the spec's {@code lr_scale} (the very same updater when the
     * factor is 1); {@code normal} (DL4J's choice) for everything else.
     */
    public static IUpdater updaterFor(org.deeplearning4j.nn.conf.layers.Layer layer, String param, IUpdater normal) {
        if (isState(layer, param)) {
            return new NoOp();
        }
        QuantSpec spec = QuantParamInitializer.learnedSpec(layer, param);
        return spec == null ? normal : scaled(normal, spec.lrScale());
    }

    /**
     * The regularization of a parameter: none for state; for a learned quantizer's parameters none (not
     * the layer's weight decay), except PACT's alpha, which gets DL4J's L2 regularization
     * (lambda/2) alpha^2 with the spec's {@code l2} as lambda; {@code normal} for everything else.
     */
    public static List<Regularization> regularizationFor(org.deeplearning4j.nn.conf.layers.Layer layer, String param,
                                                         List<Regularization> normal) {
        if (isState(layer, param)) {
            return List.of();
        }
        QuantSpec spec = QuantParamInitializer.learnedSpec(layer, param);
        if (spec == null) {
            return normal;
        }
        if (spec.kind() == QuantKind.PACT && spec.l2() > 0) {
            return List.of(new L2Regularization(spec.l2()));
        }
        return List.of();
    }

    /**
     * {@code u} with its learning rate multiplied by {@code factor}: a copy whose learning rate is a
     * schedule reading {@code u}'s current rate, so changes to the layer's learning rate (a schedule,
     * or {@code MultiLayerNetwork.setLearningRate}) carry over. Updaters without a learning rate and
     * a factor of 1 return {@code u} itself.
     */
    static IUpdater scaled(IUpdater u, double factor) {
        if (u == null || factor == 1 || !u.hasLearningRate()) {
            return u;
        }
        IUpdater c = u.clone();
        c.setLrAndSchedule(Double.NaN, new ScaledRate(u, factor));
        return c;
    }

    /** A learning rate that is another updater's times a constant factor. */
    static final class ScaledRate implements ISchedule {
        private static final long serialVersionUID = 1L;
        private final IUpdater base;
        private final double factor;

        ScaledRate(IUpdater base, double factor) {
            this.base = base;
            this.factor = factor;
        }

        @Override
        public double valueAt(int iteration, int epoch) {
            return base.getLearningRate(iteration, epoch) * factor;
        }

        @Override
        public ISchedule clone() {
            return new ScaledRate(base, factor);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ScaledRate r && r.factor == factor && r.base.equals(base);
        }

        @Override
        public int hashCode() {
            return Objects.hash(base, factor);
        }

        @Override
        public String toString() {
            return "ScaledRate(" + factor + " x " + base + ")";
        }
    }

    /** Rejects null sites, naming the layer. */
    static QuantSites requireSites(QuantSites sites, String layer) {
        if (sites == null) {
            throw new IllegalArgumentException(layer + ": quantization sites must not be null (use QuantSites.none())");
        }
        return sites;
    }

    /** {@code Kind(name, nIn=.., nOut=.., sites[, extra])}: the toString of every quantized layer. */
    static String describe(org.deeplearning4j.nn.conf.layers.Layer layer, String extra) {
        QuantLayer q = (QuantLayer) layer;
        return layer.getClass().getSimpleName() + "(" + layer.getLayerName() + ", nIn=" + q.getNIn() + ", nOut="
                + q.getNOut() + ", " + q.getQuantSites() + (extra == null || extra.isEmpty() ? "" : ", " + extra) + ")";
    }
}
