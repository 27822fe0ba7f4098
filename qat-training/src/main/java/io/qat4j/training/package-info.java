/**
 * Experiments from YAML files: data sets, the training runner, run directories and the {@code qat}
 * command line. Sub-packages: {@code config} (experiment files), {@code data} (loaders),
 * {@code model} (config to network), {@code run} (training loop and run files), {@code cli}.
 */
package io.qat4j.training;
