package io.qat4j.zoo;

import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The kinds of layers a quantization plan can address as a group. */
public enum LayerKind {
    CONV, DENSE, OUTPUT, BATCHNORM, ACTIVATION, POOL, DROPOUT, OTHER;

    /** Lower-case name used in configuration files. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a configuration name such as {@code conv}; the error lists the allowed names. */
    public static LayerKind fromConfigName(String name) {
        for (LayerKind k : values()) {
            if (k.configName().equals(name)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown layer kind '" + name + "'; allowed: "
                + Arrays.stream(values()).map(LayerKind::configName).collect(Collectors.joining(", ")));
    }

    /**
     * Classifies a DL4J layer configuration. Output layers are checked before dense ones; RangeBN and
     * L1BN ({@code DeviationBatchNorm}) are {@link #BATCHNORM} like DL4J's batch normalization. Layers with
     * folded batch normalization are conv ({@code QuantConvBN2D}) or dense ({@code QuantDenseBN}).
     */
    public static LayerKind of(Layer layer) {
        if (layer instanceof BaseOutputLayer) {
            return OUTPUT;
        }
        if (layer instanceof ConvolutionLayer) {
            return CONV;
        }
        if (layer instanceof DenseLayer || layer instanceof io.qat4j.layers.nn.QuantDense
                || layer instanceof io.qat4j.layers.nn.QuantDenseBN) {
            return DENSE;
        }
        if (layer instanceof BatchNormalization || layer instanceof io.qat4j.layers.nn.DeviationBatchNorm) {
            return BATCHNORM;
        }
        if (layer instanceof ActivationLayer || layer instanceof io.qat4j.layers.nn.QuantActivation) {
            return ACTIVATION;
        }
        if (layer instanceof SubsamplingLayer || layer instanceof org.deeplearning4j.nn.conf.layers.Subsampling1DLayer
                || layer instanceof org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer) {
            return POOL;
        }
        if (layer instanceof DropoutLayer) {
            return DROPOUT;
        }
        return OTHER;
    }

    /** True for layers with trainable weights (the ones a weight bit width applies to). */
    public boolean hasWeights() {
        return this == CONV || this == DENSE || this == OUTPUT;
    }
}
