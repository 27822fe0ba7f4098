package io.qat4j.zoo;

import io.qat4j.layers.nn.QuantSites;

/**
 * Decides how each layer of a zoo model is quantized. Zoo models ask the plan for every layer they
 * create, by name and kind; a layer whose sites are all {@code float} is built as the stock DL4J
 * layer, so a float plan gives exactly the float network.
 *
 * <p>For weighted layers (conv, dense, output) the weight and bias sites apply as they are; the
 * output site is the layer's activation quantization (ignored for the output layer: class scores
 * stay float). For a batch-normalization layer only the output site matters. Where max pooling
 * follows (LeNet-5's convolutions), the activation quantization moves after the pool into a
 * {@code QuantActivation} named {@code <pool>_act}; after a normalization with no pool it is a
 * {@code QuantActivation} named {@code <bn>_act} that carries the activation function. With folded
 * batch normalization ({@link BnFolding}) there is no normalization layer: the fused conv / dense
 * layer's own output site is its activation quantization ({@code <pool>_act} or {@code <layer>_act}).
 */
@FunctionalInterface
public interface QuantPlan {

    /** The sites of the layer named {@code layerName}. */
    QuantSites sites(String layerName, LayerKind kind);

    /**
     * The sites of the layer named {@code layerName}, whose quantized activation is non-negative (after ReLU)
     * when {@code nonNegative}: bit-width precisions then mean unsigned codes, others signed. The graph models
     * ask this way, since a residual network has both kinds; plans that ignore it answer {@link #sites}.
     */
    default QuantSites sites(String layerName, LayerKind kind, boolean nonNegative) {
        return sites(layerName, kind);
    }

    /** Every layer float. */
    static QuantPlan none() {
        return (name, kind) -> QuantSites.none();
    }
}
