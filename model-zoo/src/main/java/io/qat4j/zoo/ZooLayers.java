package io.qat4j.zoo;

import io.qat4j.layers.nn.QuantActivation;
import io.qat4j.layers.nn.QuantConv2D;
import io.qat4j.layers.nn.QuantConvBN2D;
import io.qat4j.layers.nn.QuantDense;
import io.qat4j.layers.nn.QuantDenseBN;
import io.qat4j.layers.nn.QuantOutput;
import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.quant.QuantSpec;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The layer factory zoo models share: each method builds the stock DL4J layer when the plan leaves it
 * float and the quantized twin otherwise, so float plans give exactly the float networks. Where a
 * method is given a normalization layer name, the model's {@link Normalization} goes there.
 */
final class ZooLayers {
    private final NeuralNetConfiguration.ListBuilder list;
    private final QuantPlan plan;
    private final Normalization norm;
    private final BnFolding folding;
    /** Whether conv / dense / output layers not followed by a normalization have biases. */
    private final boolean bias;

    ZooLayers(NeuralNetConfiguration.ListBuilder list, QuantPlan plan, Normalization norm) {
        this(list, plan, norm, BnFolding.none(), true);
    }

    ZooLayers(NeuralNetConfiguration.ListBuilder list, QuantPlan plan, Normalization norm, BnFolding folding,
              boolean bias) {
        this.list = list;
        this.plan = plan;
        this.norm = norm;
        this.folding = folding;
        this.bias = bias;
    }

    /**
     * Checks the folding option of a model's options record: given, and only with standard batch normalization
     * (the fused layers implement DL4J's batch normalization).
     */
    static void requireBatchNorm(BnFolding folding, Normalization norm) {
        if (folding == null) {
            throw new IllegalArgumentException("folding must not be null (use BnFolding.none())");
        }
        if (folding.enabled() && norm != Normalization.STANDARD) {
            throw new IllegalArgumentException("batch-norm folding needs standard batch normalization: batch_norm is "
                    + norm.name().toLowerCase(java.util.Locale.ROOT) + "; allowed: folding with batch_norm true "
                    + "(standard), or no folding");
        }
    }

    /** {@code name} when the model has normalization layers, else null (no layer). */
    String normName(String name) {
        return norm.isPresent() ? name : null;
    }

    /**
     * A stride-1 valid convolution (optionally followed by batch normalization carrying the
     * activation) whose activation quantization is left to the max-pooling layer that follows it:
     * returns that pending activation spec. Max pooling commutes with the monotone quantizers used
     * for activations, and quantizing after the pool is what pooled hardware does, on a quarter of
     * the values.
     */
    QuantSpec convBeforePool(String name, int kernel, int nOut, Activation act, String bnName) {
        if (bnName != null && folding.enabled()) {
            return fusedConvBeforePool(name, kernel, nOut, act);
        }
        QuantSites s = plan.sites(name, LayerKind.CONV);
        boolean bn = bnName != null;
        QuantSpec pending = bn ? plan.sites(bnName, LayerKind.BATCHNORM).output() : s.output();
        s = s.withOutput(QuantSpec.FLOAT);
        Activation convAct = bn ? Activation.IDENTITY : act;
        if (s.isFloat()) {
            list.layer(new ConvolutionLayer.Builder(kernel, kernel).name(name).nOut(nOut).stride(1, 1)
                    .convolutionMode(ConvolutionMode.Truncate).hasBias(bias && !bn).activation(convAct).build());
        } else {
            list.layer(new QuantConv2D.Builder(kernel, kernel).name(name).nOut(nOut).stride(1, 1)
                    .convolutionMode(ConvolutionMode.Truncate).hasBias(bias && !bn).activation(convAct).quant(s).build());
        }
        if (bn) {
            list.layer(norm.layer(bnName));
            list.layer(new ActivationLayer.Builder().name(bnName + "_" + actName(act)).activation(act).build());
        }
        return pending;
    }

    /**
     * A stride-1 valid convolution fused with its batch normalization ({@link QuantConvBN2D}, identity
     * activation), then the activation as {@code <name>_<act>}; returns the convolution's own activation
     * spec for the pooling layer that follows.
     */
    private QuantSpec fusedConvBeforePool(String name, int kernel, int nOut, Activation act) {
        QuantSites s = plan.sites(name, LayerKind.CONV);
        if (!s.accumulation().isFloat()) {
            throw new IllegalArgumentException("layer " + name + ": a convolution folded with its batch normalization "
                    + "(fold_bn) does not emulate the accumulator format " + s.accumulation() + "; allowed: "
                    + "accumulation with unfolded convolutions (fold_bn: false), or no accumulation with fold_bn");
        }
        list.layer(new QuantConvBN2D.Builder(kernel, kernel).name(name).nOut(nOut).stride(1, 1)
                .convolutionMode(ConvolutionMode.Truncate).quant(s.withOutput(QuantSpec.FLOAT))
                .freezeBnAfter(folding.freezeAfterIterations()).build());
        list.layer(new ActivationLayer.Builder().name(name + "_" + actName(act)).activation(act).build());
        return s.output();
    }

