package io.qat4j.training.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tests reading the CIFAR-10 binary version from small synthetic files. */
class CifarReaderTest {

    @TempDir
    Path tmp;

    private DataSplits load(Path dataDir) {
        return DataSplits.load(DatasetOptions.builder(DatasetKind.CIFAR10, dataDir).build());
    }

    @Test
    void channelMajorLayoutPixelByPixel() throws IOException {
        Path dir = SyntheticData.writeCifar(tmp.resolve("cifar-10-batches-bin"), 20, 10);
        byte[] records = Files.readAllBytes(dir.resolve("test_batch.bin"));
        DataSplits splits = load(tmp);
        assertEquals(100, splits.trainSize());
        assertEquals(10, splits.testSize());
        SyntheticData.Drained d = SyntheticData.drain(splits.test(4));
        assertEquals(Arrays.asList(4, 4, 2), d.batchSizes());
        for (int r = 0; r < 10; r++) {
            float[] row = d.rows().get(r);
            assertEquals(3 * 32 * 32, row.length);
            assertEquals(records[r * 3073], (byte) (int) d.labels().get(r), "label of record " + r);
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < 32; y++) {
                    for (int x = 0; x < 32; x++) {
                        int fileByte = records[r * 3073 + 1 + c * 1024 + y * 32 + x] & 0xff;
                        assertEquals(fileByte / 255f, row[c * 1024 + y * 32 + x], 0f,
                                "record " + r + " channel " + c + " y " + y + " x " + x);
                    }
                }
            }
        }
    }

    @Test
    void trainFilesAreConcatenatedWithLabels() throws IOException {
        SyntheticData.writeCifar(tmp.resolve("cifar-10-batches-bin"), 20, 10);
        SyntheticData.Drained d = SyntheticData.drain(load(tmp).train(32, 0));
        boolean[] seen = new boolean[100];
        for (int k = 0; k < d.size(); k++) {
            float[] row = d.rows().get(k);
            int i = SyntheticData.indexOfUnitRow(row);
            assertFalse(seen[i], "image " + i + " seen twice");
            seen[i] = true;
            assertEquals(SyntheticData.label(i), d.labels().get(k));
            assertEquals(SyntheticData.pixel(i, 2500) / 255f, row[2500], 0f);
        }
        assertEquals(100, d.size());
    }

    @Test
    void dataDirMayBeTheBatchesFolderItself() throws IOException {
        Path dir = SyntheticData.writeCifar(tmp.resolve("cifar-10-batches-bin"), 3, 2);
        DataSplits splits = load(dir);
        assertEquals(15, splits.trainSize());
        assertEquals(2, splits.testSize());
    }

    @Test
    void sizeNotMultipleOfRecord() throws IOException {
        Path dir = SyntheticData.writeCifar(tmp.resolve("cifar-10-batches-bin"), 3, 2);
        Path f = dir.resolve("data_batch_3.bin");
        Files.write(f, Arrays.copyOf(Files.readAllBytes(f), 3 * 3073 - 5));
        DataException e = assertThrows(DataException.class, () -> load(tmp));
        String m = e.getMessage();
        assertTrue(m.contains(f.toString()), m);
        assertTrue(m.contains("positive multiple of 3073 bytes"), m);
        assertTrue(m.contains("found " + (3 * 3073 - 5) + " bytes"), m);
    }

    @Test
    void emptyFile() throws IOException {
        Path dir = SyntheticData.writeCifar(tmp.resolve("cifar-10-batches-bin"), 3, 2);
        Files.write(dir.resolve("test_batch.bin"), new byte[0]);
        DataException e = assertThrows(DataException.class, () -> load(tmp));
        assertTrue(e.getMessage().contains("found 0 bytes"), e.getMessage());
    }

    @Test
    void labelOutOfRange() throws IOException {
        Path dir = SyntheticData.writeCifar(tmp.resolve("cifar-10-batches-bin"), 3, 2);
        Path f = dir.resolve("data_batch_2.bin");
        byte[] bytes = Files.readAllBytes(f);
        bytes[2 * 3073] = (byte) 200;
        Files.write(f, bytes);
        DataException e = assertThrows(DataException.class, () -> load(tmp));
        String m = e.getMessage();
        assertTrue(m.contains(f.toString()), m);
        assertTrue(m.contains("record 2"), m);
        assertTrue(m.contains("is 200"), m);
        assertTrue(m.contains("0..9"), m);
    }

    @Test
    void missingDirectoryListsFilesAndUrl() {
        DataException e = assertThrows(DataException.class, () -> load(tmp));
        String m = e.getMessage();
        assertTrue(m.contains(tmp.resolve("cifar-10-batches-bin").toAbsolutePath().toString()), m);
        for (int i = 1; i <= 5; i++) {
            assertTrue(m.contains("data_batch_" + i + ".bin"), m);
        }
        assertTrue(m.contains("test_batch.bin"), m);
        assertTrue(m.contains("https://www.cs.toronto.edu/~kriz/cifar.html"), m);
        assertTrue(m.contains("binary version"), m);
        assertTrue(m.contains("University of Toronto"), m);
        assertTrue(m.contains("--data-dir"), m);
        assertFalse(m.contains("\n"), m);
    }

    @Test
    void missingSingleFileIsNamed() throws IOException {
        Path dir = SyntheticData.writeCifar(tmp.resolve("cifar-10-batches-bin"), 3, 2);
        Files.delete(dir.resolve("data_batch_4.bin"));
        DataException e = assertThrows(DataException.class, () -> load(tmp));
        assertTrue(e.getMessage().startsWith("CIFAR-10 data not found: missing data_batch_4.bin in " + dir.toAbsolutePath()),
                e.getMessage());
    }

    @Test
    void pythonVersionIsPointedOut() throws IOException {
        Files.createDirectories(tmp.resolve("cifar-10-batches-py"));
        DataException e = assertThrows(DataException.class, () -> load(tmp));
        assertTrue(e.getMessage().contains("Python version"), e.getMessage());
    }
}
