package io.qat4j.training.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tests IDX parsing and the MNIST / Fashion-MNIST file handling, on small synthetic files. */
class IdxReaderTest {

    @TempDir
    Path tmp;

    private DataSplits loadUnit(DatasetKind kind) {
        return DataSplits.load(DatasetOptions.builder(kind, tmp).build());
    }

    private void checkTestSetInFileOrder(DataSplits splits, int count) {
        SyntheticData.Drained d = SyntheticData.drain(splits.test(7));
        assertEquals(count, d.size());
        for (int i = 0; i < count; i++) {
            float[] row = d.rows().get(i);
            assertEquals(28 * 28, row.length);
            for (int p = 0; p < row.length; p++) {
                assertEquals(SyntheticData.pixel(i, p) / 255f, row[p], 0f, "image " + i + " pixel " + p);
            }
            assertEquals(SyntheticData.label(i), d.labels().get(i), "label of image " + i);
        }
    }

    @Test
    void plainRoundTrip() throws IOException {
        SyntheticData.writeIdx(tmp.resolve("mnist"), 30, 12, false);
        DataSplits splits = loadUnit(DatasetKind.MNIST);
        assertEquals(30, splits.trainSize());
        assertEquals(12, splits.testSize());
        assertEquals(0, splits.validationSize());
        checkTestSetInFileOrder(splits, 12);
        // every training image appears once, with its own label and pixels
        SyntheticData.Drained d = SyntheticData.drain(splits.train(8, 0));
        boolean[] seen = new boolean[30];
        for (int k = 0; k < d.size(); k++) {
            int i = SyntheticData.indexOfUnitRow(d.rows().get(k));
            seen[i] = true;
            assertEquals(SyntheticData.label(i), d.labels().get(k));
            assertEquals(SyntheticData.pixel(i, 500) / 255f, d.rows().get(k)[500], 0f);
        }
        boolean[] all = new boolean[30];
        Arrays.fill(all, true);
        assertArrayEquals(all, seen);
    }

    @Test
    void gzipRoundTrip() throws IOException {
        SyntheticData.writeIdx(tmp.resolve("fashion-mnist"), 25, 11, true);
        DataSplits splits = loadUnit(DatasetKind.FASHION_MNIST);
        assertEquals(25, splits.trainSize());
        checkTestSetInFileOrder(splits, 11);
        assertEquals(DatasetKind.FASHION_MNIST.classNames(), splits.test(4).getLabels());
    }

    @Test
    void readerReturnsRawBytes() throws IOException {
        Path f = tmp.resolve("images");
        Files.write(f, SyntheticData.idxImages(3));
        IdxReader.Images images = IdxReader.readImages(f, 28, 28);
        assertEquals(3, images.count());
        assertEquals(3 * 784, images.pixels().length);
        assertEquals((byte) SyntheticData.pixel(2, 100), images.pixels()[2 * 784 + 100]);
    }

    @Test
    void plainFilePreferredOverGzip() throws IOException {
        Path dir = SyntheticData.writeIdx(tmp.resolve("fashion-mnist"), 20, 10, false);
        // a broken .gz next to the plain file must be ignored
        Files.write(dir.resolve(DatasetFiles.TRAIN_IMAGES + ".gz"), new byte[] {1, 2, 3});
        assertEquals(20, loadUnit(DatasetKind.FASHION_MNIST).trainSize());
    }

    @Test
    void dataDirMayPointAtTheMnistFolder() throws IOException {
        Path dir = SyntheticData.writeIdx(tmp.resolve("somewhere"), 20, 10, false);
        DataSplits splits = DataSplits.load(DatasetOptions.builder(DatasetKind.MNIST, dir).build());
        assertEquals(20, splits.trainSize());
    }

    @Test
    void wrongMagic() throws IOException {
        Path dir = SyntheticData.writeIdx(tmp.resolve("mnist"), 20, 10, false);
        byte[] bytes = SyntheticData.idxImages(20);
        bytes[3] = 0x01;
        Files.write(dir.resolve(DatasetFiles.TRAIN_IMAGES), bytes);
        DataException e = assertThrows(DataException.class, () -> loadUnit(DatasetKind.MNIST));
        assertTrue(e.getMessage().contains(dir.resolve(DatasetFiles.TRAIN_IMAGES).toString()), e.getMessage());
        assertTrue(e.getMessage().contains(
                "expected IDX magic 0x00000803 (unsigned byte, 3 dimensions) but found 0x00000801"), e.getMessage());
    }

