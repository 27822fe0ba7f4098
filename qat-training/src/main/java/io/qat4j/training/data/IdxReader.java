package io.qat4j.training.data;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads MNIST-style IDX files (unsigned-byte images and labels), plain or gzip-compressed.
 *
 * <p>IDX files start with a big-endian header: a 4-byte magic number ({@code 0x00000803} for
 * 3-dimensional unsigned-byte image files, {@code 0x00000801} for 1-dimensional label files)
 * followed by one 4-byte size per dimension, then the raw bytes. Every deviation (wrong magic,
 * unexpected image size, truncated or over-long file, label out of range, broken gzip stream) is
 * reported as a {@link DataException} naming the file.
 */
final class IdxReader {

    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;
    static final int IMAGES_HEADER_BYTES = 16;
    static final int LABELS_HEADER_BYTES = 8;
    private static final int GZIP_MAGIC_PREFIX = 0x1f8b0000;

    /** The content of an IDX image file: {@code count} images of {@code rows x cols} bytes, row-major. */
    record Images(int count, int rows, int cols, byte[] pixels) {
        /** Pixel bytes of one image. */
        int imageBytes() {
            return rows * cols;
        }
    }

    private IdxReader() {
    }

    /**
     * Reads an IDX image file and checks its magic, image size and file length.
     *
     * @param file the file; a name ending in {@code .gz} is decompressed with gzip
     * @param expectedRows required image height
     * @param expectedCols required image width
     * @return the images; {@code pixels} holds only the data after the header
     */
    static Images readImages(Path file, int expectedRows, int expectedCols) {
        byte[] bytes = readFileBytes(file);
        String what = describe(file);
        if (bytes.length < IMAGES_HEADER_BYTES) {
            throw new DataException(what + ": expected at least a " + IMAGES_HEADER_BYTES
                    + "-byte IDX image header but found only " + bytes.length + " bytes; the file is truncated or empty.");
        }
        int magic = readInt(bytes, 0);
        if (magic != IMAGES_MAGIC) {
            throw new DataException(what + ": expected IDX magic 0x00000803 (unsigned byte, 3 dimensions) but found "
                    + hex(magic) + gzipHint(file, magic) + ". Is this an MNIST-style image file?");
        }
        int count = readInt(bytes, 4);
        int rows = readInt(bytes, 8);
        int cols = readInt(bytes, 12);
        if (count < 0) {
            throw new DataException(what + ": the IDX header declares " + Integer.toUnsignedString(count)
                    + " images, which is not a valid image count; the file is corrupt.");
        }
        if (rows != expectedRows || cols != expectedCols) {
            throw new DataException(what + ": expected images of " + expectedRows + " x " + expectedCols
                    + " pixels but the IDX header declares " + Integer.toUnsignedString(rows) + " x "
                    + Integer.toUnsignedString(cols) + ".");
        }
        long expectedLength = IMAGES_HEADER_BYTES + (long) count * rows * cols;
        checkLength(file, bytes.length, expectedLength,
                IMAGES_HEADER_BYTES + "-byte header + " + count + " images x " + rows + " x " + cols + " pixels");
        byte[] pixels = new byte[bytes.length - IMAGES_HEADER_BYTES];
        System.arraycopy(bytes, IMAGES_HEADER_BYTES, pixels, 0, pixels.length);
        return new Images(count, rows, cols, pixels);
    }

    /**
     * Reads an IDX label file and checks its magic, file length and that every label is in
     * {@code 0..numClasses-1}.
     *
     * @param file the file; a name ending in {@code .gz} is decompressed with gzip
     * @param numClasses number of classes
     * @return one label per image
     */
    static byte[] readLabels(Path file, int numClasses) {
        byte[] bytes = readFileBytes(file);
        String what = describe(file);
        if (bytes.length < LABELS_HEADER_BYTES) {
            throw new DataException(what + ": expected at least an " + LABELS_HEADER_BYTES
                    + "-byte IDX label header but found only " + bytes.length + " bytes; the file is truncated or empty.");
        }
        int magic = readInt(bytes, 0);
        if (magic != LABELS_MAGIC) {
            throw new DataException(what + ": expected IDX magic 0x00000801 (unsigned byte, 1 dimension) but found "
                    + hex(magic) + gzipHint(file, magic) + ". Is this an MNIST-style label file?");
        }
        int count = readInt(bytes, 4);
        if (count < 0) {
            throw new DataException(what + ": the IDX header declares " + Integer.toUnsignedString(count)
                    + " labels, which is not a valid label count; the file is corrupt.");
        }
        checkLength(file, bytes.length, LABELS_HEADER_BYTES + (long) count,
                LABELS_HEADER_BYTES + "-byte header + " + count + " labels");
        byte[] labels = new byte[count];
        System.arraycopy(bytes, LABELS_HEADER_BYTES, labels, 0, count);
        for (int i = 0; i < count; i++) {
            int label = labels[i] & 0xff;
            if (label >= numClasses) {
                throw new DataException(what + ": label at index " + i + " is " + label
                        + " but labels must be in 0.." + (numClasses - 1) + "; the file is corrupt or not a label file.");
            }
        }
        return labels;
    }

    /**
     * Reads the whole file, decompressing it if its name ends in {@code .gz}.
     *
     * @throws DataException if the file cannot be read or the gzip stream is broken or truncated
     */
    static byte[] readFileBytes(Path file) {
        if (!isGzip(file)) {
            try {
                return Files.readAllBytes(file);
            } catch (IOException e) {
                throw new DataException("could not read file " + file + ": " + e, e);
            }
        }
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file), 1 << 16)) {
            return in.readAllBytes();
        } catch (EOFException e) {
            throw new DataException("file " + file + ": the gzip stream ends unexpectedly; expected a complete "
                    + "gzip-compressed IDX file but the file is truncated (perhaps an interrupted download). "
                    + "Delete it and fetch it again.", e);
        } catch (ZipException e) {
            throw new DataException("file " + file + ": expected a gzip-compressed file (its name ends in .gz) but it "
                    + "is not valid gzip data (" + e.getMessage() + "). Delete it and fetch it again.", e);
        } catch (IOException e) {
            throw new DataException("could not read file " + file + ": " + e, e);
        }
    }

    private static boolean isGzip(Path file) {
        return file.getFileName().toString().endsWith(".gz");
    }

    private static String describe(Path file) {
        return isGzip(file) ? "file " + file + " (after gzip decompression)" : "file " + file;
    }

    private static void checkLength(Path file, long actual, long expected, String layout) {
        if (actual == expected) {
            return;
        }
        String problem = actual < expected
                ? "the file is truncated (" + (expected - actual) + " bytes missing)"
                : "the file has " + (actual - expected) + " unexpected extra bytes at the end";
        throw new DataException(describe(file) + ": expected " + expected + " bytes (" + layout
                + ") but found " + actual + " bytes; " + problem + ".");
    }

    private static String gzipHint(Path file, int magic) {
        if (!isGzip(file) && (magic & 0xffff0000) == GZIP_MAGIC_PREFIX) {
            return " (the file looks gzip-compressed; decompress it or give it a .gz suffix)";
        }
        return "";
    }

    private static String hex(int value) {
        return String.format("0x%08X", value);
    }

    private static int readInt(byte[] b, int off) {
        return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
    }
}
