package io.qat4j.training.data;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** The supported image classification data sets, with their image geometry and class names. */
public enum DatasetKind {
    /** MNIST handwritten digits: 1 x 28 x 28 gray-scale, 10 classes. */
    MNIST("mnist", 1, 28, 28,
            List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")),
    /** Fashion-MNIST clothing images: 1 x 28 x 28 gray-scale, 10 classes. */
    FASHION_MNIST("fashion-mnist", 1, 28, 28,
            List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")),
    /** CIFAR-10 natural images: 3 x 32 x 32 RGB, 10 classes. */
    CIFAR10("cifar10", 3, 32, 32,
            List.of("airplane", "automobile", "bird", "cat", "deer",
                    "dog", "frog", "horse", "ship", "truck"));

    private final String yamlName;
    private final int channels;
    private final int height;
    private final int width;
    private final List<String> classNames;

    DatasetKind(String yamlName, int channels, int height, int width, List<String> classNames) {
        this.yamlName = yamlName;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.classNames = classNames;
    }

    /** The name used in experiment files and on the command line, e.g. {@code fashion-mnist}. */
    public String yamlName() {
        return yamlName;
    }

    /**
     * Parses a data set name ({@code mnist}, {@code fashion-mnist}, {@code cifar10}), ignoring case
     * and surrounding white space.
     *
     * @throws IllegalArgumentException if the name is unknown; the message lists the allowed names
     */
    public static DatasetKind fromName(String name) {
        if (name != null) {
            String n = name.trim().toLowerCase(Locale.ROOT);
            for (DatasetKind k : values()) {
                if (k.yamlName.equals(n)) {
                    return k;
                }
            }
        }
        throw new IllegalArgumentException("unknown dataset '" + name + "'; allowed: "
                + Arrays.stream(values()).map(DatasetKind::yamlName).collect(Collectors.joining(", ")));
    }

    /** Number of image channels (1 for gray-scale, 3 for RGB). */
    public int channels() {
        return channels;
    }

    /** Image height in pixels. */
    public int height() {
        return height;
    }

    /** Image width in pixels. */
    public int width() {
        return width;
    }

    /** Number of classes (length of the one-hot label vector). */
    public int numClasses() {
        return classNames.size();
    }

    /** Length of one flattened example, {@code channels * height * width}. */
    public int featureSize() {
        return channels * height * width;
    }

    /** Human-readable class names, indexed by label. */
    public List<String> classNames() {
        return classNames;
    }
}
