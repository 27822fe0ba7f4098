package io.qat4j.training.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tests the CIFAR-10 random crop / horizontal flip augmentation. */
class DatasetAugmentationTest {

    private static final int C = 3;
    private static final int H = 32;
    private static final int W = 32;
    private static final int D = C * H * W;

    @TempDir
    Path tmp;

    @BeforeEach
    void writeData() throws IOException {
        SyntheticData.writeCifar(tmp.resolve("cifar-10-batches-bin"), 8, 4);
    }

    private static float[] example() {
        float[] x = new float[D];
        for (int i = 0; i < D; i++) {
            x[i] = i + 1;
        }
        return x;
    }

    private static float at(float[] x, int c, int y, int xx) {
        return x[c * H * W + y * W + xx];
    }

    @Test
    void flipMirrorsEachRow() {
        float[] src = example();
        float[] dst = new float[D];
        CifarAugmenter.transform(src, 0, dst, 0, C, H, W, true, 0, 0, new float[] {-1, -2, -3});
        for (int c = 0; c < C; c++) {
            for (int y = 0; y < H; y++) {
                for (int x = 0; x < W; x++) {
                    assertEquals(at(src, c, y, W - 1 - x), at(dst, c, y, x));
                }
            }
        }
    }

    @Test
    void noFlipNoShiftIsIdentity() {
        float[] src = example();
        float[] dst = new float[D];
        CifarAugmenter.transform(src, 0, dst, 0, C, H, W, false, 0, 0, new float[] {-1, -2, -3});
        assertArrayEquals(src, dst);
    }

    @Test
    void cropShiftsAndPadsPerChannel() {
        float[] src = example();
        float[] dst = new float[D];
        float[] pad = {-1, -2, -3};
        CifarAugmenter.transform(src, 0, dst, 0, C, H, W, false, 4, -3, pad);
        for (int c = 0; c < C; c++) {
            for (int y = 0; y < H; y++) {
                for (int x = 0; x < W; x++) {
                    int sy = y - 3;
                    int sx = x + 4;
                    float expected = sy >= 0 && sx < W ? at(src, c, sy, sx) : pad[c];
                    assertEquals(expected, at(dst, c, y, x), "c " + c + " y " + y + " x " + x);
                }
            }
        }
    }

    @Test
    void augmentedBatchesKeepLabelsAndShape() {
        DatasetOptions opts = DatasetOptions.builder(DatasetKind.CIFAR10, tmp).augment(true).seed(11).build();
        DataSplits splits = DataSplits.load(opts);
        DataSplits plainSplits = DataSplits.load(opts.toBuilder().augment(false).build());
        SyntheticData.Drained augmented = SyntheticData.drain(splits.train(16, 0));
        SyntheticData.Drained plain = SyntheticData.drain(plainSplits.train(16, 0));
        assertEquals(40, augmented.size());
        // same shuffling with and without augmentation; labels are untouched
        assertEquals(plain.labels(), augmented.labels());
        int changed = 0;
        for (int k = 0; k < augmented.size(); k++) {
            float[] a = augmented.rows().get(k);
            float[] p = plain.rows().get(k);
            assertEquals(D, a.length);
            if (!java.util.Arrays.equals(a, p)) {
                changed++;
                assertTrue(isShiftedFlippedCopy(p, a), "row " + k + " is not a crop/flip of its source");
            }
        }
        assertTrue(changed > 30, "most rows should be augmented, but only " + changed + " of 40 were");
    }

    /** True if {@code a} equals some crop/flip of {@code p} with zero (UNIT normalization) padding. */
    private static boolean isShiftedFlippedCopy(float[] p, float[] a) {
        float[] out = new float[D];
        float[] zero = new float[C];
        for (int flip = 0; flip < 2; flip++) {
            for (int dx = -4; dx <= 4; dx++) {
                for (int dy = -4; dy <= 4; dy++) {
                    CifarAugmenter.transform(p, 0, out, 0, C, H, W, flip == 1, dx, dy, zero);
                    if (java.util.Arrays.equals(out, a)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    @Test
    void augmentationIsReproduciblePerEpoch() {
        DataSplits splits = DataSplits.load(DatasetOptions.builder(DatasetKind.CIFAR10, tmp).augment(true).build());
        var it = splits.train(16, 4);
        List<float[]> first = SyntheticData.drain(it).rows();
        it.reset();
        List<float[]> again = SyntheticData.drain(it).rows();
        List<float[]> fresh = SyntheticData.drain(splits.train(5, 4)).rows();
        List<float[]> otherEpoch = SyntheticData.drain(splits.train(16, 5)).rows();
        for (int k = 0; k < first.size(); k++) {
            assertArrayEquals(first.get(k), again.get(k));
            assertArrayEquals(first.get(k), fresh.get(k));
        }
        assertNotEquals(flatten(first), flatten(otherEpoch));
    }

    @Test
    void withoutAugmentationRowsAreExactCopies() {
        DataSplits splits = DataSplits.load(DatasetOptions.builder(DatasetKind.CIFAR10, tmp).build());
        for (float[] row : SyntheticData.drain(splits.train(16, 0)).rows()) {
            int i = SyntheticData.indexOfUnitRow(row);
            for (int p = 0; p < D; p++) {
                assertEquals(SyntheticData.pixel(i, p) / 255f, row[p], 0f);
            }
        }
    }

    @Test
    void augmentationOnlyTouchesTrain() {
        DataSplits splits = DataSplits.load(DatasetOptions.builder(DatasetKind.CIFAR10, tmp)
                .augment(true).validationSize(5).build());
        for (float[] row : SyntheticData.drain(splits.test(4)).rows()) {
            int i = SyntheticData.indexOfUnitRow(row);
            assertEquals(SyntheticData.pixel(i, 1234) / 255f, row[1234], 0f);
        }
        for (float[] row : SyntheticData.drain(splits.validation(4)).rows()) {
            int i = SyntheticData.indexOfUnitRow(row);
            assertEquals(SyntheticData.pixel(i, 1234) / 255f, row[1234], 0f);
        }
    }

    @Test
    void augmentOnMnistIsRejected() {
        for (DatasetKind kind : new DatasetKind[] {DatasetKind.MNIST, DatasetKind.FASHION_MNIST}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DatasetOptions.builder(kind, tmp).augment(true).build());
            assertTrue(e.getMessage().contains(kind.yamlName()) && e.getMessage().contains("cifar10"), e.getMessage());
        }
    }

    private static List<Float> flatten(List<float[]> rows) {
        List<Float> out = new ArrayList<>();
        for (float[] r : rows) {
            for (float v : r) {
                out.add(v);
            }
        }
        return out;
    }
}
