package io.qat4j.layers.convert;

import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.quant.QuantSpec;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;

/**
 * Decides, layer by layer, which quantization sites {@link QatConverter} gives a float layer.
 * Returning {@code null} or all-float sites ({@link QuantSites#none()}) keeps the stock layer.
 *
 * <p>Example: quantize every weighted layer except the first to 4-bit weights:
 * <pre>
 * QuantizationRule rule = (i, name, layer) -&gt; i == 0 ? null
 *     : QuantSites.of("float", "int(bits=4, axis=channel)", "float", "float");
 * </pre>
 */
@FunctionalInterface
public interface QuantizationRule {

    /**
     * The sites for one layer.
     *
     * @param index the layer's index (MultiLayerNetwork), or its position among the layer vertices in
     *     the configuration's vertex order (ComputationGraph)
     * @param layerName the layer's name (the vertex name in a ComputationGraph; may be null in a
     *     MultiLayerNetwork)
     * @param layer the float layer configuration (do not modify it)
     * @return the sites, or null / {@link QuantSites#none()} to keep the layer as it is
     */
    QuantSites sitesFor(int index, String layerName, Layer layer);

    /**
     * The same sites for every layer the converter can replace ({@code DenseLayer},
     * {@code ConvolutionLayer}, {@code DepthwiseConvolution2D}, {@code SeparableConvolution2D},
     * {@code OutputLayer}); output layers get
     * a float output site (the loss needs float scores). Other layers are kept.
     *
     * <p>Example: {@code QuantizationRule.uniform(QuantSites.of("float", "int(bits=8, axis=channel)", "float", "float"))}.
     */
    static QuantizationRule uniform(QuantSites weighted) {
        if (weighted == null) {
            throw new IllegalArgumentException("weighted sites must not be null (use QuantSites.none())");
        }
        return (index, name, layer) -> {
            if (layer instanceof OutputLayer) {
                return weighted.withOutput(QuantSpec.FLOAT);
            }
            return QatConverter.isConvertible(layer) ? weighted : null;
        };
    }
}
