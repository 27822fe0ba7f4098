package io.qat4j.training.data;

import java.util.List;
import java.util.NoSuchElementException;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Iterates over examples held in memory as one flat float array, in a fixed order.
 *
 * <p>Features are returned as {@code [batch, featureSize]} float32 rows, labels as one-hot
 * {@code [batch, numClasses]}. The order (identity or a given permutation) is fixed at
 * construction, so {@link #reset()} replays exactly the same batches, including augmentation.
 * Batches are assembled with {@link System#arraycopy} from the backing array, which is shared and
 * never modified.
 */
final class InMemoryDataSetIterator implements DataSetIterator {

    private static final long serialVersionUID = 1L;

    private final float[] features;
    private final byte[] labels;
    private final int count;
    private final int featureSize;
    private final int numClasses;
    private final int batchSize;
    private final int[] order;
    private final CifarAugmenter augmenter;
    private final List<String> labelNames;
    private int cursor;
    private DataSetPreProcessor preProcessor;

    /**
     * @param features {@code count * featureSize} floats, one example after the other
     * @param labels one class index per example
     * @param order visiting order (a permutation of {@code 0..count-1}), or null for file order
     * @param augmenter augmentation applied to each returned example, or null for none
     */
    InMemoryDataSetIterator(float[] features, byte[] labels, int count, int featureSize, int numClasses,
                            int batchSize, int[] order, CifarAugmenter augmenter, List<String> labelNames) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize must be a positive number of examples, but was " + batchSize);
        }
        if (order != null && order.length != count) {
            throw new IllegalArgumentException("order has " + order.length + " entries but there are " + count + " examples");
        }
        this.features = features;
        this.labels = labels;
        this.count = count;
        this.featureSize = featureSize;
        this.numClasses = numClasses;
        this.batchSize = batchSize;
        this.order = order;
        this.augmenter = augmenter;
        this.labelNames = labelNames;
    }

    /** Total number of examples in one pass. */
    int numExamples() {
        return count;
    }

    @Override
    public boolean hasNext() {
        return cursor < count;
    }

    @Override
    public DataSet next() {
        return next(batchSize);
    }

    @Override
    public DataSet next(int num) {
        if (!hasNext()) {
            throw new NoSuchElementException("no more examples; call reset() to start a new pass");
        }
        if (num <= 0) {
            throw new IllegalArgumentException("num must be a positive number of examples, but was " + num);
        }
        int n = Math.min(num, count - cursor);
        float[] x = new float[n * featureSize];
        float[] y = new float[n * numClasses];
        for (int i = 0; i < n; i++) {
            int example = order == null ? cursor + i : order[cursor + i];
            System.arraycopy(features, example * featureSize, x, i * featureSize, featureSize);
            if (augmenter != null) {
                augmenter.apply(x, i * featureSize);
            }
            y[i * numClasses + labels[example]] = 1f;
        }
        cursor += n;
        INDArray f = Nd4j.create(x, new long[] {n, featureSize}, 'c');
        INDArray l = Nd4j.create(y, new long[] {n, numClasses}, 'c');
        DataSet ds = new DataSet(f, l);
        if (preProcessor != null) {
            preProcessor.preProcess(ds);
        }
        return ds;
    }

    @Override
    public int inputColumns() {
        return featureSize;
    }

    @Override
    public int totalOutcomes() {
        return numClasses;
    }

    @Override
    public boolean resetSupported() {
        return true;
    }

    @Override
    public boolean asyncSupported() {
        return true;
    }

    @Override
    public void reset() {
        cursor = 0;
        if (augmenter != null) {
            augmenter.reset();
        }
    }

    @Override
    public int batch() {
        return batchSize;
    }

    @Override
    public void setPreProcessor(DataSetPreProcessor preProcessor) {
        this.preProcessor = preProcessor;
    }

    @Override
    public DataSetPreProcessor getPreProcessor() {
        return preProcessor;
    }

    @Override
    public List<String> getLabels() {
        return labelNames;
    }
}
