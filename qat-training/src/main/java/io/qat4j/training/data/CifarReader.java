package io.qat4j.training.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads files of the CIFAR-10 "binary version" ({@code data_batch_N.bin}, {@code test_batch.bin}).
 *
 * <p>Each file is a sequence of 3,073-byte records: one label byte (0..9) followed by 1,024 red,
 * 1,024 green and 1,024 blue bytes, each plane a row-major 32 x 32 image. That is already the
 * channel-major layout used for features, so pixel bytes are copied unchanged. The standard files
 * hold 10,000 records, but any positive number of records is accepted.
 */
final class CifarReader {

    static final int IMAGE_BYTES = 3 * 32 * 32;
    static final int RECORD_BYTES = 1 + IMAGE_BYTES;
    static final int STANDARD_RECORDS = 10_000;

    private CifarReader() {
    }

    /**
     * Reads one CIFAR-10 binary file.
     *
     * @throws DataException if the file cannot be read, its size is not a positive multiple of
     *     3,073 bytes, or a label is outside 0..9
     */
    static RawData read(Path file, int numClasses) {
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            throw new DataException("could not read file " + file + ": " + e, e);
        }
        if (size == 0 || size % RECORD_BYTES != 0 || size / RECORD_BYTES > Integer.MAX_VALUE / IMAGE_BYTES) {
            throw new DataException("file " + file + ": expected a positive multiple of " + RECORD_BYTES
                    + " bytes (CIFAR-10 binary records of 1 label byte + " + IMAGE_BYTES + " pixel bytes; the standard "
                    + "files hold " + STANDARD_RECORDS + " records = " + (long) STANDARD_RECORDS * RECORD_BYTES
                    + " bytes) but found " + size + " bytes; the file is truncated or not a CIFAR-10 binary file "
                    + "(the Python or MATLAB versions of CIFAR-10 are not supported).");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new DataException("could not read file " + file + ": " + e, e);
        }
        int count = bytes.length / RECORD_BYTES;
        byte[] labels = new byte[count];
        byte[] pixels = new byte[count * IMAGE_BYTES];
        for (int i = 0; i < count; i++) {
            int label = bytes[i * RECORD_BYTES] & 0xff;
            if (label >= numClasses) {
                throw new DataException("file " + file + ": label of record " + i + " (byte offset "
                        + (long) i * RECORD_BYTES + ") is " + label + " but labels must be in 0.." + (numClasses - 1)
                        + "; the file is corrupt or not a CIFAR-10 binary file.");
            }
            labels[i] = (byte) label;
            System.arraycopy(bytes, i * RECORD_BYTES + 1, pixels, i * IMAGE_BYTES, IMAGE_BYTES);
        }
        return new RawData(count, IMAGE_BYTES, pixels, labels);
    }
}
