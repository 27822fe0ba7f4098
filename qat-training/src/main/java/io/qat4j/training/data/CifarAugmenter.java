package io.qat4j.training.data;

import java.util.Arrays;
import java.util.Random;

/**
 * Seeded CIFAR-style augmentation: random crop with 4-pixel padding plus random horizontal flip.
 *
 * <p>For each example a flip bit (probability 1/2) and a shift {@code dx, dy} in {@code -4..4} are
 * drawn; the output pixel {@code (y, x)} takes the source pixel {@code (y + dy, x' + dx)} with
 * {@code x' = flip ? w - 1 - x : x}, or the per-channel padding value if that lies outside the
 * image. This equals cropping a {@code h x w} window from the image zero-padded by 4 pixels on each
 * side and then flipping. The padding value is the normalized value of a black (0) pixel, so the
 * padding is "zero" in raw pixel space, as in the usual recipe (pad, crop, then normalize).
 *
 * <p>The random sequence restarts at {@link #reset()}, so a given seed always yields the same
 * augmentations for the same example order.
 */
final class CifarAugmenter {

    static final int PAD = 4;

    private final long seed;
    private final int channels;
    private final int height;
    private final int width;
    private final float[] padValues;
    private final float[] scratch;
    private Random rng;

    /**
     * @param seed seed of the random sequence
     * @param padValues per-channel value of padded pixels (the normalized value of raw 0)
     */
    CifarAugmenter(long seed, int channels, int height, int width, float[] padValues) {
        if (padValues.length != channels) {
            throw new IllegalArgumentException("padValues has " + padValues.length + " entries but there are "
                    + channels + " channels");
        }
        this.seed = seed;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.padValues = padValues.clone();
        this.scratch = new float[channels * height * width];
        reset();
    }

    /** Restarts the random sequence from the seed. */
    void reset() {
        rng = new Random(seed);
    }

    /** Augments the example stored at {@code data[offset .. offset + c*h*w)} in place. */
    void apply(float[] data, int offset) {
        boolean flip = rng.nextBoolean();
        int dx = rng.nextInt(2 * PAD + 1) - PAD;
        int dy = rng.nextInt(2 * PAD + 1) - PAD;
        System.arraycopy(data, offset, scratch, 0, scratch.length);
        transform(scratch, 0, data, offset, channels, height, width, flip, dx, dy, padValues);
    }

    /**
     * Writes the shifted and optionally flipped copy of the channel-major example at {@code src}
     * into {@code dst}: {@code dst(c, y, x) = src(c, y + dy, x' + dx)} with
     * {@code x' = flip ? w - 1 - x : x}, or {@code pad[c]} outside the image.
     */
    static void transform(float[] src, int srcOffset, float[] dst, int dstOffset, int channels, int height,
                          int width, boolean flip, int dx, int dy, float[] pad) {
        for (int c = 0; c < channels; c++) {
            int plane = c * height * width;
            for (int y = 0; y < height; y++) {
                int sy = y + dy;
                int dstRow = dstOffset + plane + y * width;
                if (sy < 0 || sy >= height) {
                    Arrays.fill(dst, dstRow, dstRow + width, pad[c]);
                    continue;
                }
                int srcRow = srcOffset + plane + sy * width;
                for (int x = 0; x < width; x++) {
                    int sx = (flip ? width - 1 - x : x) + dx;
                    dst[dstRow + x] = sx >= 0 && sx < width ? src[srcRow + sx] : pad[c];
                }
            }
        }
    }
}
