package io.qat4j.training.config;

import java.util.Map;

/**
 * The {@code training.optimizer:} section.
 *
 * @param name     one of {@link ConfigNames#OPTIMIZERS}
 * @param lr       base learning rate
 * @param momentum momentum (nesterov only)
 * @param beta1    Adam beta1
 * @param beta2    Adam beta2
 * @param epsilon  Adam epsilon
 */
public record OptimizerConfig(String name, double lr, double momentum, double beta1, double beta2, double epsilon) {

    static OptimizerConfig from(Map<String, Object> m) {
        return new OptimizerConfig((String) m.get("name"), (Double) m.get("lr"), (Double) m.get("momentum"),
                (Double) m.get("beta1"), (Double) m.get("beta2"), (Double) m.get("epsilon"));
    }
}
