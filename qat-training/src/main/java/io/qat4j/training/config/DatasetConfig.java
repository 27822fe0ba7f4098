package io.qat4j.training.config;

import java.util.Map;

/**
 * The {@code dataset:} section.
 *
 * @param name          one of {@link ConfigNames#DATASETS}
 * @param dataDir       directory holding (or receiving) the downloaded data
 * @param normalization {@code unit} (pixels scaled to [0, 1]) or {@code standardize} (per-channel mean/std)
 * @param validation    number of training images held out for validation
 * @param subset        number of training images to use, 0 = all
 * @param testSubset    number of test images to use, 0 = all
 * @param augment       random crop and horizontal flip (cifar10 only)
 */
public record DatasetConfig(String name, String dataDir, String normalization, int validation, int subset,
                            int testSubset, boolean augment) {

    static DatasetConfig from(Map<String, Object> m) {
        return new DatasetConfig((String) m.get("name"), (String) m.get("data_dir"), (String) m.get("normalization"),
                (Integer) m.get("validation"), (Integer) m.get("subset"), (Integer) m.get("test_subset"),
                (Boolean) m.get("augment"));
    }
}
