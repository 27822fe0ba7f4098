package io.qat4j.training.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/** Tests splitting, seeded shuffling, subsetting, normalization and iterator behavior. */
class DatasetSplitsTest {

    @TempDir
    Path tmp;

    @BeforeEach
    void writeData() throws IOException {
        SyntheticData.writeIdx(tmp.resolve("mnist"), 100, 30, false);
    }

    private DatasetOptions.Builder mnist() {
        return DatasetOptions.builder(DatasetKind.MNIST, tmp).seed(7);
    }

    private static List<Integer> indices(SyntheticData.Drained d) {
        List<Integer> out = new ArrayList<>();
        for (int k = 0; k < d.size(); k++) {
            float[] row = d.rows().get(k);
            int i = SyntheticData.indexOfUnitRow(row);
            // shuffling must keep features and labels together
            assertEquals(SyntheticData.label(i), d.labels().get(k), "label of image " + i);
            assertEquals(SyntheticData.pixel(i, 400) / 255f, row[400], 0f);
            out.add(i);
        }
        return out;
    }

    @Test
    void sameSeedAndEpochGiveSameOrder() {
        DataSplits a = DataSplits.load(mnist().build());
        DataSplits b = DataSplits.load(mnist().build());
        List<Integer> orderA = indices(SyntheticData.drain(a.train(16, 3)));
        assertEquals(orderA, indices(SyntheticData.drain(b.train(16, 3))));
        assertEquals(orderA, indices(SyntheticData.drain(a.train(7, 3))), "order must not depend on batch size");
        assertEquals(100, new HashSet<>(orderA).size());
    }

    @Test
    void differentEpochOrSeedGivesDifferentOrder() {
        DataSplits a = DataSplits.load(mnist().build());
        List<Integer> epoch0 = indices(SyntheticData.drain(a.train(16, 0)));
        List<Integer> epoch1 = indices(SyntheticData.drain(a.train(16, 1)));
        assertNotEquals(epoch0, epoch1);
        assertEquals(new HashSet<>(epoch0), new HashSet<>(epoch1));
        DataSplits other = DataSplits.load(mnist().seed(8).build());
        assertNotEquals(epoch0, indices(SyntheticData.drain(other.train(16, 0))));
    }

    @Test
    void resetReplaysTheSameEpoch() {
        DataSplits splits = DataSplits.load(mnist().build());
        DataSetIterator it = splits.train(32, 2);
        List<Integer> first = indices(SyntheticData.drain(it));
        assertFalse(it.hasNext());
        assertThrows(NoSuchElementException.class, it::next);
        it.reset();
        assertEquals(first, indices(SyntheticData.drain(it)));
    }

    @Test
    void iteratorMetadataAndLastBatch() {
        DataSplits splits = DataSplits.load(mnist().build());
        DataSetIterator it = splits.train(32, 0);
        assertEquals(784, it.inputColumns());
        assertEquals(10, it.totalOutcomes());
        assertEquals(32, it.batch());
        assertTrue(it.resetSupported());
        assertEquals(DatasetKind.MNIST.classNames(), it.getLabels());
        SyntheticData.Drained d = SyntheticData.drain(it);
        assertEquals(Arrays.asList(32, 32, 32, 4), d.batchSizes());
        it.reset();
        DataSet ds = it.next(5);
        assertArrayEquals(new long[] {5, 784}, ds.getFeatures().shape());
        assertArrayEquals(new long[] {5, 10}, ds.getLabels().shape());
        assertThrows(IllegalArgumentException.class, () -> splits.train(0, 0));
        assertThrows(IllegalArgumentException.class, () -> splits.train(8, -1));
    }

    @Test
    void preProcessorIsApplied() {
        DataSplits splits = DataSplits.load(mnist().build());
        DataSetIterator it = splits.test(10);
        it.setPreProcessor(ds -> ds.getFeatures().muli(2));
        assertEquals(2 * SyntheticData.pixel(3, 300) / 255f, it.next().getFeatures().getFloat(3, 300), 1e-6f);
    }

    @Test
    void validationIsDisjointFromTrain() {
        DataSplits splits = DataSplits.load(mnist().validationSize(25).build());
        assertEquals(75, splits.trainSize());
        assertEquals(25, splits.validationSize());
        assertEquals(30, splits.testSize());
        List<Integer> train = indices(SyntheticData.drain(splits.train(10, 0)));
        List<Integer> validation = indices(SyntheticData.drain(splits.validation(10)));
        Set<Integer> trainSet = new HashSet<>(train);
        Set<Integer> validationSet = new HashSet<>(validation);
        assertEquals(75, trainSet.size());
        assertEquals(25, validationSet.size());
        Set<Integer> union = new HashSet<>(trainSet);
        union.addAll(validationSet);
        assertEquals(100, union.size(), "train and validation must be disjoint and cover the training files");
        // validation is not shuffled between calls; train of every epoch keeps the same membership
        assertEquals(validation, indices(SyntheticData.drain(splits.validation(3))));
        assertEquals(trainSet, new HashSet<>(indices(SyntheticData.drain(splits.train(10, 5)))));
        // the hold-out depends on the seed
        DataSplits other = DataSplits.load(mnist().seed(99).validationSize(25).build());
        assertNotEquals(validationSet, new HashSet<>(indices(SyntheticData.drain(other.validation(10)))));
    }