    @Test
    void wrongLabelMagic() throws IOException {
        Path dir = SyntheticData.writeIdx(tmp.resolve("mnist"), 20, 10, false);
        Files.write(dir.resolve(DatasetFiles.TEST_LABELS), SyntheticData.idxImages(10));
        DataException e = assertThrows(DataException.class, () -> loadUnit(DatasetKind.MNIST));
        assertTrue(e.getMessage().contains("expected IDX magic 0x00000801 (unsigned byte, 1 dimension) but found 0x00000803"),
                e.getMessage());
    }

    @Test
    void gzipDataWithoutGzSuffixGetsHint() throws IOException {
        Path dir = SyntheticData.writeIdx(tmp.resolve("mnist"), 20, 10, false);
        Files.write(dir.resolve(DatasetFiles.TRAIN_IMAGES), SyntheticData.gzip(SyntheticData.idxImages(20)));
        DataException e = assertThrows(DataException.class, () -> loadUnit(DatasetKind.MNIST));
        assertTrue(e.getMessage().contains("looks gzip-compressed"), e.getMessage());
    }

    @Test
    void wrongImageSize() throws IOException {
        Path dir = SyntheticData.writeIdx(tmp.resolve("mnist"), 20, 10, false);
        byte[] bytes = SyntheticData.idxImages(20);
        bytes[11] = 32;
        Files.write(dir.resolve(DatasetFiles.TRAIN_IMAGES), bytes);
        DataException e = assertThrows(DataException.class, () -> loadUnit(DatasetKind.MNIST));
        assertTrue(e.getMessage().contains("expected images of 28 x 28 pixels but the IDX header declares 32 x 28"),
                e.getMessage());
    }

    @Test
    void truncatedImagesFile() throws IOException {
        Path dir = SyntheticData.writeIdx(tmp.resolve("mnist"), 20, 10, false);
        byte[] bytes = SyntheticData.idxImages(20);
        Files.write(dir.resolve(DatasetFiles.TRAIN_IMAGES), Arrays.copyOf(bytes, bytes.length - 100));
        DataException e = assertThrows(DataException.class, () -> loadUnit(DatasetKind.MNIST));
        String m = e.getMessage();
        assertTrue(m.contains(dir.resolve(DatasetFiles.TRAIN_IMAGES).toString()), m);
        assertTrue(m.contains("expected " + bytes.length + " bytes"), m);
        assertTrue(m.contains("found " + (bytes.length - 100) + " bytes"), m);
        assertTrue(m.contains("truncated"), m);
    }

    @Test
    void headerOnlyPartlyPresent() throws IOException {
        Path dir = SyntheticData.writeIdx(tmp.resolve("mnist"), 20, 10, false);
        Files.write(dir.resolve(DatasetFiles.TRAIN_IMAGES), new byte[] {0, 0, 8, 3, 0});
        DataException e = assertThrows(DataException.class, () -> loadUnit(DatasetKind.MNIST));
        assertTrue(e.getMessage().contains("found only 5 bytes"), e.getMessage());
    }

    @Test
    void extraBytes() throws IOException {
        Path dir = SyntheticData.writeIdx(tmp.resolve("mnist"), 20, 10, false);
        byte[] bytes = SyntheticData.idxLabels(20);
        Files.write(dir.resolve(DatasetFiles.TRAIN_LABELS), Arrays.copyOf(bytes, bytes.length + 3));
        DataException e = assertThrows(DataException.class, () -> loadUnit(DatasetKind.MNIST));
        String m = e.getMessage();
        assertTrue(m.contains(DatasetFiles.TRAIN_LABELS), m);
        assertTrue(m.contains("expected " + bytes.length + " bytes"), m);
        assertTrue(m.contains("3 unexpected extra bytes"), m);
    }