    /** 2x2 max pooling with stride 2, then the pending activation quantization (if any) as {@code <name>_act}. */
    void maxPool(String name, QuantSpec pending) {
        list.layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name(name)
                .kernelSize(2, 2).stride(2, 2).build());
        if (!pending.isFloat()) {
            list.layer(new QuantActivation.Builder().name(name + "_act").activation(Activation.IDENTITY).quant(pending).build());
        }
    }

    /** A dense layer, optionally followed by batch normalization carrying the activation. */
    void dense(String name, int nOut, Activation act, String bnName, double dropout) {
        if (bnName != null && folding.enabled()) {
            fusedDense(name, nOut, act, dropout);
            return;
        }
        QuantSites s = plan.sites(name, LayerKind.DENSE);
        boolean bn = bnName != null;
        if (bn) {
            s = s.withOutput(QuantSpec.FLOAT);
        }
        Activation denseAct = bn ? Activation.IDENTITY : act;
        if (s.isFloat()) {
            DenseLayer.Builder b = new DenseLayer.Builder().name(name).nOut(nOut).hasBias(bias && !bn).activation(denseAct);
            if (dropout > 0) {
                b.dropOut(1.0 - dropout);
            }
            list.layer(b.build());
        } else {
            QuantDense.Builder b = new QuantDense.Builder().name(name).nOut(nOut).hasBias(bias && !bn)
                    .activation(denseAct).quant(s);
            if (dropout > 0) {
                b.dropOut(1.0 - dropout);
            }
            list.layer(b.build());
        }
        if (bn) {
            batchNorm(bnName, act);
        }
    }

    /**
     * Batch normalization followed by its activation. DL4J's {@code BatchNormalization} layer does
     * not apply an activation function in its forward pass (1.0.0-M2.1), so the activation is a
     * layer of its own: {@code <bn>_<act>} ({@code ActivationLayer}), or a {@code QuantActivation}
     * named {@code <bn>_act} when the plan quantizes the activations. RangeBN and L1BN layers are
     * built the same way (with the identity activation).
     */
    private void batchNorm(String name, Activation act) {
        QuantSpec spec = plan.sites(name, LayerKind.BATCHNORM).output();
        list.layer(norm.layer(name));
        activation(name, act, spec);
    }

    /**
     * A dense layer fused with its batch normalization ({@link QuantDenseBN}, identity activation),
     * then its activation: {@code <name>_<act>} ({@code ActivationLayer}), or a {@code QuantActivation}
     * named {@code <name>_act} with the layer's activation spec.
     */
    private void fusedDense(String name, int nOut, Activation act, double dropout) {
        QuantSites s = plan.sites(name, LayerKind.DENSE);
        QuantDenseBN.Builder b = new QuantDenseBN.Builder().name(name).nOut(nOut).quant(s.withOutput(QuantSpec.FLOAT))
                .freezeBnAfter(folding.freezeAfterIterations());
        if (dropout > 0) {
            b.dropOut(1.0 - dropout);
        }
        list.layer(b.build());
        activation(name, act, s.output());
    }

    /** The activation after a normalization: a plain {@code ActivationLayer}, or a quantizing {@code QuantActivation}. */
    private void activation(String name, Activation act, QuantSpec spec) {
        if (spec.isFloat()) {
            list.layer(new ActivationLayer.Builder().name(name + "_" + actName(act)).activation(act).build());
        } else {
            list.layer(new QuantActivation.Builder().name(name + "_act").activation(act).quant(spec).build());
        }
    }

    private static String actName(Activation act) {
        return act.name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The softmax output layer (cross-entropy loss); its output site is never quantized. */
    void output(String name, int nOut, double dropout) {
        QuantSites s = plan.sites(name, LayerKind.OUTPUT).withOutput(QuantSpec.FLOAT);
        if (s.isFloat()) {
            OutputLayer.Builder b = new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name(name).nOut(nOut)
                    .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).hasBias(bias);
            if (dropout > 0) {
                b.dropOut(1.0 - dropout);
            }
            list.layer(b.build());
        } else {
            QuantOutput.Builder b = new QuantOutput.Builder(LossFunctions.LossFunction.MCXENT).name(name).nOut(nOut)
                    .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).hasBias(bias).quant(s);
            if (dropout > 0) {
                b.dropOut(1.0 - dropout);
            }
            list.layer(b.build());
        }
    }
}
