package io.qat4j.zoo;

import io.qat4j.layers.nn.ChannelPadVertex;
import io.qat4j.layers.nn.QuantActivation;
import io.qat4j.layers.nn.QuantConv2D;
import io.qat4j.layers.nn.QuantConvBN2D;
import io.qat4j.layers.nn.QuantDense;
import io.qat4j.layers.nn.QuantDepthwiseConv2D;
import io.qat4j.layers.nn.QuantOutput;
import io.qat4j.layers.nn.QuantSites;
import io.qat4j.layers.quant.QuantSpec;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.Locale;

/**
 * The building blocks of the graph models (ResNet, VGG-small, MobileNetV1), each built as the stock DL4J
 * layers when the plan leaves it float and as the quantized twins otherwise, so a float plan gives exactly
 * the float network. Convolutions are the exception: they are always {@code QuantConv2D} /
 * {@code QuantDepthwiseConv2D}, with float sites when the plan leaves them float, which compute DL4J's
 * convolution bit for bit (tested) with faster kernels. Every method adds vertices after {@code input} and returns the name of the vertex
 * that holds its result.
 *
 * <p>A convolution unit {@code U} (convolution, batch normalization, activation) has one activation
 * precision, the plan's for the convolution {@code U}; it quantizes the unit's output after its activation:
 * <ul>
 *   <li>no normalization: {@code U} (activation inside, output site quantized);</li>
 *   <li>normalization: {@code U} (identity) → {@code U_bn} → {@code U_relu} ({@code ActivationLayer}) when
 *       float, or {@code U_act} ({@code QuantActivation}, the activation and the quantizer) when quantized;
 *       with {@code identity} activation (before a residual addition) nothing, or {@code U_act};</li>
 *   <li>folded normalization ({@link BnFolding}): {@code U} is a {@code QuantConvBN2D} whose activation and
 *       output site do both (depth-wise convolutions have no fused twin and keep {@code U_bn}).</li>
 * </ul>
 * Values after ReLU are quantized unsigned, others (before residual additions) signed.
 */
final class GraphLayers {
    private final ComputationGraphConfiguration.GraphBuilder g;
    private final QuantPlan plan;
    private final Normalization norm;
    private final BnFolding folding;

    GraphLayers(ComputationGraphConfiguration.GraphBuilder g, QuantPlan plan, Normalization norm, BnFolding folding) {
        this.g = g;
        this.plan = plan;
        this.norm = norm;
        this.folding = folding;
        ZooLayers.requireBatchNorm(folding, norm);
    }

    /** A k x k convolution unit with {@code nOut} outputs and stride, "same" padding. */
    String conv(String name, String input, int k, int nOut, int stride, Activation act) {
        return unit(name, input, k, nOut, stride, act, false);
    }

    /** A k x k depth-wise convolution unit (multiplier 1), "same" padding. */
    String depthwise(String name, String input, int k, int stride, Activation act) {
        return unit(name, input, k, 0, stride, act, true);
    }

    private String unit(String name, String input, int k, int nOut, int stride, Activation act, boolean depthwise) {
        boolean nonNegative = act == Activation.RELU || act == Activation.RELU6;
        QuantSites s = plan.sites(name, LayerKind.CONV, nonNegative);
        QuantSpec actSpec = s.output();
        boolean bn = norm.isPresent();
        if (bn && folding.enabled() && !depthwise) {
            g.addLayer(name, new QuantConvBN2D.Builder(k, k).nOut(nOut).stride(stride, stride)
                    .convolutionMode(ConvolutionMode.Same).activation(act).quant(s)
                    .freezeBnAfter(folding.freezeAfterIterations()).build(), input);
            return name;
        }
        QuantSites convSites = bn ? s.withOutput(QuantSpec.FLOAT) : s;
        Activation convAct = bn ? Activation.IDENTITY : act;
        g.addLayer(name, convLayer(k, nOut, stride, convAct, !bn, depthwise, convSites), input);
        if (!bn) {
            return name;
        }
        g.addLayer(name + "_bn", norm.layer(name + "_bn"), name);
        return activation(name, name + "_bn", act, actSpec);
    }

    /**
     * The convolution of a unit: always the quantized twin, with float sites where the plan leaves it float —
     * it computes DL4J's convolution bit for bit then, with the project's faster kernels.
     */
    private static Layer convLayer(int k, int nOut, int stride, Activation act, boolean bias, boolean depthwise,
                                   QuantSites s) {
        if (depthwise) {
            return new QuantDepthwiseConv2D.Builder(k, k).quant(s).depthMultiplier(1).stride(stride, stride)
                    .convolutionMode(ConvolutionMode.Same).hasBias(bias).activation(act).build();
        }
        return new QuantConv2D.Builder(k, k).nOut(nOut).stride(stride, stride).convolutionMode(ConvolutionMode.Same)
                .hasBias(bias).activation(act).quant(s).build();
    }

