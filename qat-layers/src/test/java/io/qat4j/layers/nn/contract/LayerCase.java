package io.qat4j.layers.nn.contract;

import io.qat4j.layers.nn.QuantActivation;
import io.qat4j.layers.nn.QuantConv2D;
import io.qat4j.layers.nn.QuantConvBN2D;
import io.qat4j.layers.nn.QuantDense;
import io.qat4j.layers.nn.QuantDenseBN;
import io.qat4j.layers.nn.QuantDepthwiseConv2D;
import io.qat4j.layers.nn.QuantOutput;
import io.qat4j.layers.nn.QuantSeparableConv2D;
import io.qat4j.layers.nn.QuantSites;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * One quantized layer kind as the contract test runs it: the layer built with given sites, the stock
 * DL4J layers it replaces (its float twin), the input it takes, the layers around it, and the sites a
 * learned-quantizer check can give it.
 *
 * @param name         display name
 * @param quant        the quantized layer with these sites
 * @param floatTwin    the stock layers computing the same with every site float
 * @param input        the network's input type
 * @param before       a stock layer feeding it (null: the network input)
 * @param convolutional whether its output is NCHW (a global pooling layer then leads to the output layer)
 * @param isOutput     whether it is the network's output layer itself
 * @param learned      sites with learned quantizers whose parameters this layer trains
 * @param parityEps    how close the float twin must be in double precision (0: identical)
 */
record LayerCase(String name, Function<QuantSites, Layer> quant, Supplier<List<Layer>> floatTwin, InputType input,
                 Supplier<Layer> before, boolean convolutional, boolean isOutput, QuantSites learned,
                 double parityEps) {

    /** PACT on the output (alpha: lr x10, L2 0.01) and LSQ on the weights (wstep: lr x0.5). */
    static final QuantSites PACT_AND_LSQ = QuantSites.of("float", "lsq(bits=4, lr_scale=0.5)", "float",
            "pact(bits=4, init=2, l2=0.01, lr_scale=10)");
    /** PACT on the output only (layers that do not take learned weight quantizers, or have no weights). */
    static final QuantSites PACT_ONLY = QuantSites.of("float", "float", "float",
            "pact(bits=4, init=2, l2=0.01, lr_scale=10)");
    /** PACT on the input and LSQ on the weights (the output layer, whose output stays float). */
    static final QuantSites INPUT_PACT_AND_LSQ = QuantSites.of("pact(bits=8, init=2, l2=0.01, lr_scale=10)",
            "lsq(bits=4, lr_scale=0.5)", "float", "float");

    /** Every quantized layer configuration of qat-layers. */
    static List<LayerCase> all() {
        InputType img = InputType.convolutional(5, 5, 3);
        InputType vec = InputType.feedForward(6);
        return List.of(
                new LayerCase("QuantDense", s -> new QuantDense.Builder().nOut(4).activation(Activation.TANH).quant(s)
                        .build(), () -> List.of(new DenseLayer.Builder().nOut(4).activation(Activation.TANH).build()),
                        vec, null, false, false, PACT_AND_LSQ, 0),
                new LayerCase("QuantConv2D", s -> new QuantConv2D.Builder(3, 3).nOut(4).convolutionMode(ConvolutionMode.Same)
                        .activation(Activation.TANH).quant(s).build(),
                        () -> List.of(new ConvolutionLayer.Builder(3, 3).nOut(4).convolutionMode(ConvolutionMode.Same)
                                .activation(Activation.TANH).build()), img, null, true, false, PACT_AND_LSQ, 0),
                new LayerCase("QuantDepthwiseConv2D", s -> new QuantDepthwiseConv2D.Builder(2, 2).quant(s)
                        .depthMultiplier(2).activation(Activation.TANH).build(),
                        () -> List.of(new DepthwiseConvolution2D.Builder(2, 2).depthMultiplier(2)
                                .activation(Activation.TANH).build()), img, null, true, false, PACT_AND_LSQ, 0),
                new LayerCase("QuantSeparableConv2D", s -> new QuantSeparableConv2D.Builder(3, 3).quant(s).nOut(4)
                        .depthMultiplier(2).convolutionMode(ConvolutionMode.Same).activation(Activation.TANH).build(),
                        () -> List.of(new SeparableConvolution2D.Builder(3, 3).nOut(4).depthMultiplier(2)
                                .convolutionMode(ConvolutionMode.Same).activation(Activation.TANH).build()),
                        img, null, true, false, PACT_ONLY, 0),
                new LayerCase("QuantOutput", s -> new QuantOutput.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).quant(s).build(),
                        () -> List.of(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                                .activation(Activation.SOFTMAX).build()),
                        vec, () -> new DenseLayer.Builder().nOut(5).activation(Activation.TANH).build(), false, true,
                        INPUT_PACT_AND_LSQ, 0),
                new LayerCase("QuantActivation", s -> new QuantActivation.Builder().activation(Activation.TANH)
                        .quant(s.output()).build(),
                        () -> List.of(new ActivationLayer.Builder().activation(Activation.TANH).build()),
                        vec, () -> new DenseLayer.Builder().nOut(5).activation(Activation.IDENTITY).build(), false,
                        false, PACT_ONLY, 0),
                new LayerCase("QuantConvBN2D", s -> new QuantConvBN2D.Builder(3, 3).nOut(4)
                        .convolutionMode(ConvolutionMode.Same).activation(Activation.TANH).quant(s).build(),
                        () -> List.of(new ConvolutionLayer.Builder(3, 3).nOut(4).convolutionMode(ConvolutionMode.Same)
                                .hasBias(false).activation(Activation.IDENTITY).build(),
                                new BatchNormalization.Builder().useLogStd(false).build(),
                                new ActivationLayer.Builder().activation(Activation.TANH).build()),
                        img, null, true, false, PACT_AND_LSQ, 1e-9),
                new LayerCase("QuantDenseBN", s -> new QuantDenseBN.Builder().nOut(4).activation(Activation.TANH)
                        .quant(s).build(),
                        () -> List.of(new DenseLayer.Builder().nOut(4).hasBias(false).activation(Activation.IDENTITY)
                                .build(), new BatchNormalization.Builder().useLogStd(false).build(),
                                new ActivationLayer.Builder().activation(Activation.TANH).build()),
                        vec, null, false, false, PACT_AND_LSQ, 1e-9));
    }

    @Override
    public String toString() {
        return name;
    }
}
