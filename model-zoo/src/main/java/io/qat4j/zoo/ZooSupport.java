package io.qat4j.zoo;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.api.buffer.DataType;

/** Network-wide configuration shared by all zoo models. */
final class ZooSupport {
    private ZooSupport() {
    }

    static NeuralNetConfiguration.Builder base(NetSettings s, WeightInit init) {
        NeuralNetConfiguration.Builder b = new NeuralNetConfiguration.Builder()
                .seed(s.seed())
                .dataType(DataType.FLOAT)
                .updater(s.updater())
                .weightInit(init);
        if (s.weightDecay() > 0) {
            // L2 on weights only (applyLR=true: decoupled from the loss, scaled by the learning rate).
            b.weightDecay(s.weightDecay(), true);
        }
        return b;
    }
}
