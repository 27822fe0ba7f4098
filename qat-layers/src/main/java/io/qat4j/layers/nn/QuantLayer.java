package io.qat4j.layers.nn;

/**
 * Implemented by every quantized layer configuration: its sites and the channel counts that size
 * the observer state of per-channel activation specs.
 */
public interface QuantLayer {

    /** The specs of the input, weight, bias and output sites. */
    QuantSites getQuantSites();

    /** DL4J's nIn (the configurations' own getter). */
    long getNIn();

    /** DL4J's nOut (the configurations' own getter). */
    long getNOut();

    /** Channels of the layer's input (axis 1 of its input activations). */
    default long inputChannels() {
        return getNIn();
    }

    /** Channels of the layer's output (axis 1 of its output activations). */
    default long outputChannels() {
        return getNOut();
    }

    /** Size of the weights' output-channel axis, which per-channel weight specs have one value for. */
    default long weightChannels() {
        return getNOut();
    }
}