    @Test
    void truncatedGzip() throws IOException {
        Path dir = SyntheticData.writeIdx(tmp.resolve("fashion-mnist"), 20, 10, true);
        Path f = dir.resolve(DatasetFiles.TRAIN_IMAGES + ".gz");
        byte[] gz = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(gz, gz.length / 2));
        DataException e = assertThrows(DataException.class, () -> loadUnit(DatasetKind.FASHION_MNIST));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void gzipWithTruncatedContent() throws IOException {
        // a complete gzip stream whose decompressed IDX content is too short
        Path dir = SyntheticData.writeIdx(tmp.resolve("fashion-mnist"), 20, 10, true);
        byte[] images = SyntheticData.idxImages(10);
        Files.write(dir.resolve(DatasetFiles.TEST_IMAGES + ".gz"),
                SyntheticData.gzip(Arrays.copyOf(images, images.length - 1)));
        DataException e = assertThrows(DataException.class, () -> loadUnit(DatasetKind.FASHION_MNIST));
        assertTrue(e.getMessage().contains("after gzip decompression"), e.getMessage());
        assertTrue(e.getMessage().contains("1 bytes missing"), e.getMessage());
    }

    @Test
    void notGzip() throws IOException {
        Path dir = SyntheticData.writeIdx(tmp.resolve("fashion-mnist"), 20, 10, true);
        Files.write(dir.resolve(DatasetFiles.TEST_LABELS + ".gz"), SyntheticData.idxLabels(10));
        DataException e = assertThrows(DataException.class, () -> loadUnit(DatasetKind.FASHION_MNIST));
        assertTrue(e.getMessage().contains("not valid gzip data"), e.getMessage());
    }

    @Test
    void labelOutOfRange() throws IOException {
        Path dir = SyntheticData.writeIdx(tmp.resolve("mnist"), 20, 10, false);
        byte[] bytes = SyntheticData.idxLabels(10);
        bytes[8 + 7] = 12;
        Files.write(dir.resolve(DatasetFiles.TEST_LABELS), bytes);
        DataException e = assertThrows(DataException.class, () -> loadUnit(DatasetKind.MNIST));
        String m = e.getMessage();
        assertTrue(m.contains(dir.resolve(DatasetFiles.TEST_LABELS).toString()), m);
        assertTrue(m.contains("label at index 7 is 12"), m);
        assertTrue(m.contains("0..9"), m);
    }

    @Test
    void countMismatch() throws IOException {
        Path dir = SyntheticData.writeIdx(tmp.resolve("mnist"), 20, 10, false);
        Files.write(dir.resolve(DatasetFiles.TRAIN_LABELS), SyntheticData.idxLabels(19));
        DataException e = assertThrows(DataException.class, () -> loadUnit(DatasetKind.MNIST));
        String m = e.getMessage();
        assertTrue(m.contains("20 images and 19 labels"), m);
        assertTrue(m.contains(DatasetFiles.TRAIN_IMAGES) && m.contains(DatasetFiles.TRAIN_LABELS), m);
    }

    @Test
    void missingFilesMentionFetchScript() throws IOException {
        Path dir = SyntheticData.writeIdx(tmp.resolve("mnist"), 20, 10, false);
        Files.delete(dir.resolve(DatasetFiles.TEST_IMAGES));
        DataException e = assertThrows(DataException.class, () -> loadUnit(DatasetKind.MNIST));
        String m = e.getMessage();
        assertTrue(m.contains("missing " + DatasetFiles.TEST_IMAGES + " in " + dir.toAbsolutePath()), m);
        assertTrue(m.contains("scripts/fetch-data mnist"), m);
    }

    @Test
    void missingDirectoryMentionsFetchScript() {
        DataException e = assertThrows(DataException.class, () -> loadUnit(DatasetKind.FASHION_MNIST));
        String m = e.getMessage();
        assertTrue(m.contains(tmp.resolve("fashion-mnist").toAbsolutePath().toString()), m);
        assertTrue(m.contains("does not exist"), m);
        for (String name : DatasetFiles.IDX_FILES) {
            assertTrue(m.contains(name), m);
        }
        assertTrue(m.contains("scripts/fetch-data fashion-mnist"), m);
        assertTrue(!m.contains("\n"), "message must be one paragraph: " + m);
    }
}
