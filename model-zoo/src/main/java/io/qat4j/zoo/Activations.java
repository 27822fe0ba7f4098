package io.qat4j.zoo;

import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;

/** The hidden-layer activations zoo models accept, with the weight initialization that suits each. */
public enum Activations {
    RELU(Activation.RELU, WeightInit.RELU),
    TANH(Activation.TANH, WeightInit.XAVIER),
    /** clip(x, -1, 1): the activation binarized networks put before sign(). */
    HARDTANH(Activation.HARDTANH, WeightInit.XAVIER);

    private final Activation activation;
    private final WeightInit weightInit;

    Activations(Activation activation, WeightInit weightInit) {
        this.activation = activation;
        this.weightInit = weightInit;
    }

    public Activation activation() {
        return activation;
    }

    public WeightInit weightInit() {
        return weightInit;
    }

    /** Parses {@code relu} or {@code tanh}; the error names the allowed values. */
    public static Activations fromName(String name) {
        return switch (name) {
            case "relu" -> RELU;
            case "tanh" -> TANH;
            case "hardtanh" -> HARDTANH;
            default -> throw new IllegalArgumentException("unknown activation '" + name + "'; allowed: relu, tanh, hardtanh");
        };
    }
}
