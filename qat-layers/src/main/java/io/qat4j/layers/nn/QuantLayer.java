package io.qat4j.layers.nn;

/**
 * Implemented by every quantized layer configuration: its sites and the channel counts that size
 * the observer state of per-channel activation specs.
 */
public interface QuantLayer {

    /** The specs of the input, weight, bias and output sites. */
    QuantSites getQuantSites();

    /** Channels of the layer's input (axis 1 of its input activations). */
    long inputChannels();

    /** Channels of the layer's output (axis 1 of its output activations). */
    long outputChannels();
}