    /**
     * The activation of unit {@code name} after {@code input}: {@code name_<act>} when float (nothing for the
     * identity), or {@code name_act} quantizing with {@code spec}.
     */
    private String activation(String name, String input, Activation act, QuantSpec spec) {
        if (!spec.isFloat()) {
            g.addLayer(name + "_act", new QuantActivation.Builder().activation(act).quant(spec).build(), input);
            return name + "_act";
        }
        if (act == Activation.IDENTITY) {
            return input;
        }
        String n = name + "_" + act.name().toLowerCase(Locale.ROOT);
        g.addLayer(n, new ActivationLayer.Builder().activation(act).build(), input);
        return n;
    }

    /**
     * A residual addition followed by ReLU, named {@code name} ({@code ElementWiseVertex} add) and
     * {@code name_relu} (the activation, quantized with the plan's precision for {@code name_relu}).
     */
    String addRelu(String name, String a, String b) {
        g.addVertex(name, new ElementWiseVertex(ElementWiseVertex.Op.Add), a, b);
        QuantSpec spec = plan.sites(name + "_relu", LayerKind.ACTIVATION, true).output();
        Layer relu = spec.isFloat() ? new ActivationLayer.Builder().activation(Activation.RELU).build()
                : new QuantActivation.Builder().activation(Activation.RELU).quant(spec).build();
        g.addLayer(name + "_relu", relu, name);
        return name + "_relu";
    }

    /** ResNet's option-A shortcut: 1x1 max pooling with stride 2 ({@code name_down}), zero channels ({@code name_pad}). */
    String padShortcut(String name, String input, int stride, int padBefore, int padAfter) {
        String in = input;
        if (stride > 1) {
            g.addLayer(name + "_down", new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(1, 1)
                    .stride(stride, stride).build(), input);
            in = name + "_down";
        }
        g.addVertex(name + "_pad", new ChannelPadVertex(padBefore, padAfter), in);
        return name + "_pad";
    }

    /** 2x2 max pooling with stride 2 (codes pass unchanged). */
    String maxPool(String name, String input) {
        g.addLayer(name, new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2)
                .build(), input);
        return name;
    }

    /**
     * Global average pooling, then its quantization with the plan's activation precision for {@code name}
     * ({@code name_act}, identity): the input of the layer after it.
     */
    String globalAvgPool(String name, String input, boolean nonNegative) {
        g.addLayer(name, new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), input);
        QuantSpec spec = plan.sites(name, LayerKind.POOL, nonNegative).output();
        return activation(name, name, Activation.IDENTITY, spec);
    }

    /** A fully connected unit: dense ({@code name}) [→ {@code name_bn}] → activation, as a convolution unit. */
    String dense(String name, String input, int nOut, Activation act, double dropout) {
        boolean nonNegative = act == Activation.RELU || act == Activation.RELU6;
        QuantSites s = plan.sites(name, LayerKind.DENSE, nonNegative);
        boolean bn = norm.isPresent();
        QuantSites denseSites = bn ? s.withOutput(QuantSpec.FLOAT) : s;
        Activation denseAct = bn ? Activation.IDENTITY : act;
        Layer l;
        if (denseSites.isFloat()) {
            DenseLayer.Builder b = new DenseLayer.Builder().nOut(nOut).hasBias(!bn).activation(denseAct);
            l = dropout > 0 ? b.dropOut(1.0 - dropout).build() : b.build();
        } else {
            QuantDense.Builder b = new QuantDense.Builder().nOut(nOut).hasBias(!bn).activation(denseAct).quant(denseSites);
            l = dropout > 0 ? b.dropOut(1.0 - dropout).build() : b.build();
        }
        g.addLayer(name, l, input);
        if (!bn) {
            return name;
        }
        g.addLayer(name + "_bn", norm.layer(name + "_bn"), name);
        return activation(name, name + "_bn", act, s.output());
    }

    /** The softmax output layer (cross-entropy); its output site is never quantized. */
    String output(String name, String input, int classes, double dropout) {
        QuantSites s = plan.sites(name, LayerKind.OUTPUT, false).withOutput(QuantSpec.FLOAT);
        Layer l;
        if (s.isFloat()) {
            OutputLayer.Builder b = new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(classes)
                    .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER);
            l = dropout > 0 ? b.dropOut(1.0 - dropout).build() : b.build();
        } else {
            QuantOutput.Builder b = new QuantOutput.Builder(LossFunctions.LossFunction.MCXENT).nOut(classes)
                    .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).quant(s);
            l = dropout > 0 ? b.dropOut(1.0 - dropout).build() : b.build();
        }
        g.addLayer(name, l, input);
        return name;
    }
}
