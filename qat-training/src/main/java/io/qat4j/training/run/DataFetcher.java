package io.qat4j.training.run;

import io.qat4j.training.UserException;
import io.qat4j.training.data.DatasetKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Fetches MNIST or Fashion-MNIST with {@code scripts/fetch-data} when a run needs them and they are
 * missing. The script is found through the {@code qat.home} system property, which
 * {@code scripts/qat} sets; without it the loader reports the missing files instead.
 */
public final class DataFetcher {
    private static final Logger LOG = LoggerFactory.getLogger(DataFetcher.class);
    private static final List<String> IDX_FILES = List.of("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");

    private DataFetcher() {
    }

    /** Runs the fetch script when a file of an embedded data set is missing under {@code dataDir}. */
    public static void ensurePresent(DatasetKind kind, Path dataDir) {
        if (kind == DatasetKind.CIFAR10 || allPresent(dataDir.resolve(kind.yamlName()))) {
            return;
        }
        String home = System.getProperty("qat.home");
        if (home == null) {
            return;
        }
        Path script = Path.of(home, "scripts", "fetch-data");
        if (!Files.isExecutable(script)) {
            return;
        }
        LOG.info("{} is missing in {}; fetching it with {}", kind.yamlName(), dataDir, script);
        ProcessBuilder pb = new ProcessBuilder(script.toString(), kind.yamlName()).inheritIO();
        pb.environment().put("QAT_DATA_DIR", dataDir.toAbsolutePath().toString());
        try {
            int rc = pb.start().waitFor();
            if (rc != 0) {
                throw new UserException("fetching " + kind.yamlName() + " into " + dataDir + " failed (" + script
                        + " exited with " + rc + "); see its message above");
            }
        } catch (IOException e) {
            throw new UserException("cannot run " + script + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserException("interrupted while fetching " + kind.yamlName());
        }
    }

    private static boolean allPresent(Path dir) {
        for (String f : IDX_FILES) {
            if (!Files.isRegularFile(dir.resolve(f)) && !Files.isRegularFile(dir.resolve(f + ".gz"))) {
                return false;
            }
        }
        return true;
    }
}
