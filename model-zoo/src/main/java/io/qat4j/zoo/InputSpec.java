package io.qat4j.zoo;

/**
 * Shape of the images a model is built for. Examples arrive flat, channel-major
 * ({@code [batch, channels*height*width]}), as the qat-training data loaders produce them.
 */
public record InputSpec(int channels, int height, int width, int numClasses) {
    public InputSpec {
        if (channels < 1 || height < 1 || width < 1 || numClasses < 2) {
            throw new IllegalArgumentException("invalid input spec: channels=" + channels + ", height=" + height
                    + ", width=" + width + ", numClasses=" + numClasses + " (all >= 1, classes >= 2)");
        }
    }

    /** Number of input values per example. */
    public int flatSize() {
        return channels * height * width;
    }
}
