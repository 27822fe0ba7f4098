package io.qat4j.training.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Locates the files of a data set under the data directory and reads them into {@link RawData}.
 *
 * <p>Layout: {@code <dataDir>/mnist/} and {@code <dataDir>/fashion-mnist/} hold the four IDX files
 * (each plain or with a {@code .gz} suffix; the plain one is preferred when both exist);
 * {@code <dataDir>/cifar-10-batches-bin/} holds the CIFAR-10 binary files. The data directory may
 * also point directly at the folder holding the files.
 */
final class DatasetFiles {

    static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    static final String TEST_LABELS = "t10k-labels-idx1-ubyte";
    static final List<String> IDX_FILES = List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS);

    static final String CIFAR_DIR = "cifar-10-batches-bin";
    static final List<String> CIFAR_TRAIN_FILES = List.of(
            "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin");
    static final String CIFAR_TEST_FILE = "test_batch.bin";
    static final String CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar.html";

    /** Training and test examples of one data set, in file order. */
    record Loaded(RawData train, RawData test) {
    }

    private DatasetFiles() {
    }

    /**
     * Reads the training and test files of {@code kind} under {@code dataDir}.
     *
     * @throws DataException if files are missing or malformed
     */
    static Loaded load(DatasetKind kind, Path dataDir) {
        return switch (kind) {
            case MNIST, FASHION_MNIST -> loadIdx(kind, dataDir);
            case CIFAR10 -> loadCifar(kind, dataDir);
        };
    }

    private static Loaded loadIdx(DatasetKind kind, Path dataDir) {
        Path root = dataDir.toAbsolutePath().normalize();
        Path dir = root.resolve(kind.yamlName());
        if (!Files.isDirectory(dir) && findIdx(root, TRAIN_IMAGES) != null) {
            dir = root; // the data directory is the folder holding the files
        }
        List<String> missing = new ArrayList<>();
        for (String name : IDX_FILES) {
            if (findIdx(dir, name) == null) {
                missing.add(name);
            }
        }
        if (!missing.isEmpty()) {
            String title = kind == DatasetKind.MNIST ? "MNIST" : "Fashion-MNIST";
            throw new DataException(title + " data not found: missing " + String.join(", ", missing)
                    + " in " + dir + (Files.isDirectory(dir) ? "" : " (the directory does not exist)")
                    + ". Expected the four IDX files " + String.join(", ", IDX_FILES)
                    + " in that directory, each uncompressed or gzip-compressed with a .gz suffix. Run `scripts/fetch-data "
                    + kind.yamlName() + "` from the repository root to download them, or pass --data-dir pointing at "
                    + "the directory that contains " + kind.yamlName() + "/.");
        }
        RawData train = readIdxPair(kind, findIdx(dir, TRAIN_IMAGES), findIdx(dir, TRAIN_LABELS));
        RawData test = readIdxPair(kind, findIdx(dir, TEST_IMAGES), findIdx(dir, TEST_LABELS));
        return new Loaded(train, test);
    }

    /** Returns {@code dir/name} if it exists, else {@code dir/name.gz} if that exists, else null. */
    static Path findIdx(Path dir, String name) {
        Path plain = dir.resolve(name);
        if (Files.isRegularFile(plain)) {
            return plain;
        }
        Path gz = dir.resolve(name + ".gz");
        if (Files.isRegularFile(gz)) {
            return gz;
        }
        return null;
    }

    private static RawData readIdxPair(DatasetKind kind, Path imagesFile, Path labelsFile) {
        IdxReader.Images images = IdxReader.readImages(imagesFile, kind.height(), kind.width());
        byte[] labels = IdxReader.readLabels(labelsFile, kind.numClasses());
        if (images.count() != labels.length) {
            throw new DataException("files " + imagesFile + " and " + labelsFile + " do not match: expected the same "
                    + "number of images and labels but found " + images.count() + " images and " + labels.length
                    + " labels. One of them is probably from a different data set or an incomplete download.");
        }
        return new RawData(images.count(), images.imageBytes(), images.pixels(), labels);
    }

    private static Loaded loadCifar(DatasetKind kind, Path dataDir) {
        Path root = dataDir.toAbsolutePath().normalize();
        Path dir = root.resolve(CIFAR_DIR);
        boolean rootHoldsFiles = Files.isRegularFile(root.resolve(CIFAR_TRAIN_FILES.get(0)))
                || Files.isRegularFile(root.resolve(CIFAR_TEST_FILE));
        if (!Files.isDirectory(dir) && (rootHoldsFiles || root.getFileName() != null
                && root.getFileName().toString().equals(CIFAR_DIR))) {
            dir = root; // the data directory is cifar-10-batches-bin itself
        }
        List<String> expected = new ArrayList<>(CIFAR_TRAIN_FILES);
        expected.add(CIFAR_TEST_FILE);
        List<String> missing = new ArrayList<>();
        for (String name : expected) {
            if (!Files.isRegularFile(dir.resolve(name))) {
                missing.add(name);
            }
        }
        if (!missing.isEmpty()) {
            Path parent = dir.equals(root) ? root.getParent() : root;
            String pythonHint = "";
            if (parent != null && Files.isDirectory(parent.resolve("cifar-10-batches-py"))) {
                pythonHint = " Note: " + parent.resolve("cifar-10-batches-py")
                        + " holds the Python version of CIFAR-10, which is not supported.";
            }
            throw new DataException("CIFAR-10 data not found: missing " + String.join(", ", missing) + " in " + dir
                    + (Files.isDirectory(dir) ? "" : " (the directory does not exist)")
                    + ". Expected the six files " + String.join(", ", expected) + " of the CIFAR-10 \"binary version\" "
                    + "(each 10,000 records of " + CifarReader.RECORD_BYTES + " bytes) in that directory. Download the "
                    + "CIFAR-10 binary version distributed by the University of Toronto (" + CIFAR_URL + ") and unpack "
                    + "it so that " + CIFAR_DIR + "/ lies under the data directory " + (parent != null ? parent : root)
                    + ", or pass the " + CIFAR_DIR + " folder itself with --data-dir." + pythonHint);
        }
        RawData[] trainParts = new RawData[CIFAR_TRAIN_FILES.size()];
        for (int i = 0; i < trainParts.length; i++) {
            trainParts[i] = CifarReader.read(dir.resolve(CIFAR_TRAIN_FILES.get(i)), kind.numClasses());
        }
        RawData train = RawData.concat(trainParts);
        RawData test = CifarReader.read(dir.resolve(CIFAR_TEST_FILE), kind.numClasses());
        return new Loaded(train, test);
    }
}
