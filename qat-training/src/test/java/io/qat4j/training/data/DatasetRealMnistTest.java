package io.qat4j.training.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/** Loads the real MNIST from {@code data/mnist} at the repository root; skipped if it is not there. */
class DatasetRealMnistTest {

    /** The repository root: the nearest directory upward from the working directory holding data/mnist. */
    private static Path findMnistRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            if (Files.isDirectory(dir.resolve("data").resolve("mnist"))) {
                return dir.resolve("data");
            }
            if (Files.isRegularFile(dir.resolve(".git")) || Files.isDirectory(dir.resolve(".git"))) {
                return null; // reached the repository root without finding the data
            }
            dir = dir.getParent();
        }
        return null;
    }

    @Test
    void realMnistSizesAndLabelHistogram() {
        Path dataDir = findMnistRoot();
        Assumptions.assumeTrue(dataDir != null, "data/mnist not present at the repository root");
        DataSplits splits = DataSplits.load(DatasetOptions.builder(DatasetKind.MNIST, dataDir)
                .validationSize(5000).seed(1).build());
        assertEquals(55_000, splits.trainSize());
        assertEquals(5_000, splits.validationSize());
        assertEquals(10_000, splits.testSize());
        long[] histogram = new long[10];
        DataSetIterator it = splits.test(1000);
        while (it.hasNext()) {
            DataSet ds = it.next();
            assertTrue(ds.getFeatures().minNumber().floatValue() >= 0f);
            assertTrue(ds.getFeatures().maxNumber().floatValue() <= 1f);
            int[] labels = ds.getLabels().argMax(1).toIntVector();
            for (int label : labels) {
                histogram[label]++;
            }
        }
        for (int c = 0; c < 10; c++) {
            // every digit makes up roughly a tenth of the MNIST test set (892..1135 in practice)
            assertTrue(histogram[c] > 800 && histogram[c] < 1200, "test images of digit " + c + ": " + histogram[c]);
        }
    }
}
