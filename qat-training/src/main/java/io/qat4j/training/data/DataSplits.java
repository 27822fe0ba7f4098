package io.qat4j.training.data;

import java.util.Arrays;
import java.util.Random;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The train, validation and test splits of one data set, loaded into memory and normalized.
 *
 * <p>{@link #load(DatasetOptions)} reads the files, shuffles the full training set with a seed
 * derived from {@link DatasetOptions#seed()}, holds out the first {@code validationSize} images for
 * validation, keeps the next {@code trainSubset} (or all remaining) images for training and the
 * first {@code testSubset} (or all) test images, then normalizes everything with statistics of the
 * training split actually used.
 *
 * <p>Each example is a float32 row of length {@code c*h*w} in channel-major order (channel, then
 * row, then column), so networks use {@code InputType.convolutionalFlat(h, w, c)}; labels are
 * one-hot. The training iterator of epoch {@code e} visits the examples in an order (and with
 * augmentations) determined only by {@code (seed, e)}, so a resumed run sees the same batches.
 */
public final class DataSplits {

    private static final Logger LOG = LoggerFactory.getLogger(DataSplits.class);

    /** Independent random streams derived from the user seed. */
    private static final long STREAM_SPLIT = 1;
    private static final long STREAM_SHUFFLE = 2;
    private static final long STREAM_AUGMENT = 3;

    private final DatasetOptions options;
    private final int featureSize;
    private final float[] trainFeatures;
    private final byte[] trainLabels;
    private final int trainSize;
    private final float[] validationFeatures;
    private final byte[] validationLabels;
    private final int validationSize;
    private final float[] testFeatures;
    private final byte[] testLabels;
    private final int testSize;
    private final float[] channelMean;
    private final float[] channelStd;

    private DataSplits(DatasetOptions options, RawData train, int[] trainIndex, int[] validationIndex,
                       RawData test, int testCount, double[] mean, double[] std) {
        DatasetKind kind = options.kind();
        this.options = options;
        this.featureSize = kind.featureSize();
        float[][] lut = lookupTables(mean, std);
        this.trainSize = trainIndex.length;
        this.trainFeatures = gatherFeatures(train, trainIndex, lut);
        this.trainLabels = gatherLabels(train, trainIndex);
        this.validationSize = validationIndex.length;
        this.validationFeatures = gatherFeatures(train, validationIndex, lut);
        this.validationLabels = gatherLabels(train, validationIndex);
        int[] testIndex = identity(testCount);
        this.testSize = testCount;
        this.testFeatures = gatherFeatures(test, testIndex, lut);
        this.testLabels = gatherLabels(test, testIndex);
        this.channelMean = toFloat(mean);
        this.channelStd = toFloat(std);
    }

    /**
     * Loads and splits the data set described by {@code opts}.
     *
     * @throws DataException if files are missing or malformed, or the requested sizes exceed the
     *     number of available images
     */
    public static DataSplits load(DatasetOptions opts) {
        DatasetKind kind = opts.kind();
        DatasetFiles.Loaded files = DatasetFiles.load(kind, opts.dataDir());
        RawData train = files.train();
        RawData test = files.test();

        int available = train.count();
        if (opts.validationSize() >= available) {
            throw new DataException("validationSize " + opts.validationSize() + " is too large: the " + kind.yamlName()
                    + " training files in " + opts.dataDir() + " hold " + available + " images, and at least one must "
                    + "remain for training; use a validationSize between 0 and " + (available - 1) + ".");
        }
        int remaining = available - opts.validationSize();
        if (opts.trainSubset() > remaining) {
            throw new DataException("trainSubset " + opts.trainSubset() + " is too large: only " + remaining + " of the "
                    + available + " " + kind.yamlName() + " training images remain after holding out "
                    + opts.validationSize() + " for validation; use a trainSubset between 0 (all) and " + remaining + ".");
        }
        if (opts.testSubset() > test.count()) {
            throw new DataException("testSubset " + opts.testSubset() + " is too large: the " + kind.yamlName()
                    + " test files in " + opts.dataDir() + " hold " + test.count() + " images; use a testSubset "
                    + "between 0 (all) and " + test.count() + ".");
        }
        int trainCount = opts.trainSubset() == 0 ? remaining : opts.trainSubset();
        int testCount = opts.testSubset() == 0 ? test.count() : opts.testSubset();

        int[] perm = permutation(available, deriveSeed(opts.seed(), STREAM_SPLIT, 0));
        int[] validationIndex = new int[opts.validationSize()];
        System.arraycopy(perm, 0, validationIndex, 0, validationIndex.length);
        int[] trainIndex = new int[trainCount];
        System.arraycopy(perm, validationIndex.length, trainIndex, 0, trainCount);

        int channels = kind.channels();
        double[] mean = new double[channels];
        double[] std = new double[channels];
        if (opts.normalization() == Normalization.STANDARDIZE) {
            channelStatistics(train, trainIndex, channels, mean, std);
        } else {
            Arrays.fill(std, 1.0);
        }
        DataSplits splits = new DataSplits(opts, train, trainIndex, validationIndex, test, testCount, mean, std);
        LOG.info("Loaded {}: {} train, {} validation, {} test images ({} normalization{})", kind.yamlName(),
                splits.trainSize, splits.validationSize, splits.testSize, opts.normalization().yamlName(),
                opts.normalization() == Normalization.STANDARDIZE
                        ? ", mean " + Arrays.toString(splits.channelMean)
                        + ", std " + Arrays.toString(splits.channelStd)
                        : "");
        return splits;
    }

    /**
     * Iterator over the training split for one epoch, shuffled with a seed derived from
     * {@code (seed, epoch)}; if augmentation is enabled it is seeded the same way. {@code reset()}
     * replays the same epoch.
     *
     * @param batchSize examples per batch (the last batch may be smaller)
     * @param epoch epoch number, 0 or more
     */
    public DataSetIterator train(int batchSize, int epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be 0 or more, but was " + epoch);
        }
        int[] order = permutation(trainSize, deriveSeed(options.seed(), STREAM_SHUFFLE, epoch));
        CifarAugmenter augmenter = null;
        if (options.augment()) {
            DatasetKind kind = options.kind();
            float[] pad = new float[kind.channels()];
            for (int c = 0; c < pad.length; c++) {
                pad[c] = (0f - channelMean[c]) / channelStd[c];
            }
            augmenter = new CifarAugmenter(deriveSeed(options.seed(), STREAM_AUGMENT, epoch),
                    kind.channels(), kind.height(), kind.width(), pad);
        }
        return iterator(trainFeatures, trainLabels, trainSize, batchSize, order, augmenter);
    }

    /**
     * Iterator over the validation split in a fixed order, or {@code null} if
     * {@code validationSize} is 0.
     */
    public DataSetIterator validation(int batchSize) {
        if (validationSize == 0) {
            return null;
        }
        return iterator(validationFeatures, validationLabels, validationSize, batchSize, null, null);
    }

    /** Iterator over the test split in file order. */
    public DataSetIterator test(int batchSize) {
        return iterator(testFeatures, testLabels, testSize, batchSize, null, null);
    }

    /** Number of training examples per epoch. */
    public int trainSize() {
        return trainSize;
    }

    /** Number of validation examples (0 if none). */
    public int validationSize() {
        return validationSize;
    }

    /** Number of test examples. */
    public int testSize() {
        return testSize;
    }

    /** The data set. */
    public DatasetKind kind() {
        return options.kind();
    }

    /** The options this instance was loaded with. */
    public DatasetOptions options() {
        return options;
    }

    /**
     * Per-channel mean subtracted from {@code x / 255} (all zeros for {@link Normalization#UNIT}).
     * Needed to normalize new inputs the same way at inference time.
     */
    public float[] channelMean() {
        return channelMean.clone();
    }

    /** Per-channel standard deviation dividing {@code x / 255 - mean} (all ones for {@link Normalization#UNIT}). */
    public float[] channelStd() {
        return channelStd.clone();
    }

    private DataSetIterator iterator(float[] features, byte[] labels, int count, int batchSize, int[] order,
                                     CifarAugmenter augmenter) {
        DatasetKind kind = options.kind();
        return new InMemoryDataSetIterator(features, labels, count, featureSize, kind.numClasses(), batchSize,
                order, augmenter, kind.classNames());
    }

    /**
     * Derives an independent seed for one random stream and epoch (SplitMix64 mixing), so that
     * nearby user seeds and epochs give unrelated sequences.
     */
    static long deriveSeed(long seed, long stream, long epoch) {
        long z = mix64(seed + 0x9E3779B97F4A7C15L * stream);
        return mix64(z + 0x9E3779B97F4A7C15L * (epoch + 1));
    }

    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A Fisher-Yates permutation of {@code 0..n-1} drawn from {@code java.util.Random(seed)}. */
    static int[] permutation(int n, long seed) {
        int[] p = identity(n);
        Random rng = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private static int[] identity(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        return p;
    }

    /** Exact per-channel mean and (population) standard deviation of {@code x / 255} via byte histograms. */
    private static void channelStatistics(RawData data, int[] index, int channels, double[] mean, double[] std) {
        int imageBytes = data.imageBytes();
        int plane = imageBytes / channels;
        long[][] histogram = new long[channels][256];
        byte[] pixels = data.pixels();
        for (int example : index) {
            int base = example * imageBytes;
            for (int c = 0; c < channels; c++) {
                long[] h = histogram[c];
                int start = base + c * plane;
                for (int i = start; i < start + plane; i++) {
                    h[pixels[i] & 0xff]++;
                }
            }
        }
        for (int c = 0; c < channels; c++) {
            double n = (double) index.length * plane;
            double sum = 0;
            double sumSq = 0;
            for (int v = 0; v < 256; v++) {
                double x = v / 255.0;
                sum += histogram[c][v] * x;
                sumSq += histogram[c][v] * x * x;
            }
            mean[c] = sum / n;
            double variance = Math.max(0.0, sumSq / n - mean[c] * mean[c]);
            double s = Math.sqrt(variance);
            // A constant channel cannot be scaled to unit variance; only center it.
            std[c] = s < 1e-8 ? 1.0 : s;
        }
    }

    /** For each channel, the normalized float value of every byte value 0..255. */
    private static float[][] lookupTables(double[] mean, double[] std) {
        float[][] lut = new float[mean.length][256];
        for (int c = 0; c < mean.length; c++) {
            for (int v = 0; v < 256; v++) {
                lut[c][v] = mean[c] == 0.0 && std[c] == 1.0 ? v / 255f : (float) ((v / 255.0 - mean[c]) / std[c]);
            }
        }
        return lut;
    }

    private static float[] gatherFeatures(RawData data, int[] index, float[][] lut) {
        int imageBytes = data.imageBytes();
        int plane = imageBytes / lut.length;
        byte[] pixels = data.pixels();
        float[] out = new float[Math.multiplyExact(index.length, imageBytes)];
        for (int i = 0; i < index.length; i++) {
            int src = index[i] * imageBytes;
            int dst = i * imageBytes;
            for (int c = 0; c < lut.length; c++) {
                float[] table = lut[c];
                int offset = c * plane;
                for (int k = offset; k < offset + plane; k++) {
                    out[dst + k] = table[pixels[src + k] & 0xff];
                }
            }
        }
        return out;
    }

    private static byte[] gatherLabels(RawData data, int[] index) {
        byte[] out = new byte[index.length];
        byte[] labels = data.labels();
        for (int i = 0; i < index.length; i++) {
            out[i] = labels[index[i]];
        }
        return out;
    }

    private static float[] toFloat(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }
}
