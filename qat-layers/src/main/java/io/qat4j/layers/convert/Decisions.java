package io.qat4j.layers.convert;

import io.qat4j.layers.fold.BatchNormFold;
import io.qat4j.layers.nn.FusedBatchNorm;
import io.qat4j.layers.nn.FusedBnParamInitializer;
import io.qat4j.layers.nn.QuantSites;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.Map;

/**
 * What both network kinds decide the same way: whether a layer is replaced, why a layer stays float, how a fused
 * layer is described, and how parameters move from the float network to its twin.
 */
final class Decisions {
    private Decisions() {
    }

    /**
     * Whether the rule's sites replace the layer: non-null sites, not all float unless the options convert float
     * sites too.
     *
     * @throws IllegalArgumentException when the rule quantizes a layer that has no twin (naming it and the allowed
     *     classes)
     */
    static boolean replaces(Layer layer, QuantSites sites, QatConverter.Options options) {
        if (sites == null || (sites.isFloat() && !options.convertFloatSites())) {
            return false;
        }
        if (LayerTwins.noTwinReason(layer) != null) {
            LayerTwins.convert(layer, sites); // throws, naming the layer and the allowed classes
        }
        return true;
    }

    /** Why a layer the rule did not replace stays float. */
    static String keptReason(Layer layer, QatConverter.Options options) {
        String noTwin = LayerTwins.noTwinReason(layer);
        if (noTwin == null) {
            return "the rule gives it no quantized site";
        }
        if (isBatchNorm(layer) && !options.foldBatchNorm()) {
            return noTwin + "; folding batch normalization is off";
        }
        return noTwin;
    }

    /**
     * Why a batch normalization after {@code before}, which the rule did not replace (or replaced by a twin without a
     * fused form), is not folded.
     */
    static String foldBlockerBefore(Layer before, BatchNormalization bn) {
        String blocker = LayerTwins.foldBlocker(before, bn);
        return blocker != null ? blocker : "the layer before it, " + before.getLayerName() + ", stays float";
    }

    /** DL4J's {@code BatchNormalization} (exactly that class). */
    static boolean isBatchNorm(Layer layer) {
        return layer != null && layer.getClass() == BatchNormalization.class;
    }

    /** The report detail of a fused layer: its sites and what was folded into it. */
    static String fusedDetail(QuantSites sites, String bnName, Layer fused) {
        FusedBatchNorm f = (FusedBatchNorm) fused;
        return ConversionReport.describe(((io.qat4j.layers.nn.QuantLayer) fused).getQuantSites()) + "; " + bnName
                + " folded (decay " + f.getDecay() + ", eps " + f.getEps() + ", "
                + (f.isBnFrozen() ? "statistics frozen" : "batch statistics until frozen") + ")"
                + (sites.bias().isFloat() ? "" : "; bias site float: the exporter quantizes the folded bias");
    }

    /** Copies every parameter of {@code from} into the parameter of the same key and shape of {@code to}. */
    static void copyParams(Model from, Model to, String where) {
        Map<String, INDArray> target = to.paramTable();
        for (Map.Entry<String, INDArray> p : from.paramTable().entrySet()) {
            INDArray dst = target.get(p.getKey());
            if (dst == null || !Arrays.equals(dst.shape(), p.getValue().shape())) {
                throw new IllegalStateException(where + ": parameter '" + p.getKey() + "' "
                        + Arrays.toString(p.getValue().shape()) + " has no counterpart of the same shape in the "
                        + "quantized layer (its parameters: " + target.keySet() + ")");
            }
            dst.assign(p.getValue());
        }
    }

    /**
     * The parameters of a fused layer from the float linear layer (W, b) and batch normalization (γ, β, running mean,
     * and the running variance, converted from DL4J's log10 standard deviation when it stores that).
     */
    static void copyFusedParams(org.deeplearning4j.nn.api.Layer linear, org.deeplearning4j.nn.api.Layer bn,
                                org.deeplearning4j.nn.api.Layer fused, String where) {
        copyParams(linear, fused, where);
        BatchNormFold.Stats s = BatchNormFold.Stats.of(bn);
        assign(fused, FusedBnParamInitializer.GAMMA, s.gamma(), where);
        assign(fused, FusedBnParamInitializer.BETA, s.beta(), where);
        assign(fused, FusedBnParamInitializer.MEAN, s.mean(), where);
        assign(fused, FusedBnParamInitializer.VAR, s.var(), where);
    }

    private static void assign(org.deeplearning4j.nn.api.Layer to, String key, INDArray value, String where) {
        INDArray dst = to.getParam(key);
        if (dst == null || dst.length() != value.length()) {
            throw new IllegalStateException(where + ": fused parameter '" + key + "' has " + (dst == null ? "no view"
                    : dst.length() + " values") + ", the normalization " + value.length());
        }
        dst.assign(value.reshape(dst.shape()).castTo(dst.dataType()));
    }
}
