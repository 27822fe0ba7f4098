package io.qat4j.layers.nn.impl;

import io.qat4j.layers.nn.QuantConv2D;
import io.qat4j.layers.nn.QuantSites;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.convolution.Convolution;

/** Implementation of {@link QuantConv2D}: DL4J's convolution at the quantized values. */
public class QuantConv2DImpl extends ConvolutionLayer {
    private static final String W = ConvolutionParamInitializer.WEIGHT_KEY;
    private static final String B = ConvolutionParamInitializer.BIAS_KEY;
    /** Output-channel axis of conv weights {@code [nOut, nIn, kH, kW]}. */
    static final int WEIGHT_CHANNEL_AXIS = 0;

    private final SiteRuntime rt;

    public QuantConv2DImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
        this.rt = new SiteRuntime(this, ((QuantConv2D) conf.getLayer()).getQuantSites(), W, WEIGHT_CHANNEL_AXIS, B);
    }

    private void quantizeInput(boolean training, LayerWorkspaceMgr mgr) {
        input = rt.inputForCompute(input, training, mgr);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
        assertInputSet(false);
        quantizeInput(training, mgr);
        INDArray y = super.activate(training, mgr);
        return rt.quantizeOutput(y, training, mgr);
    }

    /**
     * With an accumulator format in the sites, the convolution is computed here as an im2col product accumulated by
     * {@link io.qat4j.layers.train.ChunkedAccumulation} (NCHW only); otherwise DL4J's convolution.
     */
    @Override
    protected Pair<INDArray, INDArray> preOutput(boolean training, boolean forBackprop, LayerWorkspaceMgr mgr) {
        QuantSites sites = ((QuantConv2D) layerConf()).getQuantSites();
        if (sites.accumulation().isFloat()) {
            return super.preOutput(training, forBackprop, mgr);
        }
        assertInputSet(false);
        if (layerConf().getCnn2dDataFormat() != CNN2DFormat.NCHW) {
            throw new IllegalStateException("layer " + layerConf().getLayerName() + ": emulated accumulation ("
                    + sites.accumulation() + ") needs NCHW activations, got " + layerConf().getCnn2dDataFormat());
        }
        INDArray weights = getParamWithNoise(W, training, mgr);
        INDArray bias = hasBias() ? getParamWithNoise(B, training, mgr) : null;
        INDArray x = input.castTo(weights.dataType());
        Geometry g = geometry(x);
        long outDepth = weights.size(0);
        INDArray col = AccumulationSupport.im2col(x, weights.size(2), weights.size(3), g.stride, g.pad, g.dilation,
                convolutionMode == ConvolutionMode.Same, g.outH, g.outW);
        INDArray w2d = weights.reshape('c', outDepth, col.size(1)).transpose();
        INDArray z2d = AccumulationSupport.product(sites, col, w2d, bias, training);
        INDArray z = z2d.reshape('c', x.size(0), g.outH, g.outW, outDepth).permute(0, 3, 1, 2);
        return new Pair<>(mgr.dup(ArrayType.ACTIVATIONS, z, 'c'), forBackprop ? col : null);
    }

    /** Strides, top-left padding, dilation and output size of this layer on an NCHW input. */
    private record Geometry(int[] stride, int[] pad, int[] dilation, int outH, int outW) {
    }

    private Geometry geometry(INDArray x) {
        int[] kernel = layerConf().getKernelSize();
        int[] stride = layerConf().getStride();
        int[] dilation = layerConf().getDilation();
        boolean same = convolutionMode == ConvolutionMode.Same;
        int[] outSize = ConvolutionUtils.getOutputSize(x, kernel, stride, same ? null : layerConf().getPadding(),
                convolutionMode, dilation, CNN2DFormat.NCHW);
        int[] pad = same ? ConvolutionUtils.getSameModeTopLeftPadding(outSize, new int[] {(int) x.size(2),
            (int) x.size(3)}, kernel, stride, dilation) : layerConf().getPadding();
        return new Geometry(stride, pad, dilation, outSize[0], outSize[1]);
    }

    /**
     * DL4J's convolution backward pass (its built-in, non-helper path) with the three products accumulated in the
     * sites' format: the weight gradient over the N·outH·outW output positions, the bias gradient, and the error of
     * each input patch over the output channels (col2im then adds the overlapping patches in float32).
     */
    private Pair<Gradient, INDArray> accumulatedBackprop(INDArray epsilon, LayerWorkspaceMgr mgr) {
        assertInputSet(true);
        QuantSites sites = ((QuantConv2D) layerConf()).getQuantSites();
        INDArray weights = getParamWithNoise(W, true, mgr);
        INDArray x = input.castTo(weights.dataType());
        Pair<INDArray, INDArray> p = preOutput(true, true, mgr);
        INDArray delta = layerConf().getActivationFn().backprop(p.getFirst(), epsilon.castTo(weights.dataType()))
                .getFirst();
        INDArray col = p.getSecond();
        long n = delta.size(0);
        long outDepth = delta.size(1);
        // rows (sample, output row, output column) as in the im2col matrix
        INDArray delta2d = delta.permute(0, 2, 3, 1).dup('c').reshape('c', n * delta.size(2) * delta.size(3),
                outDepth);
        Gradient ret = new DefaultGradient();
        if (hasBias()) {
            INDArray biasGrad = gradientViews.get(B);
            biasGrad.assign(AccumulationSupport.columnSums(sites, delta2d).reshape(biasGrad.shape()));
            ret.setGradientFor(B, biasGrad);
        }
        INDArray weightGrad = gradientViews.get(W);
        weightGrad.assign(AccumulationSupport.product(sites, delta2d.transpose(), col, null, true)
                .reshape('c', weightGrad.shape()));
        ret.setGradientFor(W, weightGrad, 'c');
        INDArray epsCol = AccumulationSupport.product(sites, delta2d, weights.reshape('c', outDepth, col.size(1)), null,
                true);
        Geometry g = geometry(x);
        INDArray eps6d = epsCol.reshape('c', n, g.outH, g.outW, weights.size(1), weights.size(2), weights.size(3))
                .permute(0, 3, 4, 5, 1, 2);
        int inH = (int) x.size(2);
        int inW = (int) x.size(3);
        INDArray epsNext = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, eps6d.dataType(),
                new long[] {n, x.size(1), inH, inW}, 'c');
        Convolution.col2im(eps6d, epsNext, g.stride[0], g.stride[1], g.pad[0], g.pad[1], inH, inW, g.dilation[0],
                g.dilation[1]);
        weightNoiseParams.clear();
        return new Pair<>(ret, backpropDropOutIfPresent(epsNext));
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        quantizeInput(true, mgr);
        boolean accumulate = ((QuantConv2D) layerConf()).getQuantSites().accumulateBackward();
        return rt.backprop(epsilon, mgr, gradientViews,
                e -> accumulate ? accumulatedBackprop(e, mgr) : super.backpropGradient(e, mgr));
    }

    @Override
    protected INDArray getParamWithNoise(String param, boolean training, LayerWorkspaceMgr mgr) {
        return rt.param(param, training, weightNoiseParams, () -> super.getParamWithNoise(param, training, mgr));
    }
}
