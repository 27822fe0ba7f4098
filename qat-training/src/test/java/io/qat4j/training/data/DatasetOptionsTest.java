package io.qat4j.training.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Tests {@link DatasetOptions}, {@link DatasetKind} and {@link Normalization}. */
class DatasetOptionsTest {

    @Test
    void kindNamesAndGeometry() {
        assertEquals(DatasetKind.MNIST, DatasetKind.fromName("mnist"));
        assertEquals(DatasetKind.FASHION_MNIST, DatasetKind.fromName(" Fashion-MNIST "));
        assertEquals(DatasetKind.CIFAR10, DatasetKind.fromName("cifar10"));
        assertEquals("fashion-mnist", DatasetKind.FASHION_MNIST.yamlName());
        assertEquals(3, DatasetKind.CIFAR10.channels());
        assertEquals(32, DatasetKind.CIFAR10.height());
        assertEquals(32, DatasetKind.CIFAR10.width());
        assertEquals(1, DatasetKind.MNIST.channels());
        assertEquals(28, DatasetKind.MNIST.height());
        assertEquals(784, DatasetKind.MNIST.featureSize());
        for (DatasetKind k : DatasetKind.values()) {
            assertEquals(10, k.numClasses());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DatasetKind.fromName("cifar100"));
        assertTrue(e.getMessage().contains("'cifar100'") && e.getMessage().contains("mnist, fashion-mnist, cifar10"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DatasetKind.fromName(null));
    }

    @Test
    void normalizationNames() {
        assertEquals(Normalization.STANDARDIZE, Normalization.fromName("Standardize"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Normalization.fromName("minmax"));
        assertTrue(e.getMessage().contains("unit, standardize"), e.getMessage());
    }

    @Test
    void builderDefaultsAndValues() {
        DatasetOptions d = DatasetOptions.builder(DatasetKind.MNIST, Path.of("data")).build();
        assertEquals(Normalization.UNIT, d.normalization());
        assertEquals(0, d.validationSize());
        assertEquals(0, d.trainSubset());
        assertEquals(0, d.testSubset());
        assertEquals(0L, d.seed());
        assertEquals(false, d.augment());
        DatasetOptions o = DatasetOptions.builder(DatasetKind.CIFAR10, Path.of("x"))
                .normalization(Normalization.STANDARDIZE).validationSize(5000).trainSubset(100).testSubset(50)
                .seed(42).augment(true).build();
        assertEquals(DatasetKind.CIFAR10, o.kind());
        assertEquals(Path.of("x"), o.dataDir());
        assertEquals(5000, o.validationSize());
        assertEquals(100, o.trainSubset());
        assertEquals(50, o.testSubset());
        assertEquals(42L, o.seed());
        assertTrue(o.augment());
        assertEquals(o, o.toBuilder().build());
        assertEquals(o.hashCode(), o.toBuilder().build().hashCode());
    }

    @Test
    void negativeSizesAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DatasetOptions.builder(DatasetKind.MNIST, Path.of("data")).validationSize(-1).build());
        assertTrue(e.getMessage().contains("validationSize") && e.getMessage().contains("-1"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> DatasetOptions.builder(DatasetKind.MNIST, Path.of("data")).trainSubset(-5).build());
        assertThrows(IllegalArgumentException.class,
                () -> DatasetOptions.builder(DatasetKind.MNIST, Path.of("data")).testSubset(-5).build());
    }
}
