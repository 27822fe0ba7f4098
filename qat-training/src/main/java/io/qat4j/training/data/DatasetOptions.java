package io.qat4j.training.data;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Immutable options describing which data set to load and how to split, normalize and augment it.
 *
 * <p>Create instances with {@link #builder(DatasetKind, Path)}:
 *
 * <pre>{@code
 * DatasetOptions opts = DatasetOptions.builder(DatasetKind.CIFAR10, Path.of("data"))
 *         .normalization(Normalization.STANDARDIZE)
 *         .validationSize(5000)
 *         .seed(42)
 *         .augment(true)
 *         .build();
 * }</pre>
 */
public final class DatasetOptions {

    private final DatasetKind kind;
    private final Path dataDir;
    private final Normalization normalization;
    private final int validationSize;
    private final int trainSubset;
    private final int testSubset;
    private final long seed;
    private final boolean augment;

    private DatasetOptions(Builder b) {
        this.kind = b.kind;
        this.dataDir = b.dataDir;
        this.normalization = b.normalization;
        this.validationSize = b.validationSize;
        this.trainSubset = b.trainSubset;
        this.testSubset = b.testSubset;
        this.seed = b.seed;
        this.augment = b.augment;
    }

    /**
     * Starts a builder. Defaults: {@link Normalization#UNIT}, no validation hold-out, full train and
     * test sets, seed 0, no augmentation.
     */
    public static Builder builder(DatasetKind kind, Path dataDir) {
        return new Builder(kind, dataDir);
    }

    /** Returns a builder initialized with the values of this instance. */
    public Builder toBuilder() {
        return new Builder(kind, dataDir)
                .normalization(normalization)
                .validationSize(validationSize)
                .trainSubset(trainSubset)
                .testSubset(testSubset)
                .seed(seed)
                .augment(augment);
    }

    /** The data set to load. */
    public DatasetKind kind() {
        return kind;
    }

    /** Root data directory ({@code <dataDir>/mnist}, {@code <dataDir>/cifar-10-batches-bin}, ...). */
    public Path dataDir() {
        return dataDir;
    }

    /** How pixel values are normalized. */
    public Normalization normalization() {
        return normalization;
    }

    /** Number of training images held out for validation; 0 means no validation set. */
    public int validationSize() {
        return validationSize;
    }

    /** Number of training images used after the hold-out; 0 means all remaining ones. */
    public int trainSubset() {
        return trainSubset;
    }

    /** Number of test images used (the first ones of the test files); 0 means the full test set. */
    public int testSubset() {
        return testSubset;
    }

    /** Seed for the hold-out split, the per-epoch shuffling and the augmentation. */
    public long seed() {
        return seed;
    }

    /** Whether training batches are augmented (random crop and horizontal flip; CIFAR-10 only). */
    public boolean augment() {
        return augment;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof DatasetOptions other)) {
            return false;
        }
        return kind == other.kind
                && dataDir.equals(other.dataDir)
                && normalization == other.normalization
                && validationSize == other.validationSize
                && trainSubset == other.trainSubset
                && testSubset == other.testSubset
                && seed == other.seed
                && augment == other.augment;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, dataDir, normalization, validationSize, trainSubset, testSubset, seed, augment);
    }

    @Override
    public String toString() {
        return "DatasetOptions{kind=" + kind.yamlName()
                + ", dataDir=" + dataDir
                + ", normalization=" + normalization.yamlName()
                + ", validationSize=" + validationSize
                + ", trainSubset=" + trainSubset
                + ", testSubset=" + testSubset
                + ", seed=" + seed
                + ", augment=" + augment + "}";
    }

    /** Mutable builder for {@link DatasetOptions}; {@link #build()} validates the values. */
    public static final class Builder {
        private final DatasetKind kind;
        private final Path dataDir;
        private Normalization normalization = Normalization.UNIT;
        private int validationSize;
        private int trainSubset;
        private int testSubset;
        private long seed;
        private boolean augment;

        private Builder(DatasetKind kind, Path dataDir) {
            this.kind = Objects.requireNonNull(kind, "kind");
            this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
        }

        /** Sets the normalization (default {@link Normalization#UNIT}). */
        public Builder normalization(Normalization normalization) {
            this.normalization = Objects.requireNonNull(normalization, "normalization");
            return this;
        }

        /** Sets the number of training images held out for validation (default 0 = none). */
        public Builder validationSize(int validationSize) {
            this.validationSize = validationSize;
            return this;
        }

        /** Sets the number of training images to use after the hold-out (default 0 = all). */
        public Builder trainSubset(int trainSubset) {
            this.trainSubset = trainSubset;
            return this;
        }

        /** Sets the number of test images to use (default 0 = all). */
        public Builder testSubset(int testSubset) {
            this.testSubset = testSubset;
            return this;
        }

        /** Sets the seed (default 0). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Enables training-batch augmentation (CIFAR-10 only; default false). */
        public Builder augment(boolean augment) {
            this.augment = augment;
            return this;
        }

        /**
         * Validates and builds the options.
         *
         * @throws IllegalArgumentException if a size is negative, or augmentation is requested for a
         *     data set other than CIFAR-10
         */
        public DatasetOptions build() {
            requireNonNegative("validationSize", validationSize);
            requireNonNegative("trainSubset", trainSubset);
            requireNonNegative("testSubset", testSubset);
            if (augment && kind != DatasetKind.CIFAR10) {
                throw new IllegalArgumentException("augment: true is not supported for dataset '"
                        + kind.yamlName() + "'; augmentation (random crop + horizontal flip) is only "
                        + "available for " + DatasetKind.CIFAR10.yamlName()
                        + " (a horizontal flip changes the meaning of digits); set augment: false");
            }
            return new DatasetOptions(this);
        }

        private static void requireNonNegative(String name, int value) {
            if (value < 0) {
                throw new IllegalArgumentException(name + " must be 0 or a positive number of images, but was " + value);
            }
        }
    }
}