    @Test
    void noValidationGivesNull() {
        assertNull(DataSplits.load(mnist().build()).validation(10));
    }

    @Test
    void subsetSizes() {
        DataSplits splits = DataSplits.load(mnist().validationSize(10).trainSubset(40).testSubset(12).build());
        assertEquals(40, splits.trainSize());
        assertEquals(10, splits.validationSize());
        assertEquals(12, splits.testSize());
        assertEquals(40, SyntheticData.drain(splits.train(16, 0)).size());
        List<Integer> test = indices(SyntheticData.drain(splits.test(5)));
        List<Integer> firstTwelve = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            firstTwelve.add(i);
        }
        assertEquals(firstTwelve, test, "the test subset is the first images, in file order");
        Set<Integer> trainSet = new HashSet<>(indices(SyntheticData.drain(splits.train(16, 0))));
        for (int v : indices(SyntheticData.drain(splits.validation(16)))) {
            assertFalse(trainSet.contains(v));
        }
        // the validation split does not change when a train subset is chosen
        DataSplits full = DataSplits.load(mnist().validationSize(10).build());
        assertEquals(indices(SyntheticData.drain(full.validation(16))),
                indices(SyntheticData.drain(splits.validation(16))));
    }

    @Test
    void tooLargeSizesAreDataErrors() {
        DataException v = assertThrows(DataException.class, () -> DataSplits.load(mnist().validationSize(100).build()));
        assertTrue(v.getMessage().contains("validationSize 100") && v.getMessage().contains("0 and 99"), v.getMessage());
        DataException t = assertThrows(DataException.class,
                () -> DataSplits.load(mnist().validationSize(50).trainSubset(51).build()));
        assertTrue(t.getMessage().contains("trainSubset 51") && t.getMessage().contains("50"), t.getMessage());
        DataException s = assertThrows(DataException.class, () -> DataSplits.load(mnist().testSubset(31).build()));
        assertTrue(s.getMessage().contains("testSubset 31") && s.getMessage().contains("30"), s.getMessage());
    }

    @Test
    void standardizationUsesTrainStatistics() throws IOException {
        SyntheticData.writeCifar(tmp.resolve("cifar-10-batches-bin"), 20, 10);
        DataSplits splits = DataSplits.load(DatasetOptions.builder(DatasetKind.CIFAR10, tmp)
                .normalization(Normalization.STANDARDIZE).validationSize(30).seed(3).build());
        assertEquals(70, splits.trainSize());
        SyntheticData.Drained d = SyntheticData.drain(splits.train(16, 0));
        int plane = 32 * 32;
        for (int c = 0; c < 3; c++) {
            double sum = 0;
            double sumSq = 0;
            long n = 0;
            for (float[] row : d.rows()) {
                for (int p = c * plane; p < (c + 1) * plane; p++) {
                    sum += row[p];
                    sumSq += row[p] * row[p];
                    n++;
                }
            }
            double mean = sum / n;
            double std = Math.sqrt(sumSq / n - mean * mean);
            assertEquals(0.0, mean, 1e-4, "channel " + c + " mean");
            assertEquals(1.0, std, 1e-4, "channel " + c + " std");
        }
        // the same per-channel transform is applied to the test split
        float[] mean = splits.channelMean();
        float[] std = splits.channelStd();
        assertNotEquals(mean[0], mean[1]);
        float[] testRow = SyntheticData.drain(splits.test(10)).rows().get(4);
        for (int c = 0; c < 3; c++) {
            int p = c * plane + 77;
            float expected = (SyntheticData.pixel(4, p) / 255f - mean[c]) / std[c];
            assertEquals(expected, testRow[p], 1e-5f);
        }
    }

    @Test
    void unitNormalizationReportsIdentityStatistics() {
        DataSplits splits = DataSplits.load(mnist().build());
        assertArrayEquals(new float[] {0f}, splits.channelMean());
        assertArrayEquals(new float[] {1f}, splits.channelStd());
        assertEquals(DatasetKind.MNIST, splits.kind());
    }

    @Test
    void derivedSeedsDiffer() {
        assertNotEquals(DataSplits.deriveSeed(1, 2, 0), DataSplits.deriveSeed(1, 2, 1));
        assertNotEquals(DataSplits.deriveSeed(1, 2, 0), DataSplits.deriveSeed(2, 2, 0));
        assertNotEquals(DataSplits.deriveSeed(1, 2, 0), DataSplits.deriveSeed(1, 3, 0));
        assertEquals(DataSplits.deriveSeed(5, 2, 4), DataSplits.deriveSeed(5, 2, 4));
    }
}
