package io.qat4j.training.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/**
 * Writes small synthetic MNIST-style and CIFAR-10 files for tests.
 *
 * <p>Image {@code i} of a split encodes its own index in its first two pixels
 * ({@code i & 0xff}, {@code i >> 8}), so tests can recover which example a feature row came from,
 * and has label {@code i % 10}. The other pixels follow {@link #pixel(int, int)}.
 */
final class SyntheticData {

    static final int MNIST_PIXELS = 28 * 28;
    static final int CIFAR_PIXELS = 3 * 32 * 32;

    private SyntheticData() {
    }

    /** Deterministic pixel value of pixel {@code p} of image {@code i}. */
    static int pixel(int i, int p) {
        if (p == 0) {
            return i & 0xff;
        }
        if (p == 1) {
            return (i >> 8) & 0xff;
        }
        return (i * 31 + p * 7 + (p / 1024) * 50) % 256;
    }

    static int label(int i) {
        return i % 10;
    }

    /** Recovers the image index from a feature row scaled with {@code x / 255}. */
    static int indexOfUnitRow(float[] row) {
        return Math.round(row[0] * 255f) + 256 * Math.round(row[1] * 255f);
    }

    static byte[] idxImages(int count) {
        ByteBuffer b = ByteBuffer.allocate(16 + count * MNIST_PIXELS);
        b.putInt(0x00000803).putInt(count).putInt(28).putInt(28);
        for (int i = 0; i < count; i++) {
            for (int p = 0; p < MNIST_PIXELS; p++) {
                b.put((byte) pixel(i, p));
            }
        }
        return b.array();
    }

    static byte[] idxLabels(int count) {
        ByteBuffer b = ByteBuffer.allocate(8 + count);
        b.putInt(0x00000801).putInt(count);
        for (int i = 0; i < count; i++) {
            b.put((byte) label(i));
        }
        return b.array();
    }

    static byte[] gzip(byte[] data) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (OutputStream gz = new GZIPOutputStream(out)) {
                gz.write(data);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes the four IDX files into {@code dir} (created if needed), optionally gzip-compressed. */
    static Path writeIdx(Path dir, int trainCount, int testCount, boolean gz) throws IOException {
        Files.createDirectories(dir);
        write(dir, DatasetFiles.TRAIN_IMAGES, idxImages(trainCount), gz);
        write(dir, DatasetFiles.TRAIN_LABELS, idxLabels(trainCount), gz);
        write(dir, DatasetFiles.TEST_IMAGES, idxImages(testCount), gz);
        write(dir, DatasetFiles.TEST_LABELS, idxLabels(testCount), gz);
        return dir;
    }

    private static void write(Path dir, String name, byte[] data, boolean gz) throws IOException {
        if (gz) {
            Files.write(dir.resolve(name + ".gz"), gzip(data));
        } else {
            Files.write(dir.resolve(name), data);
        }
    }

    /** CIFAR-10 binary records for images {@code first .. first+count-1}. */
    static byte[] cifarRecords(int first, int count) {
        byte[] out = new byte[count * 3073];
        for (int r = 0; r < count; r++) {
            int i = first + r;
            out[r * 3073] = (byte) label(i);
            for (int p = 0; p < CIFAR_PIXELS; p++) {
                out[r * 3073 + 1 + p] = (byte) pixel(i, p);
            }
        }
        return out;
    }

    /**
     * Writes five training files of {@code perTrainFile} records (global indices 0..) and a test
     * file of {@code testCount} records into {@code dir} (created if needed).
     */
    static Path writeCifar(Path dir, int perTrainFile, int testCount) throws IOException {
        Files.createDirectories(dir);
        for (int f = 0; f < 5; f++) {
            Files.write(dir.resolve("data_batch_" + (f + 1) + ".bin"), cifarRecords(f * perTrainFile, perTrainFile));
        }
        Files.write(dir.resolve("test_batch.bin"), cifarRecords(0, testCount));
        return dir;
    }

    /** All rows of one pass over an iterator: feature rows, label indices and batch sizes. */
    record Drained(List<float[]> rows, List<Integer> labels, List<Integer> batchSizes) {
        int size() {
            return rows.size();
        }
    }

    /** Reads one full pass of {@code it} (without resetting first), checking shapes and one-hot labels. */
    static Drained drain(DataSetIterator it) {
        List<float[]> rows = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        List<Integer> batchSizes = new ArrayList<>();
        while (it.hasNext()) {
            DataSet ds = it.next();
            INDArray f = ds.getFeatures();
            INDArray l = ds.getLabels();
            if (f.dataType() != DataType.FLOAT || l.dataType() != DataType.FLOAT) {
                throw new AssertionError("expected FLOAT arrays but got " + f.dataType() + " / " + l.dataType());
            }
            if (f.rank() != 2 || f.size(1) != it.inputColumns() || l.size(1) != it.totalOutcomes()
                    || f.size(0) != l.size(0)) {
                throw new AssertionError("bad shapes " + java.util.Arrays.toString(f.shape()) + " / "
                        + java.util.Arrays.toString(l.shape()));
            }
            int n = (int) f.size(0);
            batchSizes.add(n);
            for (int i = 0; i < n; i++) {
                rows.add(f.getRow(i).toFloatVector());
                float[] oneHot = l.getRow(i).toFloatVector();
                int label = -1;
                float sum = 0;
                for (int k = 0; k < oneHot.length; k++) {
                    sum += oneHot[k];
                    if (oneHot[k] == 1f) {
                        label = k;
                    }
                }
                if (label < 0 || sum != 1f) {
                    throw new AssertionError("label row is not one-hot: " + java.util.Arrays.toString(oneHot));
                }
                labels.add(label);
            }
        }
        return new Drained(rows, labels, batchSizes);
    }
}
